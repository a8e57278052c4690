"""The report corpus: 55 texts in the published styles, read exactly.

Each text in ``tests/data/reports/corpus/`` was written for these tests in one
of the wordings of DESIGN §9; its expected reading, extracted by hand, is in
``corpus.yaml`` beside it.  Nothing here comes from the parser.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from minemap._errors import DataError
from minemap.readers.reports import parse_report, read_report_text

CORPUS = Path(__file__).parent / "data" / "reports" / "corpus"
EXPECTED: dict[str, dict] = yaml.safe_load((CORPUS.parent / "corpus.yaml").read_text("utf-8"))
FIELDS = ("date_start", "date_end", "districts", "found_ap", "found_at", "found_uxo",
          "cleared_ha")


def test_every_text_has_an_expectation_and_there_are_40_or_more():
    names = sorted(p.stem for p in CORPUS.glob("*.txt"))
    assert names == sorted(EXPECTED) and len(names) >= 40


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_text(name):
    expected = EXPECTED[name]
    text = (CORPUS / f"{name}.txt").read_text("utf-8")
    source = f"{name}.txt"
    if "refused" in expected:
        with pytest.raises(DataError) as info:
            parse_report(text, source=source)
        message = str(info.value)
        assert message.startswith(f"{source}: ") and "\n" not in message
        assert expected["refused"] in message
        return
    got = parse_report(text, source=source)
    want = {k: expected[k] for k in FIELDS}
    assert isinstance(want["date_start"], date)
    assert {k: got[k] for k in FIELDS} == want
    for k in ("found_ap", "found_at", "found_uxo"):
        assert got[k] is None or type(got[k]) is int
    assert got["cleared_ha"] is None or type(got["cleared_ha"]) is float
    if "ignored" in expected:
        notes = read_report_text(text, source=source).notes
        for place in expected["ignored"]:
            assert any(f"'{place}'" in n and "not a district" in n for n in notes), place
