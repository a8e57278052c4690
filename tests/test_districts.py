"""District names: every spelling of DESIGN §3, in any case, with or without diacritics.

The table below is typed from DESIGN §3, independently of minemap.geo.districts.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minemap.geo.districts import CANONICAL, CENTRES, names_pattern, normalise

DESIGN_TABLE: dict[str, list[str]] = {
    "Aghdam": ["Agdam", "Ağdam", "Агдам"],
    "Aghdara": ["Agdara", "Ağdərə", "Mardakert"],
    "Fuzuli": ["Fizuli", "Füzuli", "Физули"],
    "Gubadli": ["Qubadli", "Qubadlı", "Gubadly", "Kubatly", "Губадлы"],
    "Jabrayil": ["Jabrail", "Jebrail", "Cəbrayıl", "Джебраил"],
    "Kalbajar": ["Kelbajar", "Kelbadjar", "Kəlbəcər", "Кельбаджар"],
    "Khankendi": ["Khankandi", "Xankəndi", "Stepanakert"],
    "Khojaly": ["Khojali", "Xocalı", "Ходжалы"],
    "Khojavand": ["Khojavend", "Xocavənd", "Martuni"],
    "Lachin": ["Laçın", "Лачин"],
    "Shusha": ["Susha", "Şuşa", "Shushi", "Шуша"],
    "Tartar": ["Terter", "Tərtər", "Тертер"],
    "Zangilan": ["Zengilan", "Zəngilan", "Зангелан"],
    "Goranboy": ["Qoranboy", "Goranboy"],
}
ALL = [(canon, s) for canon, vs in DESIGN_TABLE.items() for s in (canon, *vs)]

# Azerbaijani letters that are not a base letter plus a combining mark.
_PLAIN = str.maketrans({"ə": "e", "Ə": "E", "ı": "i"})


def without_diacritics(s: str) -> str:
    s = unicodedata.normalize("NFD", s.translate(_PLAIN))
    return "".join(c for c in s if unicodedata.category(c) != "Mn")


def test_canonical_set_matches_design():
    assert set(CANONICAL) == set(DESIGN_TABLE)


@pytest.mark.parametrize(("canonical", "spelling"), ALL)
def test_every_design_spelling(canonical, spelling):
    assert normalise(spelling) == canonical


@pytest.mark.parametrize(("canonical", "spelling"), ALL)
def test_case_insensitive(canonical, spelling):
    for variant in (spelling.upper(), spelling.lower(), spelling.casefold(), spelling.title(),
                    spelling.swapcase()):
        assert normalise(variant) == canonical, variant


@pytest.mark.parametrize(("canonical", "spelling"), ALL)
def test_diacritic_insensitive(canonical, spelling):
    plain = without_diacritics(spelling)
    assert normalise(plain) == canonical, plain
    assert normalise(plain.upper()) == canonical, plain.upper()
    # The same letters written decomposed (a base letter plus a combining mark).
    assert normalise(unicodedata.normalize("NFD", spelling)) == canonical


@pytest.mark.parametrize(("canonical", "spelling"), ALL)
def test_whitespace_and_suffixes(canonical, spelling):
    for variant in (f"  {spelling}\t", f"{spelling} region", f"{spelling} District",
                    f"{spelling}  RAYON", f"{spelling} raion"):
        assert normalise(variant) == canonical, variant


@pytest.mark.parametrize(("canonical", "spelling"), [("Aghdam", "Агдам"), ("Lachin", "Laçın")])
def test_russian_suffix(canonical, spelling):
    assert normalise(f"{spelling} район") == canonical


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("AĞDAM", "Aghdam"),
        ("füzuli", "Fuzuli"),
        ("FÜZULİ", "Fuzuli"),        # Turkish dotted capital I
        ("QUBADLI", "Gubadli"),       # the upper case of "Qubadlı"
        ("CƏBRAYIL", "Jabrayil"),
        ("KƏLBƏCƏR", "Kalbajar"),
        ("Kelbəcər", "Kalbajar"),
        ("şuşa", "Shusha"),
        ("LAÇIN", "Lachin"),
        ("lacin", "Lachin"),
        ("тертер", "Tartar"),
        ("ЗАНГЕЛАН", "Zangilan"),
        ("FIZULI region", "Fuzuli"),
    ],
)
def test_hand_picked_variants(spelling, expected):
    assert normalise(spelling) == expected


@pytest.mark.parametrize("name", [None, "", "   ", "Atlantis", "Karabakh", "Baku", "Aghda",
                                  "Aghdamm", "region", "Tartar Fuzuli"])
def test_unknown_is_none(name):
    assert normalise(name) is None


def test_no_spelling_is_shared_by_two_districts():
    keys: dict[str, str] = {}
    for canon, s in ALL:
        key = without_diacritics(s).casefold()
        assert keys.setdefault(key, canon) == canon, (s, keys[key], canon)


@pytest.mark.parametrize(("canonical", "spelling"), ALL)
def test_names_pattern_finds_every_spelling(canonical, spelling):
    rx = re.compile(names_pattern(), re.IGNORECASE)
    text = f"Operations were conducted in Tartar and {spelling} regions."
    found = [m.group(0) for m in rx.finditer(text)]
    assert found[-1].casefold() == spelling.casefold()
    assert normalise(found[-1]) == canonical
    assert rx.fullmatch(spelling)


def test_centres_in_area_of_interest():
    # DESIGN §3: the affected area is about lat 38.85–40.55, lon 45.55–47.55.
    assert set(CENTRES) <= set(DESIGN_TABLE)
    for lat, lon in CENTRES.values():
        assert 38.85 <= lat <= 40.55 and 45.55 <= lon <= 47.55
    assert CENTRES["Aghdam"] == (39.98, 46.93) and CENTRES["Fuzuli"] == (39.60, 47.14)


@given(st.sampled_from(ALL), st.lists(st.booleans(), min_size=12, max_size=12))
@settings(max_examples=200, deadline=None)
def test_random_mixed_case(case, flips):
    canonical, spelling = case
    mixed = "".join(
        (c.upper() if flip else c.lower()) for c, flip in zip(spelling, flips * 2)
    )
    assert normalise(mixed) == canonical, mixed
