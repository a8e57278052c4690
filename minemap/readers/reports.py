"""Weekly clearance reports: published texts (or a CSV of periods) → period records.

ANAMA's weekly reports, as relayed by news agencies, are short texts such as::

    date 2022-01-17 By Azernews
    Fourteen antipersonnel mines, an anti-tank mine, and 112 unexploded ordnance
    were found and neutralized during the demining operations in Tartar, Agdam,
    Fizuli, Shusha, Gubadli, Jabrayil, and Zangilan regions from January 10 to 15,
    the report added.
    A total of 51.8 hectares were cleared of mines and unexploded ordnance in the
    liberated areas in the said period.

:func:`parse_report` reads one such text into a period record; :func:`read_reports`
reads a ``.txt`` file (one report) or a ``.csv`` file (one period per row) into a
frame with the columns of :data:`minemap.records.schema.REPORT_COLUMNS`.

A report is read whole or refused: every figure (dates, districts, AP/AT/UXO
counts, hectares) must be found, unambiguously, in the sentences about the
period.  Background paragraphs (earlier handovers, casualty totals, anything
dated otherwise or marked "since", "previously" …) never contribute a figure.

Reading rules (``/work/shared/examples/README.md``):

* counts are whole numbers, so a dot or comma followed by three digits is a
  thousands separator ("8.086" is 8086); numbers may be words ("Fourteen",
  "Twenty-two", "an anti-tank mine", "no anti-tank mines");
* hectares: a comma followed by exactly three digits is a thousands separator
  ("1,250" is 1250), a comma followed by one or two digits is a decimal comma
  ("94,8"); a dot followed by exactly three digits ("1.250") is ambiguous and
  the report is refused; both separators ("2.790,9", "1,198.7") are unambiguous;
* year: the period ends on or before the dateline's date; the end takes the
  latest year that allows that, and the start takes the same year, or the year
  before when its month comes after the end's month.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pandas as pd

from minemap._errors import DataError, Problem, UsageError, raise_for_problems
from minemap.geo.districts import normalise
from minemap.records import schema

__all__ = ["parse_report", "read_reports", "CSV_COLUMNS"]

#: Columns a report CSV must have (any order; extra columns are ignored with a warning).
CSV_COLUMNS: tuple[str, ...] = (
    "date_start", "date_end", "districts", "found_ap", "found_at", "found_uxo", "cleared_ha",
)

# --------------------------------------------------------------------------- numbers

# Thousands separators seen besides "," and ".": no-break, narrow no-break and thin spaces.
_SPACES = "\u00a0\u202f\u2009"
_SEP_CLASS = f"[.,{_SPACES}]"
# A run of digits with separators, never starting inside another number ("8,5" must not
# yield "5"), and with every separator followed by a digit ("2021, 51.8" is two numbers).
_DIGITS = rf"(?<![\w.,{_SPACES}])\d+(?:{_SEP_CLASS}\d+)*"

_SMALL: dict[str, int] = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}
_TENS: dict[str, int] = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}
_WORD = (
    "(?:"
    + "|".join(sorted([*_SMALL, *_TENS, "hundred", "thousand"], key=len, reverse=True))
    + r")\b"
)
_WORDS = (
    rf"(?<![\w-])(?:an?\s+(?=hundred|thousand))?{_WORD}"
    rf"(?:(?:\s+and\s+|\s*-\s*|\s+){_WORD})*"
)
_ARTICLE = r"(?<![\w-])(?:a\s+single|an?|no)\b"
# A count: digits, number words, or "a"/"an"/"no" before a singular or plural noun.
_NUM = rf"(?:(?P<digits>{_DIGITS})|(?P<words>{_WORDS})|(?P<article>{_ARTICLE}))"
_NUM_PLAIN = rf"(?:{_DIGITS}|{_WORDS}|{_ARTICLE})"


class _Unreadable(ValueError):
    """A figure was found but cannot be read safely; the message says why."""


def _words_to_int(phrase: str) -> int:
    """Read an English number in words ("one hundred and twelve", "Twenty-two").

    Raises
    ------
    _Unreadable
        If the words do not form one well-formed number.
    """
    toks = re.findall(r"[a-z]+", phrase.lower())
    pos = 0

    def peek(k: int = 0) -> str | None:
        return toks[pos + k] if pos + k < len(toks) else None

    def below_thousand() -> int | None:
        nonlocal pos
        value = None
        # "a hundred", "three hundred"
        if peek(1) == "hundred" and (peek() in ("a", "an") or 1 <= _SMALL.get(peek() or "", 0) <= 9):
            value = 100 if peek() in ("a", "an") else _SMALL[toks[pos]] * 100
            pos += 2
            if peek() == "and":
                pos += 1
                if not (peek() in _SMALL or peek() in _TENS):
                    return None
        word = peek()
        if word in _TENS:
            rest = _TENS[word]
            pos += 1
            if 1 <= _SMALL.get(peek() or "", 0) <= 9:
                rest += _SMALL[toks[pos]]
                pos += 1
            value = (value or 0) + rest
        elif word in _SMALL and (value is None or _SMALL[word] > 0):
            value = (value or 0) + _SMALL[word]
            pos += 1
        return value

    if toks and toks[0] in ("a", "an") and peek(1) == "thousand":
        total = 1000
        pos = 2
        if peek() == "and":
            pos += 1
        low = below_thousand() if pos < len(toks) else 0
    else:
        high = below_thousand()
        if high is None:
            raise _Unreadable(f"'{phrase}' is not a number")
        if peek() == "thousand":
            pos += 1
            total = high * 1000
            if peek() == "and":  # "one thousand and five"
                pos += 1
                if pos == len(toks):
                    raise _Unreadable(f"'{phrase}' is not a number")
            low = below_thousand() if pos < len(toks) else 0
        else:
            total, low = 0, high
    if low is None or pos != len(toks) or (total and low and low >= 1000):
        raise _Unreadable(f"'{phrase}' is not a number")
    if "zero" in toks and len(toks) > 1:
        raise _Unreadable(f"'{phrase}' is not a number")
    return total + low


def _split_groups(token: str) -> tuple[list[str], list[str]]:
    """Digit groups and the separators between them."""
    groups = re.split(_SEP_CLASS, token)
    seps = re.findall(_SEP_CLASS, token)
    return groups, seps


def _thousands_ok(groups: list[str]) -> bool:
    """Whether ``groups`` read as one integer with thousands separators."""
    head, *rest = groups
    return (
        1 <= len(head) <= 3
        and not (head.startswith("0"))
        and bool(rest)
        and all(len(g) == 3 for g in rest)
    )


def _count_from_digits(token: str) -> int:
    """Read a whole-number count written in digits ("112", "1,204", "8.086").

    Raises
    ------
    _Unreadable
        If the digits are not a whole number with 3-digit groups.
    """
    groups, seps = _split_groups(token)
    if not seps:
        return int(token)
    if len(set(seps)) == 1 and _thousands_ok(groups):
        return int("".join(groups))
    raise _Unreadable(f"'{token}' is not a whole number")


def _hectares_from_digits(token: str) -> float:
    """Read a hectares figure written in digits, by the rules in the module docstring.

    Raises
    ------
    _Unreadable
        If the figure is ambiguous ("1.250") or malformed.
    """
    groups, seps = _split_groups(token)
    bad = _Unreadable(f"hectares figure '{token}' cannot be read")
    if not seps:
        return float(Decimal(token))
    kinds = set(seps)
    if len(kinds) > 1:
        # Both kinds: the last separator is the decimal mark, the others group thousands.
        decimal_mark = seps[-1]
        if decimal_mark in _SPACES or decimal_mark in seps[:-1]:
            raise bad
        if len(set(seps[:-1])) != 1 or not _thousands_ok(groups[:-1]):
            raise bad
        return float(Decimal("".join(groups[:-1]) + "." + groups[-1]))
    (mark,) = kinds
    if mark in _SPACES or len(seps) > 1:
        if _thousands_ok(groups):
            return float(Decimal("".join(groups)))
        raise bad
    whole, frac = groups
    if mark == ",":
        if len(frac) == 3:
            if _thousands_ok(groups):
                return float(Decimal(whole + frac))
            raise bad
        if len(frac) in (1, 2):
            return float(Decimal(f"{whole}.{frac}"))
        raise bad
    # A dot.
    if len(frac) == 3:
        raise _Unreadable(
            f"hectares figure '{token}' is ambiguous: a dot followed by exactly three digits "
            "may be a thousands separator or a decimal point"
        )
    return float(Decimal(f"{whole}.{frac}"))


def _count_value(m: re.Match[str]) -> int:
    """The count of a mention matched with :data:`_NUM`."""
    if m.group("digits"):
        return _count_from_digits(m.group("digits"))
    if m.group("words"):
        return _words_to_int(m.group("words"))
    article = " ".join(m.group("article").lower().split())
    return 0 if article == "no" else 1


# --------------------------------------------------------------------------- mentions

_MINE = r"(?:land)?mines?\b"
_LIST_NEXT = rf"(?=\s*,\s*(?:and\s+)?{_NUM_PLAIN}\s|\s+and\s+{_NUM_PLAIN}\s)"


def _mine_pattern(adjective: str) -> re.Pattern[str]:
    # "14 antipersonnel mines"; "14 anti-personnel, 6 anti-tank mines" (shared noun) is
    # accepted only when another number follows, so that "92,000 anti-tank and
    # anti-personnel mines" (one combined figure) is not read as an anti-tank count.
    return re.compile(
        rf"{_NUM}\s+{adjective}(?:\s+{_MINE}|{_LIST_NEXT})", re.IGNORECASE
    )


_AP = _mine_pattern(r"(?:anti\s*-?\s*personnel\b|(?-i:AP)\b)")
_AT = _mine_pattern(r"(?:anti\s*-?\s*tank\b|(?-i:AT)\b)")
_UXO = re.compile(
    rf"{_NUM}\s+(?:(?:pieces?|items?|units?)\s+of\s+)?"
    r"(?:unexploded\s+(?:explosive\s+)?(?:ordnances?|munitions?)\b|(?-i:UXOs?)\b"
    r"|explosive\s+remnants\s+of\s+war\b|(?-i:ERWs?)\b)",
    re.IGNORECASE,
)
_HECTARES = re.compile(
    rf"(?:(?P<digits>{_DIGITS})|(?P<words>{_WORDS}))\s*(?:hectares?|ha)\b", re.IGNORECASE
)

_FIGURES: dict[str, tuple[re.Pattern[str], str]] = {
    "found_ap": (_AP, "antipersonnel mine count"),
    "found_at": (_AT, "anti-tank mine count"),
    "found_uxo": (_UXO, "unexploded ordnance count"),
    "cleared_ha": (_HECTARES, "hectares figure"),
}

# --------------------------------------------------------------------------- dates

_MONTHS: dict[str, int] = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}
_MONTH = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\b\.?"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?(?!\d)"
_YEAR = r"(?:19|20)\d{2}(?![\d])"


def _opt_year(name: str) -> str:
    return rf"(?:,?\s*(?P<{name}>{_YEAR}))?"


_INTRO = (
    r"\b(?:from|between|during(?:\s+the\s+(?:week|period)(?:\s+(?:of|from))?)?"
    r"|(?:in|for|over|covering)\s+the\s+(?:week|period)\s+(?:of|from)|the\s+week\s+of)\s+"
)
_TO = r"\s*(?:to|till|until|through|thru|and|-|–|—)\s*"
# Month first: "from January 10 to 15", "from December 27 to January 2, 2022".
_RANGE_MF = re.compile(
    rf"{_INTRO}(?P<m1>{_MONTH})\s*(?P<d1>{_DAY}){_opt_year('y1')}{_TO}"
    rf"(?:(?P<m2>{_MONTH})\s*)?(?P<d2>{_DAY}){_opt_year('y2')}",
    re.IGNORECASE,
)
# Day first: "from 10 to 15 January", "from 27 December 2021 to 2 January 2022".
_RANGE_DF = re.compile(
    rf"{_INTRO}(?P<d1>{_DAY})(?:\s+(?:of\s+)?(?P<m1>{_MONTH}){_opt_year('y1')})?{_TO}"
    rf"(?P<d2>{_DAY})\s+(?:of\s+)?(?P<m2>{_MONTH}){_opt_year('y2')}",
    re.IGNORECASE,
)
# ISO: "from 2022-01-10 to 2022-01-15".
_RANGE_ISO = re.compile(
    rf"{_INTRO}(?P<y1>\d{{4}})-(?P<m1>\d{{1,2}})-(?P<d1>\d{{1,2}}){_TO}"
    r"(?P<y2>\d{4})-(?P<m2>\d{1,2})-(?P<d2>\d{1,2})\b",
    re.IGNORECASE,
)

_DATELINE = [
    re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"),
    re.compile(rf"\b(?P<m>{_MONTH})\s*(?P<d>{_DAY}),?\s+(?P<y>{_YEAR})", re.IGNORECASE),
    re.compile(rf"\b(?P<d>{_DAY})\s+(?:of\s+)?(?P<m>{_MONTH}),?\s+(?P<y>{_YEAR})", re.IGNORECASE),
    re.compile(r"\b(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>(?:19|20)\d{2})\b"),
]

# Any other date or year in a sentence marks it as background (handovers, casualty
# totals, "since November 2020" …).
_OTHER_DATE = re.compile(
    rf"\b{_MONTH}\s*\d{{1,2}}(?!\d)|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}"
    rf"|\b{_YEAR}|\b\d{{4}}-\d{{2}}-\d{{2}}\b",
    re.IGNORECASE,
)
_BACKGROUND_WORDS = re.compile(
    r"\b(?:since|previously|earlier|so\s+far|to\s+date|until\s+now|up\s+to\s+now|thus\s+far"
    r"|cumulative(?:ly)?|last\s+(?:year|month)|in\s+total\s+since)\b",
    re.IGNORECASE,
)
# Sentences about the period: "in the said period", "during the week", "a total of".
_PERIOD_WORDS = re.compile(
    r"\b(?:(?:said|same|this|that|reporting|reported|given|above)\s+period"
    r"|(?:the|this|last|past|that|same)\s+week|during\s+the\s+operations?"
    r"|in\s+total|a\s+total\s+of|weekly)\b",
    re.IGNORECASE,
)
_ACTION_WORDS = re.compile(
    r"\b(?:found|neutrali[sz]ed|defused|destroyed|discovered|detected|cleared|removed"
    r"|disposed|demined|rendered\s+safe)\b",
    re.IGNORECASE,
)
# Sentences that say where the period's work took place.
_WHERE_WORDS = re.compile(
    r"\b(?:operations?|conducted|carried\s+out|covered|took\s+place|performed|held"
    r"|continued|underway|worked|working|operated|operating|spanned|included|including)\b",
    re.IGNORECASE,
)

# --------------------------------------------------------------------------- text


@dataclass
class _Sentence:
    index: int
    text: str


@dataclass
class _Period:
    sentence: int
    span: tuple[int, int]
    text: str
    start: date | None = None
    end: date | None = None
    error: str | None = None


@dataclass
class _Mention:
    sentence: int
    span: tuple[int, int]
    text: str
    value: float | int | None = None
    error: str | None = None


@dataclass
class _Reading:
    problems: list[Problem] = field(default_factory=list)

    def add(self, source: str, message: str) -> None:
        self.problems.append(Problem(source, None, message))


_ABBREVIATIONS = frozenset(
    {"jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "no", "nos", "mr", "mrs", "ms", "dr", "st", "vs",
     "approx", "gen", "lt", "col", "maj", "capt", "prof", "e.g", "i.e", "etc"}
)
_SENTENCE_END = re.compile(r"[.!?][\"”’')\]]*\s+")


def _clean(text: str) -> str:
    """Compose accents and make hyphens and apostrophes plain."""
    text = unicodedata.normalize("NFC", text)
    text = re.sub("[\u2010\u2011\u2012\u00ad]", "-", text)
    return text.replace("\u2019", "'").replace("\r\n", "\n").replace("\r", "\n")


def _split_sentences(body: str) -> list[str]:
    """Split prose into sentences; hard-wrapped lines are joined first.

    A short line without final punctuation (a byline, a timestamp) ends its own
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
            # Hard-wrapped prose fills its lines; a byline or a timestamp does not.
            if (
                nxt
                and len(line.split()) <= 6
                and len(line) < 0.6 * widest
                and not re.search(r"[.,;:!?\"”)\-]$", line)
                and nxt[:1].isupper()
            ):
                chunks.append(" ".join(current))
                current = []
        if current:
            chunks.append(" ".join(current))
        for chunk in chunks:
            chunk = re.sub(r"[ \t]+", " ", chunk)
            start = 0
            for m in _SENTENCE_END.finditer(chunk):
                nxt = chunk[m.end():m.end() + 1]
                before = re.search(r"([\w.]+)[.!?][\"”’')\]]*\s+$", chunk[: m.end()])
                word = before.group(1).lower() if before else ""
                if not (nxt.isupper() or nxt.isdigit() or nxt in "\"“‘("):
                    continue
                if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                    continue
                out.append(chunk[start:m.end()].strip())
                start = m.end()
            tail = chunk[start:].strip()
            if tail:
                out.append(tail)
    return out


