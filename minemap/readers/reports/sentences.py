"""The text of a report: cleaning, the dateline, and sentences.

Everything here is linear in the length of the text: each regular expression
is applied once per line or per sentence and none of them backtracks over
more than a bounded window.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from minemap.readers.reports.periods import DAY, MONTH, YEAR, month_number

__all__ = ["Sentence", "Dateline", "clean", "find_dateline", "split_sentences"]


@dataclass
class Sentence:
    """One sentence of the body, numbered from 0 in text order."""

    index: int
    text: str


@dataclass
class Dateline:
    """The date the report was published, and where it was read."""

    date: date | None
    text: str
    note: str = ""


def clean(text: str) -> str:
    """Compose accents, make hyphens and apostrophes plain, unify line ends."""
    text = unicodedata.normalize("NFC", text)
    text = re.sub("[\u2010\u2011\u2012\u00ad]", "-", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return text.replace("\r\n", "\n").replace("\r", "\n")


# "date 2022-01-17", "Published: 17 January 2022", "Posted on January 17, 2022".
_PUBLISHED = re.compile(
    r"^\s*(?:date|published(?:\s+on)?|posted(?:\s+on)?|updated(?:\s+on)?)\s*:?\s*",
    re.IGNORECASE,
)
# Page furniture whose date is not the report's: a crawl, an access, a print.
_FURNITURE = re.compile(
    r"\b(?:crawl(?:ed)?|retrieved|accessed|fetched|downloaded|printed|archived|today)\b",
    re.IGNORECASE,
)
_FULL_DATES = (
    re.compile(r"\b(?P<y>(?:19|20)\d{2})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d)"),
    re.compile(rf"\b(?P<m>{MONTH})\s*(?P<d>{DAY}),?\s+(?P<y>{YEAR})", re.IGNORECASE),
    re.compile(rf"\b(?P<d>{DAY})\s+(?:of\s+)?(?P<m>{MONTH}),?\s+(?P<y>{YEAR})", re.IGNORECASE),
    re.compile(r"\b(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>(?:19|20)\d{2})\b"),
)
# A news dateline: "BAKU, Azerbaijan, December 15." or "Baku, 15 December 2025 (Trend):".
_CITY = r"[A-Z][A-Za-z'\-]+(?:\s[A-Z][A-Za-z'\-]+)?"
_NEWS = re.compile(
    rf"\s*(?P<place>{_CITY}(?:,\s*{_CITY})?),\s*"
    rf"(?:(?P<m1>{MONTH})\s*(?P<d1>{DAY})|(?P<d2>{DAY})\s+(?P<m2>{MONTH}))"
    rf"(?:,?\s+(?P<y>{YEAR}))?\s*(?:\([^()\n]{{1,30}}\)|,\s*[A-Z][\w.]{{1,20}})?\s*[.:\-–—/]+\s*",
    re.IGNORECASE,
)


def _full_date(line: str) -> tuple[date, re.Match[str]] | None:
    hits = [m for rx in _FULL_DATES for m in rx.finditer(line)]
    for m in sorted(hits, key=lambda h: h.start()):
        try:
            d = int(re.match(r"\d+", m.group("d")).group(0))  # type: ignore[union-attr]
            return date(int(m.group("y")), month_number(m.group("m")), d), m
        except (ValueError, KeyError):
            continue
    return None


def _is_prose(line: str, nxt: str) -> bool:
    """Whether a leading line is prose rather than a headline, byline or date."""
    words = len(line.split())
    stripped = line.strip()
    return words > 12 or (words >= 4 and bool(re.search(r"[.!?\"”]$", stripped))) or (
        # Prose runs on into a lower-case line; a "date …" line is not prose.
        words > 6 and nxt[:1].islower() and not _PUBLISHED.match(nxt)
    ) or (
        # A line that stops mid-phrase is hard-wrapped prose, not a headline.
        words >= 3 and bool(nxt) and bool(_MID_PHRASE.search(stripped))
    )


_MID_PHRASE = re.compile(r"(?:[,;(\-]|\b(?:and|or|of|the|a|an|to|in|from|with|by|for|on|at))$",
                         re.IGNORECASE)


def find_dateline(text: str) -> tuple[Dateline | None, str, list[str]]:
    """The report's dateline, the body without its leading lines, and notes for ``-v``.

    The leading lines before the prose (a headline, a byline, dates) are not
    the body: a headline's rounded figures are never read.  The dateline is,
    in this order of preference: a news dateline ("BAKU, Azerbaijan,
    December 15." at the start of a line), a "date …" or "Published …" line,
    or the earliest full date in the leading lines.  A news dateline without a
    year takes the year of a leading date with the same month and day.  Other
    dates (a site header, a crawl date) are page furniture and never set the
    year.
    """
    notes: list[str] = []
    lines = text.split("\n")
    filled = [i for i, ln in enumerate(lines) if ln.strip()]
    head: list[int] = []
    prose: int | None = None
    for k, i in enumerate(filled[:8]):
        nxt = lines[filled[k + 1]].strip() if k + 1 < len(filled) and filled[k + 1] == i + 1 else ""
        if _is_prose(lines[i], nxt):
            prose = i
            break
        head.append(i)
    published: tuple[date, int, int] | None = None   # date, line, end of the date
    leading: list[tuple[date, int]] = []
    news: tuple[re.Match[str], int] | None = None
    for i in [*head, *([prose] if prose is not None else [])]:
        line = lines[i]
        pub = _PUBLISHED.match(line)
        found = _full_date(line)
        if found and _FURNITURE.search(line):
            notes.append(f"page furniture ignored: '{line.strip()[:80]}'")
        elif found and pub and found[1].start() <= pub.end() + 1 and published is None:
            published = (found[0], i, found[1].end())
        elif found and i != prose:
            leading.append((found[0], i))
        start = published[2] if published and published[1] == i else 0
        if news is None and (m := _NEWS.match(line, start)):
            news = (m, i)
    # Several leading dates: a site header or a crawl shows the day the page was
    # saved, which is never before the publication, so the earliest is the report's.
    first = min(leading, default=None)
    chosen: Dateline | None = None
    if news is not None:
        m, i = news
        mon = month_number(m.group("m1") or m.group("m2"))
        day = int(re.match(r"\d+", m.group("d1") or m.group("d2")).group(0))  # type: ignore[union-attr]
        year = int(m.group("y")) if m.group("y") else None
        if year is None:
            for cand in ([published] if published else []) + leading:
                if (cand[0].month, cand[0].day) == (mon, day):
                    year = cand[0].year
                    break
        try:
            chosen = Dateline(date(year, mon, day) if year else None, m.group(0).strip(" .:-–—/"))
        except ValueError:
            news = None
        if chosen is not None and year is None:
            chosen.note = "the dateline has no year and no leading date gives it"
    if chosen is None and published is not None:
        chosen = Dateline(published[0], lines[published[1]][:published[2]].strip())
    if chosen is None and first is not None:
        chosen = Dateline(first[0], lines[first[1]].strip())
        for _d, i in leading:
            if i != first[1]:
                notes.append(f"page furniture ignored: '{lines[i].strip()[:80]}'")
    if chosen is not None:
        notes.insert(0, f"dateline: '{chosen.text}'"
                     + (f" = {chosen.date.isoformat()}" if chosen.date else " (no year)"))
    for i in head:
        rest = lines[i][published[2]:] if published and published[1] == i else lines[i]
        if rest.strip() and not (news and news[1] == i):
            notes.append(f"leading line not read: '{rest.strip()[:80]}'")
        lines[i] = ""
    if prose is not None:
        line = lines[prose]
        cut = published[2] if published and published[1] == prose else 0
        if news and news[1] == prose:
            cut = max(cut, news[0].end())
        lines[prose] = line[cut:]
    return chosen, "\n".join(lines), notes


_ABBREVIATIONS = frozenset({
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "no",
    "nos", "mr", "mrs", "ms", "dr", "st", "vs", "approx", "gen", "lt", "col", "maj", "capt",
    "prof", "e.g", "i.e", "etc", "sq",
})
_SENTENCE_END = re.compile(r"[.!?][\"”')\]]*\s+")
_WORD_BEFORE = re.compile(r"([\w.]{1,12})$")


def _is_break(chunk: str, m: re.Match[str]) -> bool:
    nxt = chunk[m.end():m.end() + 1]
    if not (nxt.isupper() or nxt.isdigit() or nxt in "\"“'("):
        return False
    # Look back a bounded window only, so that splitting stays linear.
    before = _WORD_BEFORE.search(chunk[max(0, m.start() - 12):m.start()])
    word = before.group(1).lower() if before else ""
    return not (word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()))


def split_sentences(body: str) -> list[Sentence]:
    """Split prose into sentences; hard-wrapped lines are joined first.

    A short line without final punctuation (a headline, a byline) ends its own
    sentence, so that it does not run into the next one.
    """
    out: list[str] = []
    for para in re.split(r"\n[ \t]*\n", body):
        lines = [ln.strip() for ln in para.split("\n") if ln.strip()]
        widest = max((len(ln) for ln in lines), default=0)
        chunks: list[str] = []
        current: list[str] = []
        for i, line in enumerate(lines):
            current.append(line)
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if (
                nxt
                and len(line.split()) <= 8
                and len(line) < 0.6 * widest
                and not re.search(r"[,;:\"”(\-]$|\b(?:and|or|of|the|a|an|to|in|from)$", line)
                and nxt[:1].isupper()
            ):
                chunks.append(" ".join(current))
                current = []
        if current:
            chunks.append(" ".join(current))
        for chunk in chunks:
            # Lines are joined with a space; "anti-⏎personnel" becomes "anti- personnel",
            # which the figures' grammar reads as one word.
            chunk = re.sub(r"[ \t]+", " ", chunk)
            start = 0
            for m in _SENTENCE_END.finditer(chunk):
                if _is_break(chunk, m):
                    out.append(chunk[start:m.end()].strip())
                    start = m.end()
            tail = chunk[start:].strip()
            if tail:
                out.append(tail)
    return [Sentence(i, s) for i, s in enumerate(out)]
