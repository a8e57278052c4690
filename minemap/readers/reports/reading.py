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
    r"|cumulative(?:ly)?|overall|altogether|this\s+year|last\s+year|last\s+month"
    r"|monthly|annual|yearly|(?:previous|preceding|prior)\s+(?:week|period|month|year)"
    r"|week\s+before|a\s+week\s+(?:earlier|before|ago)|beginning\s+of\s+(?:the\s+)?(?:year|month)"
    r"|(?:in|during|of|for)\s+(?:19|20)\d{2}\b|as\s+a\s+whole|bringing\s+the\s+total)\b",
    re.IGNORECASE,
)
# A date that is not the period's: a day, or a year on its own.
_OTHER_DATE = re.compile(
    r"\b(?i:january|february|march|april|may|june|july|august|september|october|november"
    r"|december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\b\.?\s*\d{1,2}(?!\d)"
    r"|(?<![\d.,])\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:January|February|March|April|May|June"
    r"|July|August|September|October|November|December)\b"
    r"|\b(?:19|20)\d{2}\b"
)
# Mine incidents: their figures are not finds.
_INCIDENT = re.compile(
    r"\b(?:explo(?:sion|sions|ded)|blasts?|detonated|killed|injured|wounded|victims?"
    r"|casualt(?:y|ies)|incidents?|stepped\s+on|died|lost\s+(?:his|her|their)\s+li(?:fe|ves))\b",
    re.IGNORECASE,
)
# What follows these compares with another period.
_COMPARISON = re.compile(
    r"\b(?:compared\s+(?:with|to)|as\s+against|versus|vs\.?|up\s+from|down\s+from"
    r"|as\s+opposed\s+to|whereas|while\s+in\s+the)\b",
    re.IGNORECASE,
)
_MARKERS = (_BACKGROUND, _OTHER_DATE, _INCIDENT, _COMPARISON)
# A sentence without a date that speaks of the report's period.
_THIS_PERIOD = re.compile(
    r"\b(?:(?:said|same|this|reporting|reported|given|above)\s+period"
    r"|(?:this|last|past|the)\s+week|during\s+the\s+week|weekly\s+report)\b",
    re.IGNORECASE,
)
# A period introduced as another: "the previous week (January 3-8)", "since …".
_OTHER_PERIOD_BEFORE = re.compile(
    r"\b(?:previous|preceding|prior|last\s+year|earlier|compared\s+(?:with|to)|since"
    r"|previously|versus|week\s+before)\b\W{0,4}(?:\w+\W+){0,3}$",
    re.IGNORECASE,
)
_CLAUSE_START = re.compile(r"[,;:(\u2013\u2014]|\s-\s")
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
        The refusals (errors) when the text was refused; when it was read,
        only warnings (a figure in words that are no number, read as null).
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
    cut: int = 0          # figures from here on are background, incident or comparison
    about: bool = False   # the sentence is about the report's period


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for a, b in spans:
        chars[a:b] = " " * (b - a)
    return "".join(chars)


def _cut(f: _Facts, after: int) -> int:
    """Start of the first clause (from ``after`` on) that is background: another
    date, "since", a cumulative total, an incident, a comparison."""
    text = f.sentence.text
    rest = _blank(text, [p.span for p in f.periods] + [m.span for m in f.mentions])
    hits = [m.start() for rx in _MARKERS if (m := rx.search(rest, after))]
    if not hits:
        return len(text)
    at = min(hits)
    starts = [m.end() for m in _CLAUSE_START.finditer(rest, after, at)]
    return max(starts, default=after)


def _marked_other(f: _Facts, p: Period) -> bool:
    """Whether a period is introduced as another ("the previous week (…)")."""
    before = f.sentence.text[max(0, p.span[0] - 60):p.span[0]]
    return bool(_OTHER_PERIOD_BEFORE.search(before))


def _quote(text: str, limit: int = 100) -> str:
    return f"'{text}'" if len(text) <= limit else f"'{text[:limit - 1]}…'"


def _choose_period(facts: list[_Facts]) -> tuple[_Facts, Period] | None:
    """The report's period: the first range not introduced as another; a whole
    month only when the text gives no such range."""
    eligible = [(f, p) for f in facts for p in f.periods if not _marked_other(f, p)]
    ranges = [fp for fp in eligible if not fp[1].whole_month]
    return (ranges or eligible or [None])[0]


def _headline_facts(cleaned: str, body: str, dateline) -> list[_Facts]:
    """Periods of the leading lines (a headline) that the body does not contain.

    Only their periods are read, never their figures: a headline rounds.
    """
    out = []
    for line, kept in zip(cleaned.split("\n"), body.split("\n")):
        head = line[:len(line) - len(kept)] if kept and line.endswith(kept) else line
        if not head.strip() or (kept and kept == line):
            continue
        s = Sentence(-1, head.strip())
        out.append(_Facts(s, find_periods(-1, s.text, dateline), []))
    return out