def _find_dateline(text: str) -> tuple[date | None, str, str | None]:
    """The dateline's date, the body after the dateline's line, and any error.

    The dateline is looked for in the leading short lines (a headline, a byline)
    before the prose starts.
    """
    lines = text.split("\n")
    seen = 0
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        seen += 1
        words = line.split()
        if seen > 4 or len(line) > 200 or (len(words) > 15 and re.search(r"[.!?\"”]$", line)):
            break  # the prose has started: a date here is not a dateline
        hits = [m for rx in _DATELINE for m in rx.finditer(line)]
        if hits:
            m = min(hits, key=lambda h: h.start())
            body = "\n".join(lines[i + 1:])
            try:
                return _make_date(m.group("y"), m.group("m"), m.group("d")), body, None
            except _Unreadable as exc:
                return None, body, f"dateline date '{m.group(0)}' is not a date ({exc})"
    return None, text, None


def _month_number(token: str) -> int:
    token = token.strip().rstrip(".").lower()
    if token.isdigit():
        return int(token)
    return _MONTHS[token]


def _make_date(year: str | int, month: str | int, day: str | int) -> date:
    try:
        y = int(year)
        m = _month_number(month) if isinstance(month, str) else month
        d = int(re.match(r"\d+", str(day)).group(0))  # type: ignore[union-attr]
        return date(y, m, d)
    except (ValueError, KeyError) as exc:
        raise _Unreadable(str(exc)) from None


