"""The store end to end: incremental crossref, exports, queries and the CLI."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Geod

import minemap
from minemap import Store, import_clearance, import_records
from minemap.crossref import crossref_minefields
from tests.conftest import feature, fields_file, rect, write_geojson

GEOD = Geod(ellps="WGS84")


def _geod_ha(g) -> float:
    return abs(GEOD.geometry_area_perimeter(shapely.orient_polygons(g))[0]) / 10_000


def _releases(path, specs):
    """specs: (report_id, x, y, w, h, date, outcome, extra props)."""
    feats = [feature({"report_id": rid, "date": d, "outcome": o, "operator": "ANAMA",
                      "method": "manual", **extra}, rect(x, y, w, h))
             for rid, x, y, w, h, d, o, extra in specs]
    return write_geojson(path, feats)


def _items(path, specs):
    feats = []
    for iid, x, y, t, d, rid in specs:
        from tests.conftest import utm_to_ll
        pt = utm_to_ll(shapely.Point(650_000 + x, 4_427_000 + y))
        feats.append(feature({"item_id": iid, "item_type": t, "date": d, "report_id": rid}, pt))
    return write_geojson(path, feats)


def _full(store):
    st = Store(store)
    return crossref_minefields(st.read("minefields"), st.read("releases"), st.read("items"))


def _assert_materialised_equals_full(store):
    stored, rev = Store(store).read_crossref()
    assert rev == Store(store).latest_revision()
    full = _full(store)
    a = stored.sort_values(["handover", "record_id"]).reset_index(drop=True)
    b = pd.DataFrame(full).sort_values(["handover", "record_id"]).reset_index(drop=True)
    assert list(a.record_id) == list(b.record_id)
    for col in ("released_ha", "cleared_ha", "found_mines", "remaining_est"):
        np.testing.assert_allclose(a[col].astype(float), b[col].astype(float), rtol=1e-7,
                                   atol=1e-6)
    assert list(a.status) == list(b.status)
    assert list(a["flags"]) == list(b["flags"])


def test_incremental_crossref_matches_full_recompute(tmp_path, store_path):
    # Fields AGD-0001..0004 at x = 200..800 (100 m squares on a 200 m grid).
    import_records([fields_file(tmp_path / "f.geojson", 4)], handover="h", store=store_path)
    _assert_materialised_equals_full(store_path)
    # Field 1 fully cleared; field 2 half reduced; one release outside all fields.
    import_clearance([_releases(tmp_path / "r1.geojson", [
        ("R1", 190, -10, 120, 120, "2022-01-10", "cleared", {}),
        ("R2", 400, 0, 50, 100, "2022-01-11", "reduced", {}),
        ("R3", 5000, 5000, 100, 100, "2022-01-12", "cleared", {}),
    ])], store=store_path)
    _assert_materialised_equals_full(store_path)
    # Items: two AP in field 1 linked to R1; an unlinked AT in field 3.
    import_clearance([_items(tmp_path / "i.geojson", [
        ("I1", 250, 50, "AP", "2022-01-10", "R1"), ("I2", 260, 50, "AP", "2022-01-10", "R1"),
        ("I3", 650, 50, "AT", "2022-01-13", ""),
    ])], store=store_path)
    _assert_materialised_equals_full(store_path)
    # A release with counts and no linked items over fields 3 and 4: apportioned.
    import_clearance([_releases(tmp_path / "r2.geojson", [
        ("R4", 650, 0, 200, 100, "2022-02-01", "cleared", {"found_ap": 10, "found_at": 0}),
    ])], store=store_path)
    _assert_materialised_equals_full(store_path)
    # The item points of R4 arrive later, outside every field: R4's counts are
    # no longer apportioned, and the fields under it must be refreshed.
    import_clearance([_items(tmp_path / "i2.geojson", [
        ("I4", 900, 500, "AP", "2022-02-01", "R4"),
    ])], store=store_path)
    _assert_materialised_equals_full(store_path)
    # The handover is revised: field 4 removed, field 2 moved.
    feats = json.loads((tmp_path / "f.geojson").read_text())["features"][:3]
    feats[1]["geometry"] = json.loads(shapely.to_geojson(rect(3000, 0, 100, 100)))
    import_records([write_geojson(tmp_path / "f2.geojson", feats)], handover="h",
                   store=store_path, allow_removals=True)
    _assert_materialised_equals_full(store_path)
    table = minemap.crossref(store_path).set_index("record_id")
    assert "AGD-0004" not in table.index
    assert table.loc["AGD-0001", "status"] == "released"
    assert table.loc["AGD-0001", "area_ha"] == pytest.approx(1.0, rel=1e-3)


def test_as_of_filters_releases(tmp_path, store_path):
    import_records([fields_file(tmp_path / "f.geojson", 1)], handover="h", store=store_path)
    import_clearance([_releases(tmp_path / "r.geojson", [
        ("R1", 200, 0, 50, 100, "2022-01-10", "cleared", {}),
        ("R2", 250, 0, 50, 100, "2022-03-10", "reduced", {}),
    ])], store=store_path)
    early = minemap.crossref(store_path, as_of="2022-02-01").iloc[0]
    late = minemap.crossref(store_path).iloc[0]
    half = _geod_ha(rect(200, 0, 50, 100))
    assert early.released_ha == pytest.approx(half, rel=1e-3)
    assert early.status == "in_progress"
    assert late.released_ha == pytest.approx(2 * half, rel=1e-3)
    assert late.cleared_ha == pytest.approx(half, rel=1e-3)
    assert late.status == "released"


def test_export_revision_returns_past_state_exactly(tmp_path, store_path, cli):
    import_records([fields_file(tmp_path / "a.geojson", 3, ap=10)], handover="h",
                   store=store_path)
    import_records([fields_file(tmp_path / "b.geojson", 3, ap=20)], handover="h",
                   store=store_path)
    out = tmp_path / "rev1.geojson"
    assert cli("export", "-o", out, "--revision", 1).exit_code == 0
    doc = json.loads(out.read_text())
    assert "crs" not in doc
    assert [f["properties"]["mines_ap"] for f in doc["features"]] == [10, 10, 10]
    assert all(isinstance(f["properties"]["mines_ap"], int) for f in doc["features"])
    # RFC 7946: exterior rings counter-clockwise.
    for f in doc["features"]:
        geom = shapely.geometry.shape(f["geometry"])
        for poly in getattr(geom, "geoms", [geom]):
            assert shapely.LinearRing(poly.exterior.coords).is_ccw
    res = cli("export", "-o", out, "--revision", 2)
    assert res.exit_code == 2 and "--overwrite" in res.output
    assert cli("export", "-o", out, "--revision", 2, "--overwrite").exit_code == 0
    assert {f["properties"]["mines_ap"] for f in json.loads(out.read_text())["features"]} == {20}
    assert cli("export", "-o", out, "--revision", 9, "--overwrite").exit_code == 2


@pytest.mark.parametrize("ext", [".geojson", ".gpkg", ".zip", ".kml"])
def test_export_then_import_round_trip(tmp_path, store_path, ext):
    src = fields_file(tmp_path / "a.geojson", 4, ap=7, at=3)
    doc = json.loads(src.read_text())
    for f in doc["features"]:
        # Mines of unknown type, and names longer than a Shapefile's 10
        # characters: both must come back.
        f["properties"].update(mines_total=12, reliability="low", laid_date="1993-06-20")
    src.write_text(json.dumps(doc))
    import_records([src], handover="h", store=store_path)
    out = tmp_path / f"out{ext}"
    minemap.export(out, store=store_path, layers="minefields")
    back = minemap.read_records([out], handover="h")
    assert not back.errors, back.errors
    orig = Store(store_path).read("minefields")
    got = back.minefields.set_index("record_id").loc[list(orig.record_id)]
    assert list(got.mines_ap) == [7] * 4 and list(got.mines_total) == [12] * 4
    assert list(got.reliability) == ["low"] * 4
    assert list(got.laid_date) == ["1993-06-20"] * 4
    for g, o in zip(got.geometry, orig.geometry):
        assert shapely.hausdorff_distance(g, o) < 2e-6  # the 6-decimal precision


def test_export_filters_and_errors(tmp_path, store_path, cli):
    import_records([fields_file(tmp_path / "a.geojson", 3)], handover="h", store=store_path)
    out = tmp_path / "x.geojson"
    res = cli("export", "-o", out, "--district", "Ağdam", "--status", "not_started",
              "--layer", "crossref")
    assert res.exit_code == 0
    assert len(json.loads(out.read_text())["features"]) == 3
    res = cli("export", "-o", tmp_path / "y.geojson", "--district", "Atlantis")
    assert res.exit_code == 2 and "Aghdam" in res.output
    res = cli("export", "-o", tmp_path / "y.geojson", "--layer", "nope")
    assert res.exit_code == 2 and "minefields" in res.output
    res = cli("export", "-o", tmp_path / "y.geojson", "--status", "released")
    assert res.exit_code == 0 and "warning" in res.output.lower()
    assert json.loads((tmp_path / "y.geojson").read_text())["features"] == []
    res = cli("export", "-o", tmp_path / "nodir" / "y.geojson")
    assert res.exit_code == 2
    res = cli("export", "-o", tmp_path / "y.txt")
    assert res.exit_code == 2 and ".geojson" in res.output


def test_crossref_cli_outputs(tmp_path, store_path, cli):
    import_records([fields_file(tmp_path / "a.geojson", 2)], handover="h",
                   store=store_path, handover_date="2021-06-12")
    res = cli("crossref")
    assert res.exit_code == 0 and "AGD-0001" in res.output and "total" in res.output
    res = cli("crossref", "--json")
    rows = json.loads(res.output)
    assert [r["record_id"] for r in rows] == ["AGD-0001", "AGD-0002"]
    assert set(rows[0]) == set(minemap.records.schema.CROSSREF_COLUMNS)
    for ext in (".csv", ".geojson", ".gpkg"):
        out = tmp_path / f"x{ext}"
        assert cli("crossref", "-o", out).exit_code == 0
        frame = pd.read_csv(out) if ext == ".csv" else pyogrio.read_dataframe(out)
        assert list(frame.record_id) == ["AGD-0001", "AGD-0002"]
    res = cli("crossref", "--by", "handover", "--json")
    assert json.loads(res.output)[0]["handover_date"] == "2021-06-12"


def test_map_cli_writes_escaped_html(tmp_path, store_path, cli):
    payload = "<img src=x onerror=alert(1)>"
    feats = [feature({"record_id": payload, "mines_ap": 1}, rect(0, 0, 100, 100))]
    import_records([write_geojson(tmp_path / "x.geojson", feats)], handover="h",
                   store=store_path)
    out = tmp_path / "m.html"
    res = cli("map", "-o", out, "--offline")
    assert res.exit_code == 0, res.output
    html = out.read_text()
    assert payload not in html
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in html
    assert cli("map", "-o", out).exit_code == 2


def test_info_and_history_json(tmp_path, store_path, cli):
    import_records([fields_file(tmp_path / "a.geojson", 2)], handover="h", store=store_path)
    res = cli("history", "--json")
    (rev,) = json.loads(res.output)
    assert set(rev) == {"revision", "kind", "handover", "sources", "sha256", "imported_at",
                        "added", "changed", "removed"}
    assert rev["sources"] == ["a.geojson"] and rev["added"] == ["AGD-0001", "AGD-0002"]
    assert "2 fields, 24 mines recorded" in cli("info").output


def test_clearance_validation_errors(tmp_path, store_path, cli):
    bad = _releases(tmp_path / "r.geojson", [
        ("R1", 0, 0, 50, 50, "03/04/2022", "cleared", {}),
        ("R2", 0, 0, 50, 50, "2022-01-01", "exploded", {}),
    ])
    res = cli("import-clearance", bad)
    assert res.exit_code == 1 and "r.geojson: record R1" in res.output
    assert "ambiguous" in res.output
    res = cli("validate", bad, "--kind", "clearance")
    assert "record R2" in res.output and "outcome 'exploded'" in res.output
    assert not store_path.exists() or Store(store_path).latest_revision() == 0


def test_gpx_export_has_turning_points(tmp_path, store_path):
    import gpxpy

    import_records([fields_file(tmp_path / "a.geojson", 1)], handover="h", store=store_path)
    out = tmp_path / "t.gpx"
    minemap.export(out, store=store_path, layers="minefields")
    gpx = gpxpy.parse(out.read_text())
    assert [w.name for w in gpx.waypoints] == [f"AGD-0001-TP{i}" for i in range(1, 5)]


def test_frames_are_geodataframes(tmp_path, store_path):
    import_records([fields_file(tmp_path / "a.geojson", 1)], handover="h", store=store_path)
    assert isinstance(minemap.crossref(store_path), gpd.GeoDataFrame)
    assert isinstance(minemap.crossref(store_path, by="handover"), pd.DataFrame)


def test_traverse_and_gis_files_in_one_handover(tmp_path, store_path, cli):
    from pathlib import Path

    data = Path(__file__).parent / "data" / "traverse"
    gis = fields_file(tmp_path / "g.geojson", 2)
    res = cli("import-records", gis, data / "agd_0142.yaml", "--handover", "aghdam-2021-06-12")
    assert res.exit_code == 0, res.output
    assert "misclosure" in res.output  # the traverse's closure is reported on import
    st = Store(store_path)
    fields = st.read("minefields").set_index("record_id")
    assert set(fields.index) == {"AGD-0001", "AGD-0002", "AGD-0142"}
    rec = fields.loc["AGD-0142"]
    assert rec.source_crs == "EPSG:28408" and "Pulkovo 1942" in rec.transformation
    assert rec.mines_total == 76 and rec.misclosure_m > 0
    assert "reference_point" in rec.raw  # the record as received
    verts = st.read("vertices")
    assert {"TP1", "TP2", "TP3", "TP4"} <= set(verts.label)
    rows = st.read("mine_rows")
    assert list(rows.mines) == [40] and list(rows.record_id) == ["AGD-0142"]
    # rows (40) disagree with the record's 76 mines
    assert "row_count_mismatch" in rec["flags"]
    res = cli("history", "--json")
    assert json.loads(res.output)[0]["sources"] == ["g.geojson", "agd_0142.yaml"]


def test_traverse_refusal_names_file_record_and_leg(tmp_path, store_path, cli):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "record_id: X-1\nreference_point: {lat: 39.98, lon: 46.93}\nangle_unit: mil6000\n"
        "north: grid\nclosed: true\nlegs:\n  - {bearing: '10-00', distance_m: 100}\n"
        "  - {bearing: '65-00', distance_m: 100}\n  - {bearing: '30-00', distance_m: -5}\n"
        "  - {bearing: '45-00', distance_m: 100}\n")
    res = cli("validate", bad)
    assert res.exit_code == 1
    assert "bad.yaml" in res.output and "X-1" in res.output and "leg 2" in res.output
    assert "leg 3" in res.output
    assert cli("import-records", bad, "--handover", "h").exit_code == 1
    assert not store_path.exists() or Store(store_path).latest_revision() == 0


def test_csv_export_neutralises_formulas(tmp_path, store_path):
    feats = [feature({"record_id": '=HYPERLINK("http://x/?"&A1)', "mines_ap": 1,
                      "mine_types": "@SUM(1+1)"}, rect(0, 0, 50, 50))]
    import_records([write_geojson(tmp_path / "f.geojson", feats)], handover="h",
                   store=store_path)
    out = tmp_path / "f.csv"
    minemap.export(out, store=store_path, layers="minefields")
    row = pd.read_csv(out, dtype=str, keep_default_na=False).iloc[0]
    assert row.record_id == "'=HYPERLINK(\"http://x/?\"&A1)"
    assert row.mine_types == "'@SUM(1+1)"
    assert row.mines_ap == "1"


def test_raw_keeps_dates_as_written(tmp_path, store_path):
    import geopandas as gpd

    frame = gpd.GeoDataFrame({"record_id": ["D-1"], "mines_ap": [1],
                              "laid_date": pd.to_datetime(["1993-06-20"]).date},
                             geometry=[rect(0, 0, 50, 50)], crs="EPSG:4326")
    frame.to_file(tmp_path / "d.gpkg", driver="GPKG")
    rec = minemap.read_records([tmp_path / "d.gpkg"], handover="h").minefields.iloc[0]
    assert rec.laid_date == "1993-06-20"
    assert json.loads(rec.raw)["laid_date"] == "1993-06-20"


def test_export_to_a_closed_pipe_is_quiet(tmp_path, store_path):
    import subprocess
    import sys

    import_records([fields_file(tmp_path / "a.geojson", 300)], handover="h", store=store_path)
    proc = subprocess.Popen([sys.executable, "-m", "minemap", "--store", str(store_path),
                             "export", "-o", "-"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.read(50)
    proc.stdout.close()  # the reader goes away, as `| head -c 50` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert "Error" not in err and "Traceback" not in err


def test_clearance_refuses_undated_rows_and_polygon_items(tmp_path, store_path, cli):
    import geopandas as gpd

    # Dates read by GDAL as a date column: a missing one arrives as NaT.
    frame = gpd.GeoDataFrame(
        {"report_id": ["R1", "R2"], "date_end": pd.to_datetime(["2022-01-10", None]).date,
         "outcome": ["cleared", "cleared"]},
        geometry=[rect(0, 0, 50, 50), rect(100, 0, 50, 50)], crs="EPSG:4326")
    frame.to_file(tmp_path / "r.gpkg", driver="GPKG")
    res = cli("import-clearance", tmp_path / "r.gpkg")
    assert res.exit_code == 1 and "r.gpkg: record R2: no date" in res.output
    item = _items(tmp_path / "i.geojson", [("I1", 10, 10, "AP", "2022-01-10", "")])
    doc = json.loads(item.read_text())
    doc["features"][0]["geometry"] = json.loads(shapely.to_geojson(rect(0, 0, 10, 10)))
    item.write_text(json.dumps(doc))
    res = cli("import-clearance", item)
    assert res.exit_code == 1 and "record I1" in res.output and "items are points" in res.output
    assert not store_path.exists() or Store(store_path).latest_revision() == 0


def test_terminal_and_csv_tables_treat_data_as_text(tmp_path, store_path, cli):
    """rich markup and spreadsheet formulas in ids are shown, never interpreted."""
    feats = [feature({"record_id": "X[/bold]", "mines_ap": 2}, rect(0, 0, 50, 50)),
             feature({"record_id": '=HYPERLINK("http://x/")', "mines_ap": 1},
                     rect(100, 0, 50, 50))]
    import_records([write_geojson(tmp_path / "m.geojson", feats)], handover="[b]h[/b]",
                   store=store_path)
    res = cli("crossref")
    assert res.exit_code == 0, res.output
    assert "X[/bold]" in res.output and "[b]h[/b]" in res.output
    res = cli("crossref", "--by", "handover")
    assert res.exit_code == 0 and "[b]h[/b]" in res.output
    out = tmp_path / "c.csv"
    assert cli("crossref", "-o", out).exit_code == 0
    ids = pd.read_csv(out, dtype=str).record_id.tolist()
    assert sorted(ids) == sorted(["'=HYPERLINK(\"http://x/\")", "X[/bold]"])
    assert not list(tmp_path.glob(".c.csv*"))  # no temporary file left behind


def test_records_revision_measures_an_earlier_map(tmp_path, store_path, cli):
    """The original map against today's finds, after a revision moved a field."""
    v1 = write_geojson(tmp_path / "v1.geojson",
                       [feature({"record_id": "F1", "mines_ap": 5}, rect(0, 0, 100, 100))])
    v2 = write_geojson(tmp_path / "v2.geojson",
                       [feature({"record_id": "F1", "mines_ap": 5}, rect(400, 0, 100, 100))])
    import_records([v1], handover="h", store=store_path)   # revision 1
    import_records([v2], handover="h", store=store_path)   # revision 2
    import_clearance([_items(tmp_path / "i.geojson", [      # revision 3
        ("I1", 50, 50, "AP", "2022-01-10", "")])], store=store_path)
    now = json.loads(cli("crossref", "--by", "handover", "--json").output)[0]
    # 350 m from the revised field: in its 500 m footprint (DESIGN §5), outside it.
    assert (now["found_inside"], now["found_outside"]) == (0, 1)
    then = json.loads(cli("crossref", "--by", "handover", "--json",
                          "--records-revision", 1).output)[0]
    assert (then["found_inside"], then["found_outside"]) == (1, 0)
    assert cli("crossref", "--records-revision", 7).exit_code == 2


