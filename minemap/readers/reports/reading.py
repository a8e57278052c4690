"""One report text → the figures it states for its own period.

The steps, each a small piece of its own module:

1. the dateline (:mod:`.sentences`), which gives the year;
2. sentences, and in each the periods (:mod:`.periods`), the figures
   (:mod:`.figures`) and the district names (:mod:`.places`);
3. the report's period: the first date range not marked as another period
   ("the previous week", "since", "previously" …); a whole month only when
   the text gives no range;
4. each sentence's context: the period it names, else the period of the
   sentences before it.  Background sentences (another date, "since 2020",
   "so far", a cumulative total, an incident) and sentences about another
   period give no figure;
5. each figure from the sentences about the report's period.  A rounding
   ("Over 500 …") is not a figure.  A figure not stated is ``None``; two
   different values for one figure are refused, naming both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from minemap import settings
from minemap._errors import DataError, Problem
from minemap.readers.reports.figures import KINDS, Mention, find_mentions
from minemap.readers.reports.periods import Period, find_periods
from minemap.readers.reports.places import districts_in
from minemap.readers.reports.sentences import Sentence, clean, find_dateline, split_sentences

__all__ = ["ReportReading", "read_report_text", "parse_report"]

# Another period, or a total that is not the period's.
_BACKGROUND = re.compile(
    r"\b(?:since|previously|earlier|so\s+far|to\s+date|until\s+now|up\s+to\s+now|thus\s+far"
    r"|cumulative(?:ly)?|overall|altogether\s+since|in\s+total\s+since|this\s+year|last\s+year"
    r"|the\s+year|this\s+month|last\s+month|the\s+month|monthly|annual|yearly"
    r"|(?:previous|preceding|prior)\s+(?:week|period|month|year)|week\s+before"
    r"|a\s+week\s+(?:earlier|before|ago)|beginning\s+of\s+(?:the\s+)?(?:year|month)"
    r"|(?:in|during|of)\s+(?:19|20)\d{2}\b|as\s+a\s+whole|in\s+all)\b",
    re.IGNORECASE,
)
# A date that is not the period's: a day, or a year on its own.
_OTHER_DATE = re.compile(
    r"\b(?i:january|february|march|april|may|june|july|august|september|october|november"
    r"|december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\b\.?\s*\d{1,2}(?!\d)"
    r"|(?<![\d.,])\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:January|February|March|April|May|June"
    r"|July|August|September|October|November|December)\b"
    r"|\b(?:19|20)\d{2}\b(?!\s*(?:anti|unexploded|UXO|mines?|hectares?|ha\b))",
)
# Mine incidents: their figures are not finds.
_INCIDENT = re.compile(
    r"\b(?:explo(?:sion|sions|ded)|blasts?|detonated|killed|injured|wounded|victims?"
    r"|casualt(?:y|ies)|incidents?|stepped\s+on|died|lost\s+(?:his|her|their)\s+li(?:fe|ves))\b",
    re.IGNORECASE,
)
# What follows these in a sentence compares with another period.
_COMPARISON = re.compile(
    r"\b(?:compared\s+(?:with|to)|as\s+against|versus|vs\.?|up\s+from|down\s+from"
    r"|as\s+opposed\s+to|whereas|while\s+in\s+the)\b",
    re.IGNORECASE,
)
# A sentence without a date that still speaks of the report's week.
_THIS_PERIOD = re.compile(
    r"\b(?:(?:said|same|this|that|reporting|reported|given|above)\s+period"
    r"|(?:this|last|past|the)\s+week|during\s+the\s+week|weekly\s+report)\b",
    re.IGNORECASE,
)
# A period marked as another: "the previous week (January 3-8)", "compared with …".
_OTHER_PERIOD_BEFORE = re.compile(
    r"(?:previous|preceding|prior|last\s+year|earlier|compared\s+(?:with|to)|against|since"
    r"|previously|versus|from\s+the|week\s+before)\W{0,4}(?:\w+\W+){0,3}$",
    re.IGNORECASE,
)
_WHERE = re.compile(
    r"\b(?:operations?|conducted|carried\s+out|covered|took\s+place|performed|held"
    r"|continued|underway|worked|working|operated|operating|spanned|included|including"
    r"|territor(?:y|ies)|regions?|districts?|areas?)\b",
    re.IGNORECASE,
)


@dataclass
class ReportReading:
    """What one report text states for its period, and how it was read.

    Attributes
    ----------
    record
        ``date_start``, ``date_end`` (dates), ``districts`` (list or None),
        ``found_ap``, ``found_at``, ``found_uxo`` (int or None),
        ``cleared_ha`` (float or None) and ``source_file``; None when refused.
    problems
        The refusals (errors); empty when the text was read.
    notes
        For ``-v``: which sentence gave which figure, what was ignored.
    """

    record: dict[str, Any] | None
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Facts:
    sentence: Sentence
    periods: list[Period]
    mentions: list[Mention]
    background: bool
    incident: bool
    comparison_at: int


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for a, b in spans:
        chars[a:b] = " " * (b - a)
    return "".join(chars)


def _facts(s: Sentence, dateline) -> _Facts:
    periods = find_periods(s.index, s.text, dateline)
    mentions = find_mentions(s.index, s.text)
    rest = _blank(s.text, [p.span for p in periods] + [m.span for m in mentions])
    cmp_ = _COMPARISON.search(s.text)
    return _Facts(
        s, periods, mentions,
        background=bool(_BACKGROUND.search(rest) or _OTHER_DATE.search(rest)),
        incident=bool(_INCIDENT.search(s.text)),
        comparison_at=cmp_.start() if cmp_ else len(s.text),
    )


def _marked_other(f: _Facts, p: Period) -> bool:
    """Whether a period is another one: in a background sentence, or introduced
    as the previous week, a comparison, "since" …"""
    before = f.sentence.text[max(0, p.span[0] - 60):p.span[0]]
    if _OTHER_PERIOD_BEFORE.search(before) or p.span[0] >= f.comparison_at:
        return True
    blank = _blank(f.sentence.text, [q.span for q in f.periods] + [m.span for m in f.mentions])
    return bool(_BACKGROUND.search(blank))


def _quote(text: str, limit: int = 100) -> str:
    return f"'{text}'" if len(text) <= limit else f"'{text[:limit - 1]}…'"


def read_report_text(text: str, *, source: str = "<text>") -> ReportReading:
    """Read one report text; see :mod:`minemap.readers.reports`.

    Parameters
    ----------
    text
        The report as published (a dateline, then prose).
    source
        File name for messages and ``source_file``.

    Returns
    -------
    ReportReading
        The record (or None with the problems that refused it) and notes.
    """
    notes: list[str] = []

    def refuse(message: str) -> ReportReading:
        return ReportReading(None, [Problem(source, None, message)], notes)

    limit = settings.report_max_bytes
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limit:
        return refuse(f"the text is {size:,} bytes, more than a report can be "
                      f"(settings.report_max_bytes = {limit:,}); not read")
    dateline, body, dl_notes = find_dateline(clean(text))
    notes += dl_notes
    facts = [_facts(s, dateline.date if dateline else None) for s in split_sentences(body)]

    # --- the report's period
    eligible = [(f, p) for f in facts for p in f.periods if not _marked_other(f, p)]
    ranges = [fp for fp in eligible if not fp[1].whole_month]
    chosen = (ranges or eligible or [None])[0]
    if chosen is None:
        shown = "; ".join(_quote(p.text) for f in facts for p in f.periods)
        return refuse("no period found (expected e.g. 'from January 10 to 15', "
                      "'on October 17-22' or 'in March')"
                      + (f"; only other periods: {shown}" if shown else ""))
    pf, period = chosen
    if period.error:
        if dateline and dateline.note and "year" in period.error:
            return refuse(f"period {_quote(period.text)}: {dateline.note}")
        return refuse(f"period {_quote(period.text)}: {period.error}")
    notes.append(f"period {period.start}..{period.end} from sentence {pf.sentence.index + 1}: "
                 f"{_quote(pf.sentence.text)}")
    for f in facts:
        for p in f.periods:
            if p is not period and (p.start, p.end) != (period.start, period.end):
                notes.append(f"other period ignored: {_quote(p.text)} in sentence "
                             f"{f.sentence.index + 1}")

    # --- each sentence's context: True when it is about the report's period
    about: dict[int, bool] = {}
    current: bool | None = None
    for f in facts:
        i = f.sentence.index
        same = [p for p in f.periods if (p.start, p.end) == (period.start, period.end)
                and not _marked_other(f, p)]
        if same:
            about[i] = current = True
        elif f.periods:
            about[i] = False
            current = False
        elif f.background:
            about[i] = False
        elif current is None:
            # Before any period: a lede about "this week" is the period's.
            about[i] = bool(_THIS_PERIOD.search(f.sentence.text))
        else:
            about[i] = current

    # --- figures
    record: dict[str, Any] = {"date_start": period.start, "date_end": period.end}
    problems: list[Problem] = []
    gave: set[int] = set()
    for kind, label in KINDS.items():
        used: list[Mention] = []
        for f in facts:
            for m in f.mentions:
                if m.kind != kind:
                    continue
                where = f"sentence {f.sentence.index + 1}"
                if not about[f.sentence.index]:
                    continue
                if m.rounding:
                    notes.append(f"rounding ignored: {_quote(m.text)} ({m.rounding}) in {where}")
                elif kind != "cleared_ha" and f.incident:
                    notes.append(f"incident figure ignored: {_quote(m.text)} in {where}")
                elif m.span[0] >= f.comparison_at:
                    notes.append(f"comparison ignored: {_quote(m.text)} in {where}")
                else:
                    used.append(m)
        bad = [m for m in used if m.error]
        if bad:
            problems.append(Problem(source, None, f"{label} in {_quote(bad[0].text)}: "
                                    f"{bad[0].error}"))
            continue
        values = list(dict.fromkeys(m.value for m in used))
        if len(values) > 1:
            a = next(m for m in used if m.value == values[0])
            b = next(m for m in used if m.value == values[1])
            problems.append(Problem(
                source, None, f"two different values for the {label} of the period "
                f"{period.start}..{period.end}: {_quote(a.text)} and {_quote(b.text)}"))
            continue
        if not used:
            record[kind] = None
            notes.append(f"{kind} = null: not stated for the period")
            continue
        record[kind] = used[0].value
        for m in used:
            gave.add(m.sentence)
            notes.append(f"{kind} = {used[0].value} from sentence {m.sentence + 1}: "
                         f"{_quote(m.text)}")
    if problems:
        return ReportReading(None, problems, notes)

    # --- districts: the period's sentence and those giving figures, else the
    # other sentences about the period that say where the work was done.
    groups: dict[int, list[tuple[int, list[str], list[str]]]] = {0: [], 1: []}
    for f in facts:
        i = f.sentence.index
        if not about[i] or f.incident:
            continue
        names, ignored = districts_in(f.sentence.text)
        if not (names or ignored):
            continue
        group = 0 if (f is pf or i in gave) else 1 if _WHERE.search(f.sentence.text) else None
        if group is not None:
            groups[group].append((i, names, ignored))
    best = groups[0] if any(n for _, n, _ in groups[0]) else groups[1]
    districts: list[str] = []
    for i, names, ignored in best:
        districts += [n for n in names if n not in districts]
        for name in ignored:
            notes.append(f"place name ignored (not a district): '{name}' in sentence {i + 1}")
        if names:
            notes.append(f"districts {', '.join(names)} from sentence {i + 1}")
    record["districts"] = districts or None
    if not districts:
        notes.append("districts = null: no district list for the period")
    record["source_file"] = source
    order = ("date_start", "date_end", "districts", "found_ap", "found_at", "found_uxo",
             "cleared_ha", "source_file")
    return ReportReading({k: record[k] for k in order}, [], notes)


def parse_report(text: str, *, source: str = "<text>") -> dict[str, Any]:
    """Read one weekly or monthly report text into a period record.

    Parameters
    ----------
    text
        The report as published: a dateline in its first lines (e.g. ``date
        2022-01-17 By Azernews`` or ``BAKU, Azerbaijan, January 17.``), then
        prose giving the period, the districts, the counts of antipersonnel
        mines, anti-tank mines and unexploded ordnance found, and the hectares
        cleared.
    source
        Name of the file (or other source) for messages and ``source_file``.

    Returns
    -------
    dict
        ``date_start``, ``date_end`` (:class:`datetime.date`), ``districts``
        (canonical names in order of mention, or None when the text names
        none), ``found_ap``, ``found_at``, ``found_uxo`` (int, or None when not
        stated), ``cleared_ha`` (float or None) and ``source_file``.

    Raises
    ------
    minemap._errors.DataError
        When the text has no period, a figure cannot be read safely (the
        hectare ambiguity of ``examples/README.md``), or one figure of the
        period has two different values.  One line naming ``source``.

    Examples
    --------
    >>> r = parse_report(
    ...     "date 2022-02-14 By Azernews\\n\\n"
    ...     "19 anti-personnel mines and 143 unexploded ordnance "
    ...     "were found and neutralized from February 7 to 12 in Tartar and Fizuli regions. "
    ...     "A total of 94,8 hectares were cleared in the said period.")
    >>> r["date_start"], r["date_end"], r["districts"]
    (datetime.date(2022, 2, 7), datetime.date(2022, 2, 12), ['Tartar', 'Fuzuli'])
    >>> r["found_ap"], r["found_at"], r["found_uxo"], r["cleared_ha"]
    (19, None, 143, 94.8)
    """
    reading = read_report_text(text, source=source)
    if reading.record is None:
        first = reading.problems[0]
        more = len(reading.problems) - 1
        raise DataError(f"{first}" + (f" (and {more} more)" if more else ""), reading.problems)
    return reading.record