def _valid_day(month: int, day: int) -> bool:
    try:
        date(2000, month, day)  # 2000 is a leap year: 29 February is a day that exists
    except ValueError:
        return False
    return True


def _resolve_period(m: re.Match[str], dateline: date | None) -> tuple[date, date]:
    """Dates of a range match, with years from the match or from the dateline.

    Raises
    ------
    _Unreadable
        For a non-existent date, a missing dateline when a year is needed, a
        period that ends after the dateline, or one that starts after it ends.
    """
    m1 = m.group("m1") or m.group("m2")
    m2 = m.group("m2") or m.group("m1")
    mon1, mon2 = _month_number(m1), _month_number(m2)
    d1 = int(re.match(r"\d+", m.group("d1")).group(0))  # type: ignore[union-attr]
    d2 = int(re.match(r"\d+", m.group("d2")).group(0))  # type: ignore[union-attr]
    for mon, d in ((mon1, d1), (mon2, d2)):
        if not (1 <= mon <= 12 and _valid_day(mon, d)):
            raise _Unreadable(f"'{m.group(0).strip()}' contains a day that does not exist")
    y1, y2 = m.group("y1"), m.group("y2")
    if y2:
        end = _make_date(y2, mon2, d2)
    else:
        if dateline is None:
            raise _Unreadable("no dateline date found, so the period's year is unknown")
        end = None
        for year in range(dateline.year, dateline.year - 9, -1):
            try:
                candidate = date(year, mon2, d2)
            except ValueError:  # 29 February in a common year
                continue
            if candidate <= dateline:
                end = candidate
                break
        if end is None:
            raise _Unreadable(f"no year puts '{m.group(0).strip()}' before the dateline")
    if y1:
        start = _make_date(y1, mon1, d1)
    else:
        year = end.year if mon1 <= end.month else end.year - 1
        try:
            start = date(year, mon1, d1)
        except ValueError:
            raise _Unreadable(
                f"'{m.group(0).strip()}' starts on 29 February of the common year {year}"
            ) from None
    if dateline is not None and end > dateline:
        raise _Unreadable(
            f"the period '{m.group(0).strip()}' ends after the dateline {dateline.isoformat()}"
        )
    if start > end:
        raise _Unreadable(f"the period '{m.group(0).strip()}' starts after it ends")
    return start, end