def _contexts(facts: list[_Facts], period: Period, *, from_headline: bool = False) -> None:
    """Mark the sentences about the report's period, and where their background starts.

    A sentence naming the period is about it; one naming another period is not,
    nor are those after it until the period is named again.  A sentence that is
    background from its start is not about the period, and after it only a
    sentence that refers back ("in the said period") is.
    """
    key = (period.start, period.end)
    # A period named only in the headline is what the whole body speaks of,
    # until the body names another.
    current: bool | None = True if from_headline else None  # undated sentences about it?
    last_named: bool | None = True if from_headline else None  # the last period named ours?
    for f in facts:
        own = [p for p in f.periods if (p.start, p.end) == key and not _marked_other(f, p)]
        if own:
            f.cut = _cut(f, own[0].span[0])
            f.about = current = last_named = True
            continue
        f.cut = _cut(f, 0)
        if f.periods:
            f.about, current, last_named = False, False, False
        elif f.cut == 0:
            f.about, current = False, False
        elif current or (_THIS_PERIOD.search(f.sentence.text[:f.cut]) and last_named is not False):
            f.about = current = True
        else:
            f.about = False


def _figures(facts: list[_Facts], period: Period, source: str, notes: list[str],
             warnings: list[Problem]) -> tuple[dict[str, Any], list[Problem], set[int]]:
    """Each figure of the period, the refusals, and the sentences that gave one.

    Figures the text gives in words that are no number add a warning to
    `warnings` and are null.
    """
    record: dict[str, Any] = {}
    problems: list[Problem] = []
    gave: set[int] = set()
    for kind, label in KINDS.items():
        used: list[Mention] = []
        unread: list[Mention] = []
        for f in facts:
            for m in f.mentions:
                if m.kind != kind:
                    continue
                where = f"sentence {f.sentence.index + 1}"
                if not f.about:
                    notes.append(f"not about the period, ignored: {_quote(m.text)} in {where}")
                elif m.span[0] >= f.cut:
                    notes.append(f"background ignored: {_quote(m.text)} in {where}")
                elif m.rounding:
                    notes.append(f"rounding ignored: {_quote(m.text)} ({m.rounding}) in {where}")
                elif m.unread:
                    unread.append(m)
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
        record[kind] = used[0].value if used else None
        if not used and unread:
            # Never a guess: a figure given in words that are no number is null.
            warnings.append(Problem(source, None, f"{label} in {_quote(unread[0].text)} is no "
                                    "number; read as not stated (null)", "warning"))
        if not used:
            notes.append(f"{kind} = null: not stated for the period")
        for m in used:
            gave.add(m.sentence)
            notes.append(f"{kind} = {m.value} from sentence {m.sentence + 1}: {_quote(m.text)}")
    return record, problems, gave


def _districts(facts: list[_Facts], pf: _Facts, gave: set[int], notes: list[str]
               ) -> list[str] | None:
    """The period's district list: from the period's sentence and those that gave
    a figure, else from the other sentences about the period that say where."""
    groups: dict[int, list[tuple[int, list[str], list[str]]]] = {0: [], 1: []}
    for f in facts:
        if not f.about:
            continue
        text = f.sentence.text[:f.cut]
        names, ignored = districts_in(text)
        if not (names or ignored):
            continue
        i = f.sentence.index
        group = 0 if (f is pf or i in gave) else 1 if _WHERE.search(text) else None
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
    if not districts:
        notes.append("districts = null: no district list for the period")
    return districts or None


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
    cleaned = clean(text)
    dateline, body, dl_notes = find_dateline(cleaned)
    notes += dl_notes
    day = dateline.date if dateline else None
    facts = [_Facts(s, find_periods(s.index, s.text, day), find_mentions(s.index, s.text))
             for s in split_sentences(body)]

    chosen = _choose_period(facts)
    from_headline = False
    if chosen is None:
        chosen = _choose_period(_headline_facts(cleaned, body, day))
        from_headline = chosen is not None
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
    where = "the headline" if from_headline else f"sentence {pf.sentence.index + 1}"
    notes.append(f"period {period.start}..{period.end} from {where}: "
                 f"{_quote(pf.sentence.text)}")
    for f in facts:
        for p in f.periods:
            if (p.start, p.end) != (period.start, period.end) or _marked_other(f, p):
                notes.append(f"other period ignored: {_quote(p.text)} in sentence "
                             f"{f.sentence.index + 1}")
    _contexts(facts, period, from_headline=from_headline)
    warnings: list[Problem] = []
    figures, problems, gave = _figures(facts, period, source, notes, warnings)
    if problems:
        return ReportReading(None, problems, notes)
    record = {
        "date_start": period.start, "date_end": period.end,
        "districts": _districts(facts, pf, gave, notes),
        **figures, "source_file": source,
    }
    return ReportReading(record, warnings, notes)


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
