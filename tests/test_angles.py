"""Angle units: degrees, NATO mils (6400) and Soviet thousandths (6000)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minemap.geo.angles import (
    AngleError,
    check_unit,
    format_angle,
    from_degrees,
    parse_angle,
    to_degrees,
)


@pytest.mark.parametrize(
    ("value", "unit", "degrees"),
    [
        ("60-00", "mil6000", 360.0),
        (6400, "mil6400", 360.0),
        ("15-00", "mil6000", 90.0),
        (1600, "mil6400", 90.0),
        ("1600", "mil6400", 90.0),
        ("12-50", "mil6000", 75.0),
        ("1250", "mil6000", 75.0),
        (1250, "mil6000", 75.0),
        (75.0, "deg", 75.0),
        ("75.0", "deg", 75.0),
        ("0-05", "mil6000", 0.3),       # 5 thousandths = 5 * 0.06°
        ("30–00", "mil6000", 180.0),    # en dash pasted from a document
        (" 45 - 00 ", "mil6000", 270.0),
        (0, "deg", 0.0),
        ("0750", "mil6400", 42.1875),   # never octal: 750 * 360 / 6400
    ],
)
def test_known_values(value, unit, degrees):
    assert to_degrees(value, unit) == pytest.approx(degrees, abs=1e-12)


def test_signed_corrections():
    assert to_degrees("-0-12", "mil6000", signed=True) == pytest.approx(-0.72)
    assert to_degrees("+1-00", "mil6000", signed=True) == pytest.approx(6.0)
    assert to_degrees(-2.5, "deg", signed=True) == -2.5
    with pytest.raises(AngleError):
        to_degrees("31-00", "mil6000", signed=True)  # more than half a circle


@pytest.mark.parametrize(
    ("value", "unit", "fragment"),
    [
        ("65-00", "mil6000", "outside the mil6000 circle"),
        (6401, "mil6400", "outside the mil6400 circle"),
        (360.5, "deg", "outside the deg circle"),
        (-5, "deg", "negative"),
        ("-0-10", "mil6000", "negative"),
        ("12-50", "deg", "mil notation"),
        ("1-5", "mil6000", "cannot read"),
        ("12-5O", "mil6000", "cannot read"),
        ("nan", "deg", "cannot read"),
        (float("inf"), "deg", "finite"),
        (None, "deg", "not a number"),
        (True, "deg", "not a number"),
        ("", "mil6000", "cannot read"),
    ],
)
def test_refused(value, unit, fragment):
    with pytest.raises(AngleError, match=fragment):
        to_degrees(value, unit)


def test_units():
    assert check_unit(" MIL6000 ") == "mil6000"
    for bad in ("mils", "grad", "", None, "degrees"):
        with pytest.raises(AngleError, match="unknown angle unit"):
            check_unit(bad)


def test_from_degrees_and_format():
    assert from_degrees(90, "mil6000") == 1500
    assert from_degrees(90, "mil6400") == 1600
    assert format_angle(75.0, "mil6000") == "12-50"
    assert format_angle(0.3, "mil6000") == "0-05"
    assert format_angle(360.0, "mil6000") == "0-00"
    assert format_angle(90.0, "mil6400") == "1600"
    assert format_angle(12.5, "deg") == "12.5"


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 6000))
def test_dash_notation_property(thousandths):
    text = f"{thousandths // 100}-{thousandths % 100:02d}"
    # 6000 thousandths = 360°, so one thousandth is 0.06° exactly.
    assert to_degrees(text, "mil6000") == pytest.approx(thousandths * 0.06, abs=1e-9)
    assert parse_angle(text, "mil6000") == thousandths


@settings(max_examples=200, deadline=None)
@given(st.floats(0, 6400, allow_nan=False))
def test_mil6400_numbers(mils):
    assert to_degrees(mils, "mil6400") == pytest.approx(mils * 0.05625, abs=1e-9)
    assert to_degrees(repr(mils), "mil6400") == pytest.approx(mils * 0.05625, abs=1e-9)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=12), st.sampled_from(["deg", "mil6400", "mil6000"]))
def test_parser_only_raises_angle_error(text, unit):
    try:
        value = to_degrees(text, unit)
    except AngleError:
        return
    assert 0 <= value <= 360