def _find_periods(sentences: list[_Sentence], dateline: date | None) -> list[_Period]:
    found: list[_Period] = []
    for s in sentences:
        taken: list[tuple[int, int]] = []
        for rx in (_RANGE_ISO, _RANGE_MF, _RANGE_DF):
            for m in rx.finditer(s.text):
                if any(a < m.end() and m.start() < b for a, b in taken):
                    continue
                taken.append(m.span())
                p = _Period(s.index, m.span(), m.group(0).strip())
                try:
                    p.start, p.end = _resolve_period(m, dateline)
                except _Unreadable as exc:
                    p.error = str(exc)
                found.append(p)
    return found


def _is_background(text: str, spans: list[tuple[int, int]]) -> bool:
    """Whether a sentence is background: another date, a year, or "since" …

    ``spans`` (the period and the figures) are blanked first, so that a count of
    "2021 unexploded ordnance" is not taken for a year.
    """
    chars = list(text)
    for a, b in spans:
        chars[a:b] = " " * (b - a)
    rest = "".join(chars)
    return bool(_OTHER_DATE.search(rest) or _BACKGROUND_WORDS.search(rest))


def _find_mentions(sentences: list[_Sentence], rx: re.Pattern[str], kind: str) -> list[_Mention]:
    out: list[_Mention] = []
    for s in sentences:
        for m in rx.finditer(s.text):
            mention = _Mention(s.index, m.span(), m.group(0))
            try:
                if kind == "cleared_ha":
                    if m.group("digits"):
                        mention.value = _hectares_from_digits(m.group("digits"))
                    else:
                        mention.value = float(_words_to_int(m.group("words")))
                else:
                    mention.value = _count_value(m)
            except _Unreadable as exc:
                mention.error = str(exc)
            out.append(mention)
    return out


