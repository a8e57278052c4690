"""Angle units of minefield records: degrees, NATO mils and Soviet thousandths.

Three units are accepted (DESIGN §2):

``deg``
    360 to the circle.
``mil6400``
    NATO mils, 6400 to the circle.
``mil6000``
    Soviet thousandths ("деления угломера"), 6000 to the circle, usually
    written with a dash between hundreds and units: ``"12-50"`` = 1250 = 75°.

Values may be numbers (``1250``, ``75.0``), numeric strings (``"1250"``) or,
for the two mil units, the dash notation (``"12-50"``, ``"0-05"``).  The dash
notation always has exactly two digits after the dash, so that ``"1-5"`` (is
it 105 or 150?) is refused rather than guessed.
"""

from __future__ import annotations

import math
import re

#: Angle unit name → units in a full circle.
UNITS: dict[str, float] = {"deg": 360.0, "mil6400": 6400.0, "mil6000": 6000.0}

# Dashes people type or paste: hyphen-minus, hyphen, non-breaking hyphen,
# figure dash, en dash, em dash and the minus sign.
_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2212"})
_DASH_NOTATION = re.compile(r"([+-]?)\s*(\d{1,3})\s*-\s*(\d{2})")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


class AngleError(ValueError):
    """An angle or angle unit that cannot be read; the message is one line."""


def check_unit(unit: object) -> str:
    """Return the canonical name of an angle unit.

    Parameters
    ----------
    unit
        ``"deg"``, ``"mil6400"`` or ``"mil6000"`` (case and surrounding
        blanks ignored).

    Raises
    ------
    AngleError
        For any other value.
    """
    name = str(unit).strip().lower() if unit is not None else ""
    if name not in UNITS:
        raise AngleError(f"unknown angle unit {unit!r} (use deg, mil6400 or mil6000)")
    return name


def parse_angle(value: object, unit: str, *, signed: bool = False) -> float:
    """Read an angle written in ``unit`` and return it in that unit.

    Parameters
    ----------
    value
        A number, a numeric string or (mil units only) the dash notation
        ``"12-50"``.  A leading sign is allowed only when ``signed``.
    unit
        ``"deg"``, ``"mil6400"`` or ``"mil6000"``.
    signed
        For corrections (``direction_correction``): the value may be negative
        and must lie within half a circle either way.  Otherwise the value is
        a bearing and must lie in ``[0, full circle]`` (the full circle itself,
        ``"60-00"`` in mil6000, is north).

    Returns
    -------
    float
        The angle in ``unit``.

    Raises
    ------
    AngleError
        If the value is not a finite number in an accepted notation, or is
        outside the circle.

    Examples
    --------
    >>> parse_angle("12-50", "mil6000"), parse_angle(1250, "mil6000")
    (1250.0, 1250.0)
    >>> parse_angle("-0-12", "mil6000", signed=True)
    -12.0
    """
    if unit not in UNITS:
        unit = check_unit(unit)
    full = UNITS[unit]
    shown = value
    if isinstance(value, bool) or value is None:
        raise AngleError(f"angle {value!r} is not a number")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip().translate(_DASHES)
        dash = _DASH_NOTATION.fullmatch(text)
        if dash:
            if unit == "deg":
                raise AngleError(
                    f"angle {shown!r} is in mil notation but the angle unit is deg"
                )
            number = int(dash.group(2)) * 100 + int(dash.group(3))
            if dash.group(1) == "-":
                number = -number
            number = float(number)
        elif _NUMBER.fullmatch(text):
            number = float(text)
        else:
            raise AngleError(f"cannot read angle {shown!r} as {unit}")
    if not math.isfinite(number):
        raise AngleError(f"angle {shown!r} is not a finite number")
    if signed:
        if abs(number) > full / 2:
            raise AngleError(f"correction {shown!r} exceeds half a circle in {unit}")
    elif number < 0:
        raise AngleError(f"bearing {shown!r} is negative")
    elif number > full:
        raise AngleError(
            f"bearing {shown!r} is outside the {unit} circle (0 to {format_full(unit)})"
        )
    return number


def format_full(unit: str) -> str:
    """The full circle of ``unit`` in its usual notation (``"60-00"`` for mil6000)."""
    unit = check_unit(unit)
    return "60-00" if unit == "mil6000" else f"{UNITS[unit]:g}"


def to_degrees(value: object, unit: str, *, signed: bool = False) -> float:
    """Read an angle in ``unit`` (see :func:`parse_angle`) and return degrees.

    Examples
    --------
    >>> to_degrees("12-50", "mil6000"), to_degrees(1600, "mil6400"), to_degrees("60-00", "mil6000")
    (75.0, 90.0, 360.0)
    """
    if unit not in UNITS:
        unit = check_unit(unit)
    # Multiply before dividing so that exact values (1250 thousandths) give
    # exact degrees (75.0).
    return parse_angle(value, unit, signed=signed) * 360.0 / UNITS[unit]


def from_degrees(degrees: float, unit: str) -> float:
    """Convert degrees to ``unit``.

    Examples
    --------
    >>> from_degrees(90.0, "mil6000"), from_degrees(90.0, "mil6400")
    (1500.0, 1600.0)
    """
    unit = check_unit(unit)
    return float(degrees) * UNITS[unit] / 360.0


def format_angle(degrees: float, unit: str) -> str:
    """Write a bearing in the usual notation of ``unit``.

    mil6000 uses the dash notation rounded to a whole thousandth
    (``"12-50"``); mil6400 a whole number of mils; degrees keep up to nine
    decimals.  Rounding loses up to half a unit (0.03° in mil6000), so use
    numbers, not this function, where precision matters.

    Examples
    --------
    >>> format_angle(75.0, "mil6000"), format_angle(90.0, "mil6400"), format_angle(12.5, "deg")
    ('12-50', '1600', '12.5')
    """
    unit = check_unit(unit)
    value = from_degrees(degrees % 360.0, unit)
    if unit == "deg":
        return repr(round(value, 9))
    whole = int(round(value)) % int(UNITS[unit])
    if unit == "mil6000":
        return f"{whole // 100}-{whole % 100:02d}"
    return str(whole)
