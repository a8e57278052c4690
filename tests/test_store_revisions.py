"""Exact revisions, removals, revert and history diffs (DESIGN §5, issues 15 and 16)."""

from __future__ import annotations

import json

from minemap import Store, crossref, import_records
from tests.conftest import fields_file


def test_handovers_and_their_dates_are_exact_at_every_revision(tmp_path, store_path, cli):
    import_records([fields_file(tmp_path / "a.geojson", 2)], handover="h", store=store_path,
                   handover_date="2021-06-12")
    import_records([fields_file(tmp_path / "b.geojson", 2, prefix="B")], handover="b",
                   store=store_path, handover_date="2021-07-03")
    import_records([fields_file(tmp_path / "a2.geojson", 2, ap=30)], handover="h",
                   store=store_path, handover_date="2020-01-01")
    st = Store(store_path)
    assert st.handovers(revision=1).values.tolist() == [["h", "2021-06-12"]]
    assert st.handovers(revision=2).values.tolist() == [["h", "2021-06-12"], ["b", "2021-07-03"]]
    assert st.handovers().values.tolist() == [["h", "2020-01-01"], ["b", "2021-07-03"]]
    by_h = crossref(store_path, by="handover", revision=1)
    assert by_h[["handover", "handover_date"]].astype(str).values.tolist() == [
        ["h", "2021-06-12"]]
    res = cli("crossref", "--by", "handover", "--revision", "2", "--json")
    assert res.exit_code == 0, res.output
    rows = {r["handover"]: r["handover_date"] for r in json.loads(res.output)}
    assert rows == {"h": "2021-06-12", "b": "2021-07-03"}
