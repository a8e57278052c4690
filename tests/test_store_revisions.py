"""Exact revisions, removals, revert and history diffs (DESIGN §5, issues 15 and 16)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import shapely
from pyproj import Geod

from minemap import Store, crossref, history_diff, import_clearance, import_records
from tests.conftest import feature, fields_file, rect, write_geojson
from tests.test_pipeline import _assert_materialised_equals_full, _releases


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


# --------------------------------------------------------------------------- revert


def _frame(st, layer, revision=None):
    f = st.read(layer, revision=revision).drop(columns="revision")
    key = [c for c in ("handover", "record_id", "report_id", "item_id", "vertex") if c in f]
    return f.sort_values(key).reset_index(drop=True)


def _same_state(a, b):
    assert list(a.columns) == list(b.columns)
    assert a.drop(columns="geometry").equals(b.drop(columns="geometry"))
    assert all(shapely.equals(a.geometry.values, b.geometry.values))


def test_revert_a_bad_import_restores_the_handover(tmp_path, store_path, cli):
    import_records([fields_file(tmp_path / "a.geojson", 10)], handover="h", store=store_path,
                   handover_date="2021-06-12")
    import_clearance([_releases(tmp_path / "r.geojson", [
        ("R1", 190, -10, 120, 120, "2022-01-10", "cleared", {}),
        ("R2", 1800, 0, 50, 100, "2022-01-11", "reduced", {})])], store=store_path)
    bad = fields_file(tmp_path / "bad.geojson", 6, ap=3)
    import_records([bad], handover="h", store=store_path, allow_removals=True)
    st = Store(store_path)
    assert len(st.read("minefields")) == 6
    res = cli("revert", "2", "--handover", "h")
    assert res.exit_code == 0, res.output
    assert "revision 4" in res.output and "6 changed" in res.output and "4 added" in res.output
    _same_state(_frame(st, "minefields"), _frame(st, "minefields", 1))
    _same_state(_frame(st, "vertices"), _frame(st, "vertices", 1))
    _same_state(_frame(st, "releases"), _frame(st, "releases", 2))
    assert len(st.read("minefields", revision=3)) == 6  # nothing was deleted
    _assert_materialised_equals_full(store_path)
    last = st.revisions()[-1]
    assert (last["kind"], last["handover"], last["options"]["revert_to"]) == ("revert", "h", 2)
    assert "revert handover h to revision 2" in cli("history").output
    # The same revert again changes nothing and uses no revision.
    again = cli("revert", "2", "--handover", "h")
    assert again.exit_code == 0 and "nothing to do" in again.output
    assert st.latest_revision() == 4
    # After the revert, the bad file is a real import again, not a no-op.
    res = cli("import-records", bad, "--handover", "h", "--allow-removals")
    assert res.exit_code == 0 and "revision 5" in res.output, res.output


def test_revert_removes_a_typo_handover(tmp_path, store_path, cli):
    import_records([fields_file(tmp_path / "a.geojson", 2)], handover="aghdam",
                   store=store_path, handover_date="2021-06-12")
    import_records([fields_file(tmp_path / "b.geojson", 3, prefix="B")], handover="aghadm",
                   store=store_path, handover_date="2021-06-12")
    assert cli("revert", "1", "--handover", "aghadm").exit_code == 0
    st = Store(store_path)
    assert set(st.read("minefields").handover) == {"aghdam"}
    assert st.handovers().handover.tolist() == ["aghdam"]
    assert sorted(st.handovers(revision=2).handover) == ["aghadm", "aghdam"]
    _assert_materialised_equals_full(store_path)


def test_revert_one_kind_or_the_whole_store(tmp_path, store_path, cli):
    import_records([fields_file(tmp_path / "a.geojson", 3)], handover="h", store=store_path)
    import_clearance([_releases(tmp_path / "r1.geojson", [
        ("R1", 190, -10, 120, 120, "2022-01-10", "cleared", {})])], store=store_path)
    import_clearance([_releases(tmp_path / "r2.geojson", [
        ("R1", 190, -10, 60, 120, "2022-01-10", "reduced", {}),
        ("R2", 400, 0, 50, 100, "2022-01-11", "reduced", {})])], store=store_path)
    import_records([fields_file(tmp_path / "b.geojson", 4, ap=7)], handover="h",
                   store=store_path)
    st = Store(store_path)
    res = cli("revert", "2", "--kind", "clearance")
    assert res.exit_code == 0, res.output
    _same_state(_frame(st, "releases"), _frame(st, "releases", 2))
    _same_state(_frame(st, "minefields"), _frame(st, "minefields", 4))
    _assert_materialised_equals_full(store_path)
    assert cli("revert", "1").exit_code == 0
    for layer in ("minefields", "vertices", "releases"):
        _same_state(_frame(st, layer), _frame(st, layer, 1))
    assert st.counts() == st.counts(revision=1)
    _assert_materialised_equals_full(store_path)
    assert cli("revert", "0").exit_code == 0
    assert sum(st.counts().values()) == 0 and st.handovers().empty


@pytest.mark.parametrize("args, message", [
    (("revert", "9"), "no revision 9 to revert to"),
    (("revert", "1", "--handover", "nope"), "--handover 'nope': no revision imported it"),
    (("revert", "1", "--handover", "h", "--kind", "clearance"), "--handover reverts records"),
])
def test_revert_usage_errors(tmp_path, store_path, cli, args, message):
    import_records([fields_file(tmp_path / "a.geojson", 2)], handover="h", store=store_path)
    res = cli(*args)
    assert res.exit_code == 2 and message in res.output, res.output
    assert Store(store_path).latest_revision() == 1


# --------------------------------------------------------------------------- diffs


def test_history_diff_per_record(tmp_path, store_path, cli):
    a = fields_file(tmp_path / "a.geojson", 3)
    import_records([a], handover="h", store=store_path)
    feats = json.loads(a.read_text())["features"]
    # AGD-0001 moves 30 m east (UTM 38N) and is recounted; AGD-0003 is
    # dropped; AGD-0009 is new; AGD-0002 stays.
    feats[0]["geometry"] = json.loads(shapely.to_geojson(rect(230, 0, 100, 100)))
    feats[0]["properties"].update(mines_ap=25, mines_at=3)
    feats = feats[:2] + [feature({"record_id": "AGD-0009", "mines_ap": 4, "mines_at": 0},
                                 rect(3000, 0, 50, 80))]
    import_records([write_geojson(tmp_path / "b.geojson", feats)], handover="h",
                   store=store_path, allow_removals=True)
    table = history_diff(store_path).set_index("record_id")
    assert sorted(table.index) == ["AGD-0001", "AGD-0003", "AGD-0009"]
    assert table.loc[["AGD-0001", "AGD-0003", "AGD-0009"], "change"].tolist() == [
        "changed", "removed", "added"]
    one = table.loc["AGD-0001"]
    assert (one.mines_ap_before, one.mines_ap_after, one.mines_total_before,
            one.mines_total_after) == (10, 25, 12, 28)
    geod = Geod(ellps="WGS84")
    old, new = rect(200, 0, 100, 100), rect(230, 0, 100, 100)
    assert one.area_ha_before == pytest.approx(abs(geod.geometry_area_perimeter(old)[0]) / 1e4,
                                               rel=1e-5)
    # A translation moves every vertex by the same ground distance: the
    # geodesic distance between matching corners.
    (x0, y0), (x1, y1) = shapely.get_coordinates(old)[0], shapely.get_coordinates(new)[0]
    moved = geod.inv(x0, y0, x1, y1)[2]
    assert moved == pytest.approx(30.0, abs=0.05)
    assert one.hausdorff_m == pytest.approx(moved, abs=0.02)
    gone, new_row = table.loc["AGD-0003"], table.loc["AGD-0009"]
    assert gone.mines_total_before == 12 and pd.isna(gone.mines_total_after)
    assert pd.isna(new_row.area_ha_before) and new_row.area_ha_after == pytest.approx(
        abs(geod.geometry_area_perimeter(rect(3000, 0, 50, 80))[0]) / 1e4, rel=1e-5)
    assert pd.isna(gone.hausdorff_m) and pd.isna(new_row.hausdorff_m)

    res = cli("history", "--diff")
    assert res.exit_code == 0, res.output
    line = next(x for x in res.output.splitlines() if "AGD-0001" in x)
    assert "changed: mines 12 -> 28" in line and f"moved {moved:.1f} m" in line
    rows = json.loads(cli("history", "--diff", "2", "--json").output)
    assert {r["record_id"]: r["mines_total_after"] for r in rows} == {
        "AGD-0001": 28, "AGD-0003": None, "AGD-0009": 4}
    first = json.loads(cli("history", "--diff", "1", "--json").output)
    assert sorted(r["record_id"] for r in first) == ["AGD-0001", "AGD-0002", "AGD-0003"]
    assert {r["change"] for r in first} == {"added"}