def test_gpx_names_stay_unique_across_handovers(tmp_path, store_path):
    import gpxpy

    import_records([fields_file(tmp_path / "a.geojson", 1)], handover="h1", store=store_path)
    import_records([fields_file(tmp_path / "b.geojson", 1, start=5)], handover="h2",
                   store=store_path)
    doc = json.loads((tmp_path / "b.geojson").read_text())
    doc["features"][0]["properties"]["record_id"] = "AGD-0001"  # the same id in h2
    (tmp_path / "b.geojson").write_text(json.dumps(doc))
    import_records([tmp_path / "b.geojson"], handover="h2", store=store_path,
                   allow_removals=True)
    out = tmp_path / "t.gpx"
    warnings = minemap.export(out, store=store_path, layers="minefields")
    names = [w.name for w in gpxpy.parse(out.read_text()).waypoints]
    assert len(names) == len(set(names)) == 8
    assert {"h1:AGD-0001-TP1", "h2:AGD-0001-TP1"} <= set(names)
    assert any("several handovers" in w for w in warnings)


def test_a_layers_first_import_hands_its_rows_to_the_refresh(tmp_path, store_path):
    # The refresh takes a layer's rows from the import only when they are all
    # of its current rows: the layer's first import, never a records import
    # (other handovers' rows are outside its scope).
    from minemap.crossref.refresh import refresh_crossref
    from minemap.imports import _plan
    from minemap.reading import read_clearance, read_records

    seen = []

    def refresh(view, revision, touched):
        seen.append(set(touched.complete))
        return refresh_crossref(view, revision, touched)

    st = Store(store_path)
    rs = read_records([fields_file(tmp_path / "f.geojson", 4)], handover="h")
    st.apply(_plan("records", {"minefields": rs.minefields}, rs.sources, handover="h"),
             refresh=refresh)
    for name, rid, x in (("r1.geojson", "R1", 190), ("r2.geojson", "R2", 390)):
        rs = read_clearance([_releases(tmp_path / name, [
            (rid, x, -10, 120, 120, "2022-01-10", "cleared", {})])])
        st.apply(_plan("clearance", {"releases": rs.releases, "items": rs.items}, rs.sources),
                 refresh=refresh)
    assert seen == [set(), {"releases", "items"}, {"items"}]
    _assert_materialised_equals_full(store_path)
    table = minemap.crossref(store_path).set_index("record_id")
    assert list(table["status"][["AGD-0001", "AGD-0002"]]) == ["released", "released"]
