"""Periods: the date ranges and months a report text gives, with their years.

Wordings read (DESIGN §9): "from July 3 to July 8", "from 22 to 27 August",
"between April 21 and April 27", "on October 17-22", "(November 15-20)",
"December 11–17", "(15.04.2024–21.04.2024)", "from July 3 through July 8,
2023", "during the week of January 10 to 15", "from 2022-01-10 to
2022-01-15", "the week ending July 8" (the seven days that end on July 8),
and whole months ("in March", "for April 2022").  A range may cross a month
or a year.

Year rule (``examples/README.md``): the period ends on or before the dateline.
The end takes the latest year that allows that, and the start the same year,
or the year before when its month comes after the end's month.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from minemap.readers.reports.numbers import Unreadable

__all__ = ["MONTHS", "MONTH", "DAY", "YEAR", "Period", "month_number", "find_periods"]

MONTHS: dict[str, int] = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}
MONTH = "(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\b\.?"
_FULL_MONTH = "(?:" + "|".join(m.capitalize() for m in MONTHS if len(m) > 3 or m == "may") + r")\b"
DAY = r"(?<![\d.,])\d{1,2}(?:st|nd|rd|th)?(?![\d])"
YEAR = r"(?:19|20)\d{2}(?!\d)"
# A year that is not a count: "from July 3 to 8, 2024 anti-personnel mines" counts 2024.
_NOT_A_COUNT = (r"(?!\s*(?:-\s*)?(?:(?i:anti|unexploded|mines?\b|landmines?|hectares?|ha\b|pieces"
                r"|items|units|explosive)|AP\b|AT\b|UXO|ERW))")
_TO = r"\s*(?:to|till|until|through|thru|-|–|—)\s*"
_AND = r"\s*(?:and|to|-|–|—)\s*"


def _y(name: str) -> str:
    return rf"(?:,?\s*(?P<{name}>{YEAR}){_NOT_A_COUNT})?"


def _ranges(to: str) -> tuple[re.Pattern[str], ...]:
    return (
        # ISO: "2022-01-10 to 2022-01-15".
        re.compile(
            rf"(?P<y1>\d{{4}})-(?P<m1>\d{{1,2}})-(?P<d1>\d{{1,2}}){to}"
            r"(?P<y2>\d{4})-(?P<m2>\d{1,2})-(?P<d2>\d{1,2})(?!\d)"
        ),
        # Numeric, day first: "15.04.2024–21.04.2024", "15.04–21.04.2024".
        re.compile(
            rf"(?<![\d.,])(?P<d1>\d{{1,2}})[./](?P<m1>\d{{1,2}})(?:[./](?P<y1>{YEAR}))?{to}"
            rf"(?P<d2>\d{{1,2}})[./](?P<m2>\d{{1,2}})[./](?P<y2>{YEAR})"
        ),
        # Month first: "January 10 to 15", "December 27 to January 2, 2022".
        re.compile(
            rf"\b(?P<m1>{MONTH})\s*(?P<d1>{DAY}){_y('y1')}{to}"
            rf"(?:(?P<m2>{MONTH})\s*)?(?P<d2>{DAY}){_y('y2')}",
            re.IGNORECASE,
        ),
        # Day first: "10 to 15 January", "27 December 2021 to 2 January 2022",
        # "the 3rd to the 8th of July".
        re.compile(
            rf"(?P<d1>{DAY})(?:\s+(?:of\s+)?(?P<m1>{MONTH}){_y('y1')})?{to}(?:the\s+)?"
            rf"(?P<d2>{DAY})\s+(?:of\s+)?(?P<m2>{MONTH}){_y('y2')}",
            re.IGNORECASE,
        ),
    )


_RANGES = _ranges(_TO)
_BETWEEN = tuple(
    re.compile(r"\bbetween\s+" + rx.pattern, rx.flags) for rx in _ranges(_AND)
)
# Whole months: "from January to March 2023", "in January-June 2023".
_MONTH_RANGE = re.compile(
    rf"\b(?P<m1>{_FULL_MONTH})(?:\s+(?P<y1>{YEAR}))?\s*(?:-|–|—|(?i:to|till|until|through|and))\s*"
    rf"(?P<m2>{_FULL_MONTH})(?:,?\s+(?P<y2>{YEAR}))?(?!\s*\d)"
)
# A whole month: "in March", "for April 2022", "during the month of May".
_MONTH_ONLY = re.compile(
    rf"\b(?i:(?:in|for|during|throughout|over)\s+(?:the\s+month\s+of\s+)?|month\s+of\s+)"
    rf"(?P<m>{_FULL_MONTH})(?:,?\s+(?P<y>{YEAR}))?(?!\s*\d)"
)


# "the week ending July 8", "week ended 8 July 2023": the seven days ending then.
_WEEK_ENDING = re.compile(
    rf"\bweek\s+(?:ending|ended|that\s+ended)\s+(?:on\s+)?(?:the\s+)?"
    rf"(?:(?P<m1>{MONTH})\s*(?P<d1>{DAY})|(?P<d2>{DAY})\s+(?:of\s+)?(?P<m2>{MONTH}))"
    rf"(?:,?\s+(?P<y>{YEAR}){_NOT_A_COUNT})?",
    re.IGNORECASE,
)


@dataclass
class Period:
    """A period named in a sentence."""

    sentence: int
    span: tuple[int, int]
    text: str
    whole_month: bool = False
    start: date | None = None
    end: date | None = None
    error: str | None = None


def month_number(token: str) -> int:
    """The month number of a name ("Sept.", "december") or of digits ("04")."""
    token = token.strip().rstrip(".").lower()
    return int(token) if token.isdigit() else MONTHS[token]


def _day(token: str) -> int:
    return int(re.match(r"\d+", token).group(0))  # type: ignore[union-attr]


def _end_year(month: int, day: int, dateline: date | None, what: str) -> int:
    if dateline is None:
        raise Unreadable(f"the year of '{what}' is unknown: the text has no dated dateline")
    for year in range(dateline.year, dateline.year - 9, -1):
        try:
            if date(year, month, day) <= dateline:
                return year
        except ValueError:  # 29 February in a common year
            continue
    raise Unreadable(f"no year puts '{what}' before the dateline")


def _resolve_range(m: re.Match[str], dateline: date | None) -> tuple[date, date]:
    what = m.group(0).strip()
    m1 = m.group("m1") or m.group("m2")
    m2 = m.group("m2") or m.group("m1")
    mon1, mon2 = month_number(m1), month_number(m2)
    d1, d2 = _day(m.group("d1")), _day(m.group("d2"))
    for mon, d in ((mon1, d1), (mon2, d2)):
        try:
            date(2000, mon, d)  # a leap year: 29 February exists
        except ValueError:
            raise Unreadable(f"'{what}' contains a day that does not exist") from None
    y1, y2 = m.group("y1"), m.group("y2")
    if y2:
        end_year = int(y2)
    elif y1 and mon2 >= mon1:
        end_year = int(y1)
    else:
        end_year = _end_year(mon2, d2, dateline, what)
    try:
        end = date(end_year, mon2, d2)
    except ValueError:
        raise Unreadable(f"'{what}' ends on 29 February of the common year {end_year}") from None
    year = int(y1) if y1 else (end.year if mon1 <= end.month else end.year - 1)
    try:
        start = date(year, mon1, d1)
    except ValueError:
        raise Unreadable(f"'{what}' starts on 29 February of the common year {year}") from None
    if dateline is not None and end > dateline:
        raise Unreadable(f"the period '{what}' ends after the dateline {dateline.isoformat()}")
    if start > end:
        raise Unreadable(f"the period '{what}' starts after it ends")
    return start, end


def _resolve_months(m: re.Match[str], dateline: date | None) -> tuple[date, date]:
    what = m.group(0).strip()
    mon1, mon2 = month_number(m.group("m1")), month_number(m.group("m2"))
    if m.group("y2"):
        year2 = int(m.group("y2"))
    else:
        year2 = _end_year(mon2, calendar.monthrange(2001, mon2)[1], dateline, what)
    year1 = int(m.group("y1")) if m.group("y1") else (year2 if mon1 <= mon2 else year2 - 1)
    start, end = date(year1, mon1, 1), date(year2, mon2, calendar.monthrange(year2, mon2)[1])
    if dateline is not None and end > dateline:
        raise Unreadable(f"the months '{what}' end after the dateline {dateline.isoformat()}")
    if start > end:
        raise Unreadable(f"the period '{what}' starts after it ends")
    return start, end


def _resolve_month(m: re.Match[str], dateline: date | None) -> tuple[date, date]:
    what = m.group(0).strip()
    mon = month_number(m.group("m"))
    year = int(m.group("y")) if m.group("y") else _end_year(mon, 1, dateline, what)
    end = date(year, mon, calendar.monthrange(year, mon)[1])
    if dateline is not None and end > dateline:
        raise Unreadable(f"the month '{what}' ends after the dateline {dateline.isoformat()}")
    return date(year, mon, 1), end


def _resolve_week_ending(m: re.Match[str], dateline: date | None) -> tuple[date, date]:
    what = m.group(0).strip()
    mon = month_number(m.group("m1") or m.group("m2"))
    day = _day(m.group("d1") or m.group("d2"))
    try:
        date(2000, mon, day)
    except ValueError:
        raise Unreadable(f"'{what}' contains a day that does not exist") from None
    year = int(m.group("y")) if m.group("y") else _end_year(mon, day, dateline, what)
    try:
        end = date(year, mon, day)
    except ValueError:
        raise Unreadable(f"'{what}' ends on 29 February of the common year {year}") from None
    if dateline is not None and end > dateline:
        raise Unreadable(f"the period '{what}' ends after the dateline {dateline.isoformat()}")
    return end - timedelta(days=6), end


def find_periods(index: int, text: str, dateline: date | None) -> list[Period]:
    """Every date range and whole month named in one sentence, in text order."""
    found: list[Period] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return not any(x < b and a < y for x, y in taken)

    for m in _WEEK_ENDING.finditer(text):
        taken.append(m.span())
        p = Period(index, m.span(), m.group(0).strip())
        try:
            p.start, p.end = _resolve_week_ending(m, dateline)
        except Unreadable as exc:
            p.error = str(exc)
        found.append(p)
    for rx in (*_BETWEEN, *_RANGES):
        for m in rx.finditer(text):
            if not free(*m.span()):
                continue
            taken.append(m.span())
            p = Period(index, m.span(), m.group(0).strip())
            try:
                p.start, p.end = _resolve_range(m, dateline)
            except Unreadable as exc:
                p.error = str(exc)
            found.append(p)
    for m in _MONTH_RANGE.finditer(text):
        if not free(*m.span()):
            continue
        taken.append(m.span())
        p = Period(index, m.span(), m.group(0).strip(), whole_month=True)
        try:
            p.start, p.end = _resolve_months(m, dateline)
        except Unreadable as exc:
            p.error = str(exc)
        found.append(p)
    for m in _MONTH_ONLY.finditer(text):
        a = m.start("m")
        if not free(a, m.end()):
            continue
        taken.append((a, m.end()))
        p = Period(index, (a, m.end()), m.group(0).strip(), whole_month=True)
        try:
            p.start, p.end = _resolve_month(m, dateline)
        except Unreadable as exc:
            p.error = str(exc)
        found.append(p)
    return sorted(found, key=lambda p: p.span)