# --------------------------------------------------------------------------- districts

_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*|\S")


def _district_runs(text: str) -> tuple[list[str], list[str]]:
    """Districts named in a sentence, in order, and unknown names in its lists.

    A list is a run of capitalised names joined by commas and "and"; when a list
    of two or more names contains a known district, every name in it must be one,
    so that an unrecognised spelling is refused rather than silently dropped.
    """
    text = re.sub(r"\([^()]*\)", " ", text)
    names: list[str] = []
    unknown: list[str] = []
    runs: list[list[list[str]]] = []
    run: list[list[str]] = []
    item: list[str] = []
    expecting_item = True

    def close() -> None:
        nonlocal run, item, expecting_item
        if item:
            run.append(item)
        if run:
            runs.append(run)
        run, item, expecting_item = [], [], True

    for tok in _TOKEN.findall(text):
        if tok[0].isalpha():
            canonical = normalise(tok)
            if canonical is not None and canonical not in names:
                names.append(canonical)
        if tok[0].isalpha() and tok[0].isupper():
            if item or expecting_item:
                item.append(tok)
                expecting_item = False
            else:
                close()
                item.append(tok)
                expecting_item = False
        elif tok in (",", "&") or tok.lower() == "and":
            if item:
                run.append(item)
                item = []
                expecting_item = True
            elif not run:
                close()
        else:
            close()
    close()
    for run in runs:
        if len(run) < 2:
            continue
        known = [any(normalise(w) for w in it) for it in run]
        if any(known):
            unknown.extend(" ".join(it) for it, ok in zip(run, known) if not ok)
    return names, unknown


