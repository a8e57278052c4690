"""The one date parser of every reader (DESIGN §4: one rule in one place).

Accepted everywhere a date is read (GIS attributes, traverse records,
``--handover-date``, ``--as-of``):

* ISO ``YYYY-MM-DD`` (a time after it, as GDAL writes datetimes, is dropped);
* day-first ``dd.mm.yyyy``, and ``dd/mm/yyyy`` or ``dd-mm-yyyy`` when the
  day cannot be the month (``03/04/2022`` is refused as ambiguous; with dots
  the day-first reading is the European convention and is not ambiguous).

A record's ``laid_date`` may also be a reduced-precision ISO date, ``YYYY``
or ``YYYY-MM``, because many military records give only the year or month
laid.  It is stored as written; only where a day is needed (the geomagnetic
model of a magnetic traverse) is it taken at the middle of its period
(:func:`model_date`): a month as its 15th, a year as 1 July.  The secular
variation here is about 0.1° a year, so the declination is then within 0.05°
of that at any day of the period.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

_DAY_FIRST = re.compile(r"(\d{1,2})([./-])(\d{1,2})\2(\d{4})")
_PARTIAL = re.compile(r"(\d{4})(?:-(\d{2}))?")
_BLANK = {"", "NaT", "nan", "NaN", "None", "null", "~"}


def _blank(value: object) -> bool:
    try:
        # None, NaN and pandas' NaT: a missing date is missing, never "NaT".
        if pd.isna(value):
            return True
    except (TypeError, ValueError):
        pass
    return isinstance(value, str) and value.strip() in _BLANK


def parse_date(value: object) -> dt.date | None:
    """A full date, or ``None`` when the value is blank.

    Raises
    ------
    ValueError
        With a one-line reason when the value is not a date or is ambiguous.

    Examples
    --------
    >>> parse_date("2022-01-15"), parse_date("15.01.2022")
    (datetime.date(2022, 1, 15), datetime.date(2022, 1, 15))
    """
    if _blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    iso = text[:10]
    if len(iso) == 10 and iso[4] == "-" and (len(text) == 10 or text[10] in "T "):
        try:
            return dt.date.fromisoformat(iso)
        except ValueError:
            raise ValueError(f"{text!r} is not a valid date (no such day)") from None
    m = _DAY_FIRST.fullmatch(text)
    if not m:
        raise ValueError(f"{text!r} is not a date (use ISO YYYY-MM-DD)")
    a, sep, b, y = int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
    if sep != "." and a <= 12 and b <= 12 and a != b:
        raise ValueError(
            f"{text!r} is ambiguous (day {a} month {b}, or month {a} day {b}); use ISO YYYY-MM-DD"
        )
    try:
        return dt.date(y, b, a)
    except ValueError:
        raise ValueError(f"{text!r} is not a valid day-first date; use ISO YYYY-MM-DD") from None


def parse_record_date(value: object) -> tuple[str, dt.date | None]:
    """A record date as stored (ISO, possibly ``YYYY`` or ``YYYY-MM``) and its model date.

    Returns
    -------
    (text, date)
        ``("", None)`` when blank; ``("1993", date(1993, 7, 1))`` for a year.

    Raises
    ------
    ValueError
        As :func:`parse_date`.
    """
    if _blank(value):
        return "", None
    text = str(value).strip()
    m = _PARTIAL.fullmatch(text)
    if m and not isinstance(value, dt.date):
        return text, model_date(text)
    d = parse_date(value)
    return d.isoformat(), d


def model_date(value: object) -> dt.date:
    """The day a (possibly partial) date stands for: the middle of its period.

    Raises
    ------
    ValueError
        If the value is blank or not a date.

    Examples
    --------
    >>> model_date("1993"), model_date("1993-08"), model_date("20.08.1993")
    (datetime.date(1993, 7, 1), datetime.date(1993, 8, 15), datetime.date(1993, 8, 20))
    """
    if isinstance(value, dt.date | dt.datetime):
        return value.date() if isinstance(value, dt.datetime) else value
    text = "" if _blank(value) else str(value).strip()
    m = _PARTIAL.fullmatch(text)
    if m:
        year, month = int(m.group(1)), m.group(2)
        if month is None:
            return dt.date(year, 7, 1)
        if not 1 <= int(month) <= 12:
            raise ValueError(f"{text!r} is not a valid date (no month {month})")
        return dt.date(year, int(month), 15)
    d = parse_date(value)
    if d is None:
        raise ValueError("a date is needed")
    return d