# --------------------------------------------------------------------------- parse


def _choose(mentions: list[_Mention], tier_of: dict[int, int]) -> list[_Mention]:
    """The mentions of the best tier present (0 = the period's sentence)."""
    tiers = [tier_of.get(m.sentence) for m in mentions]
    present = [t for t in tiers if t is not None and t <= 1]
    if not present:
        return []
    best = min(present)
    return [m for m, t in zip(mentions, tiers) if t == best]


def parse_report(text: str, *, source: str = "<text>") -> dict[str, Any]:
    """Read one weekly report text into a period record.

    Parameters
    ----------
    text
        The report as published: a dateline (e.g. ``date 2022-01-17 By Azernews``)
        in its first lines, then prose giving the period, the districts, the
        counts of antipersonnel mines, anti-tank mines and unexploded ordnance
        found, and the hectares cleared.
    source
        Name of the file (or other source) for messages and ``source_file``.

    Returns
    -------
    dict
        ``date_start``, ``date_end`` (:class:`datetime.date`), ``districts``
        (canonical names in order of mention, unique), ``found_ap``, ``found_at``,
        ``found_uxo`` (int), ``cleared_ha`` (float) and ``source_file`` (str).

    Raises
    ------
    minemap._errors.DataError
        If any figure is missing, ambiguous or unreadable.  The message names
        ``source`` and the first such figure; ``problems`` lists them all.  A
        report is never half-read.

    Examples
    --------
    >>> r = parse_report(
    ...     "date 2022-02-14 By Azernews\\n\\n"
    ...     "19 anti-personnel mines, six anti-tank mines and 143 unexploded ordnance "
    ...     "were found and neutralized from February 7 to 12 in Tartar and Fizuli regions. "
    ...     "A total of 94,8 hectares were cleared in the said period.")
    >>> r["date_start"], r["date_end"], r["districts"]
    (datetime.date(2022, 2, 7), datetime.date(2022, 2, 12), ['Tartar', 'Fuzuli'])
    >>> r["found_ap"], r["found_at"], r["found_uxo"], r["cleared_ha"]
    (19, 6, 143, 94.8)
    """
    reading = _Reading()
    text = _clean(text)
    dateline, body, dateline_error = _find_dateline(text)
    if dateline_error:
        reading.add(source, dateline_error)
    sentences = [_Sentence(i, s) for i, s in enumerate(_split_sentences(body))]

    mentions = {
        kind: _find_mentions(sentences, rx, kind) for kind, (rx, _label) in _FIGURES.items()
    }
    figure_spans: dict[int, list[tuple[int, int]]] = {}
    for ms in mentions.values():
        for m in ms:
            figure_spans.setdefault(m.sentence, []).append(m.span)

    # --- the period
    periods = _find_periods(sentences, dateline)
    period: _Period | None = None
    if not periods:
        reading.add(
            source,
            "no date range found (expected e.g. 'from January 10 to 15' or "
            "'during the week of January 10 to 15')",
        )
    else:
        distinct = {(p.start, p.end, p.error if p.start is None else None) for p in periods}
        candidates = periods
        if len(distinct) > 1:
            # Prefer ranges in sentences about the work, not background ones.
            candidates = [
                p for p in periods
                if not _is_background(
                    sentences[p.sentence].text, [p.span, *figure_spans.get(p.sentence, [])]
                )
                and (
                    p.sentence in figure_spans
                    or _WHERE_WORDS.search(sentences[p.sentence].text)
                    or _ACTION_WORDS.search(sentences[p.sentence].text)
                )
            ]
            distinct = {(p.start, p.end, p.error if p.start is None else None) for p in candidates}
        if len(distinct) != 1:
            shown = ", ".join(f"'{p.text}'" for p in (candidates or periods))
            reading.add(source, f"several different date ranges found: {shown}")
        else:
            period = candidates[0]
            if period.error:
                reading.add(source, period.error)

    # --- tiers: 0 the period's sentence, 1 about the period or the finds, 2 other prose;
    # background sentences get no tier and never give a figure.
    tier_of: dict[int, int] = {}
    for s in sentences:
        spans = list(figure_spans.get(s.index, []))
        if period is not None and s.index == period.sentence:
            tier_of[s.index] = 0
            continue
        if _is_background(s.text, spans):
            continue
        if _PERIOD_WORDS.search(s.text) or _ACTION_WORDS.search(s.text):
            tier_of[s.index] = 1
        else:
            tier_of[s.index] = 2

    result: dict[str, Any] = {}
    chosen_sentences: set[int] = set()
    for kind, (_rx, label) in _FIGURES.items():
        chosen = _choose(mentions[kind], tier_of)
        if not chosen:
            reading.add(source, f"no {label} found")
            continue
        errors = [m for m in chosen if m.error]
        if errors:
            reading.add(source, f"{label} in '{errors[0].text}': {errors[0].error}")
            continue
        values = {m.value for m in chosen}
        if len(values) > 1:
            shown = ", ".join(f"'{m.text}'" for m in chosen)
            reading.add(source, f"{label} is ambiguous: {shown}")
            continue
        result[kind] = chosen[0].value
        chosen_sentences.update(m.sentence for m in chosen)

    # --- districts
    named: list[tuple[int, _Sentence, list[str], list[str]]] = []
    for s in sentences:
        tier = tier_of.get(s.index)
        if tier is None:
            continue
        names, unknown = _district_runs(s.text)
        if not names:
            continue
        if tier == 0 or s.index in chosen_sentences:
            group = 0
        elif _WHERE_WORDS.search(s.text) or _PERIOD_WORDS.search(s.text):
            group = 1
        else:
            continue  # a district named in passing is not the period's list
        named.append((group, s, names, unknown))
    districts: list[str] = []
    if not named:
        reading.add(
            source,
            "no district list found (expected e.g. 'in Tartar, Agdam and Fizuli regions' "
            "in a sentence about the period)",
        )
    else:
        best = min(g for g, *_ in named)
        chosen_named = [n for n in named if n[0] == best]
        if best == 1 and len({tuple(n[2]) for n in chosen_named}) > 1:
            shown = "; ".join(", ".join(n[2]) for n in chosen_named)
            reading.add(source, f"district list is ambiguous: several sentences name {shown}")
        else:
            for _g, _s, names, unknown in chosen_named:
                for name in unknown:
                    reading.add(source, f"unknown district name '{name}' in the district list")
                districts.extend(n for n in names if n not in districts)

    raise_for_problems(reading.problems)
    assert period is not None and period.start is not None and period.end is not None
    return {
        "date_start": period.start,
        "date_end": period.end,
        "districts": districts,
        "found_ap": int(result["found_ap"]),
        "found_at": int(result["found_at"]),
        "found_uxo": int(result["found_uxo"]),
        "cleared_ha": float(result["cleared_ha"]),
        "source_file": source,
    }


# --------------------------------------------------------------------------- CSV


def _csv_rows(text: str, source: str) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Period records from a report CSV; see :func:`read_reports`."""
    problems: list[Problem] = []
    rows: list[dict[str, Any]] = []
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return [], [Problem(source, None, "empty file: no header row")]
    except csv.Error as exc:
        return [], [Problem(source, "line 1", f"not a readable CSV: {exc}")]
    names = [h.strip().lower() for h in header]
    missing = [c for c in CSV_COLUMNS if c not in names]
    if missing:
        return [], [Problem(source, "line 1", f"missing column(s): {', '.join(missing)}")]
    dupes = sorted({n for n in names if names.count(n) > 1 and n in CSV_COLUMNS})
    if dupes:
        return [], [Problem(source, "line 1", f"duplicate column(s): {', '.join(dupes)}")]
    extra = [h for h, n in zip(header, names) if n not in CSV_COLUMNS and n]
    if extra:
        problems.append(
            Problem(source, "line 1", f"ignored column(s): {', '.join(extra)}", "warning")
        )
    index = {n: i for i, n in enumerate(names)}
    seen: dict[tuple[str, str, str], int] = {}
    try:
        for fields in reader:
            line = f"line {reader.line_num}"
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(header):
                problems.append(
                    Problem(source, line, f"{len(fields)} fields where the header has {len(header)}")
                )
                continue
            row = {c: fields[index[c]].strip() for c in CSV_COLUMNS}
            record, errors = _csv_record(row)
            problems.extend(Problem(source, line, e) for e in errors)
            if errors:
                continue
            key = (record["date_start"], record["date_end"], ";".join(record["districts"]))
            if key in seen:
                problems.append(
                    Problem(source, line, f"same period and districts as line {seen[key]}")
                )
                continue
            seen[key] = reader.line_num
            record["source_file"] = source
            rows.append(record)
    except csv.Error as exc:
        problems.append(Problem(source, f"line {reader.line_num}", f"not a readable CSV: {exc}"))
    if not rows and not any(p.severity == "error" for p in problems):
        problems.append(Problem(source, None, "no report rows"))
    return rows, problems


def _csv_record(row: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """One CSV row → a record, or the messages of everything wrong with it."""
    errors: list[str] = []
    record: dict[str, Any] = {}
    for col in ("date_start", "date_end"):
        value = row[col]
        if not value:
            errors.append(f"{col} is empty")
            continue
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError
            record[col] = date.fromisoformat(value)
        except ValueError:
            errors.append(f"{col} '{value}' is not an ISO date (YYYY-MM-DD)")
    if "date_start" in record and "date_end" in record and record["date_start"] > record["date_end"]:
        errors.append(f"date_start {record['date_start']} is after date_end {record['date_end']}")
    parts = [p.strip() for p in re.split(r"[;,]", row["districts"]) if p.strip()]
    if not parts:
        errors.append("districts is empty")
    districts: list[str] = []
    for part in parts:
        canonical = normalise(part)
        if canonical is None:
            errors.append(f"unknown district '{part}'")
        elif canonical not in districts:
            districts.append(canonical)
    record["districts"] = districts
    for col in ("found_ap", "found_at", "found_uxo"):
        value = row[col]
        if not re.fullmatch(r"\d+", value):
            errors.append(f"{col} '{value}' is not a whole number ≥ 0")
        else:
            record[col] = int(value)
    value = row["cleared_ha"]
    if not re.fullmatch(r"\d+(?:\.\d+)?", value):
        # Machine-written: a plain number with a decimal point, no thousands separators.
        errors.append(f"cleared_ha '{value}' is not a number like 51.8 (decimal point, no separators)")
    else:
        try:
            record["cleared_ha"] = float(Decimal(value))
        except InvalidOperation:
            errors.append(f"cleared_ha '{value}' is not a number")
    return record, errors


# --------------------------------------------------------------------------- files


def _frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Records → a frame in the column order and types of ``schema.REPORT_COLUMNS``."""
    columns = list(schema.REPORT_COLUMNS)
    rows = [
        {
            "date_start": r["date_start"].isoformat(),
            "date_end": r["date_end"].isoformat(),
            "districts": ";".join(r["districts"]),
            "found_ap": int(r["found_ap"]),
            "found_at": int(r["found_at"]),
            "found_uxo": int(r["found_uxo"]),
            "cleared_ha": float(r["cleared_ha"]),
            "source_file": r["source_file"],
        }
        for r in records
    ]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype(
        {
            "date_start": object, "date_end": object, "districts": object,
            "found_ap": "int64", "found_at": "int64", "found_uxo": "int64",
            "cleared_ha": "float64", "source_file": object,
        }
    )


def read_reports(path: str | os.PathLike[str]) -> tuple[pd.DataFrame, list[Problem]]:
    """Read a weekly report file: a ``.txt`` report or a ``.csv`` of periods.

    Parameters
    ----------
    path
        A ``.txt`` file holding one report text (see :func:`parse_report`), or a
        ``.csv`` file with the columns ``date_start, date_end, districts,
        found_ap, found_at, found_uxo, cleared_ha`` (one period per row; dates
        ISO; districts separated by ";" or "," inside quotes; counts whole
        numbers; hectares a plain number with a decimal point).

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``list(schema.REPORT_COLUMNS)``: dates as ISO strings, districts
        joined by ";", ``source_file`` the file's name.  Empty when any problem
        is an error, so that a file is never half-read.
    problems : list of Problem
        Errors (the file must be refused) and warnings.

    Raises
    ------
    minemap._errors.UsageError
        If the file does not exist or is neither ``.txt`` nor ``.csv``.
    """
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"{p}: no such file")
    suffix = p.suffix.lower()
    if suffix not in (".txt", ".csv"):
        raise UsageError(f"{p}: unsupported report file type '{p.suffix}' (use .txt or .csv)")
    source = p.name
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _frame([]), [Problem(source, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")]
    if suffix == ".csv":
        records, problems = _csv_rows(text, source)
    else:
        try:
            records, problems = [parse_report(text, source=source)], []
        except DataError as exc:
            records, problems = [], list(exc.problems) or [Problem(source, None, str(exc))]
    if any(pr.severity == "error" for pr in problems):
        records = []
    return _frame(records), problems
