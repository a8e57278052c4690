"""`export --layer remaining`: each field minus its released land, a task order's polygon."""

from __future__ import annotations

import json

import pytest
import shapely
from pyproj import Geod

from tests.conftest import feature, rect, write_geojson

GEOD = Geod(ellps="WGS84")


def _ha(geom) -> float:
    return abs(GEOD.geometry_area_perimeter(shapely.orient_polygons(geom))[0]) / 1e4


def test_remaining_polygon_is_the_field_minus_its_release(tmp_path, cli):
    field, other = rect(0, 0, 100, 100), rect(400, 0, 100, 100)
    release = rect(0, 0, 40, 100)
    write_geojson(tmp_path / "f.geojson", [
        feature({"record_id": "A", "mines_ap": 10, "mine_types": "PMN-2"}, field),
        feature({"record_id": "B", "mines_ap": 4}, other)])
    write_geojson(tmp_path / "r.geojson", [
        feature({"report_id": "R1", "date": "2022-03-01", "outcome": "cleared"}, release)])
    assert cli("import-records", tmp_path / "f.geojson", "--handover", "h").exit_code == 0
    assert cli("import-clearance", tmp_path / "r.geojson").exit_code == 0
    out = tmp_path / "remaining.geojson"
    res = cli("export", "-o", out, "--layer", "remaining")
    assert res.exit_code == 0, res.output
    feats = {f["properties"]["record_id"]: f for f in json.loads(out.read_text())["features"]}
    assert set(feats) == {"A", "B"}
    got = shapely.geometry.shape(feats["A"]["geometry"])
    # Independently: shapely's difference of the two source polygons, geodesic area.
    expected = shapely.difference(field, release)
    assert _ha(got) == pytest.approx(_ha(expected), rel=1e-3)
    assert _ha(got) == pytest.approx(0.6, rel=5e-3)  # 60 m × 100 m
    # The same land: GeoJSON's 6 decimals move a vertex by up to ~0.06 m, so along
    # the 320 m outline the two may differ by up to ~20 m² (plus a sliver where
    # the two rectangles' lon/lat edges are not exactly collinear).
    assert _ha(shapely.symmetric_difference(got, expected)) * 1e4 < 20.0
    props = feats["A"]["properties"]
    assert props["status"] == "in_progress" and props["mine_types"] == "PMN-2"
    # Conservative: max(10 - 0 found, 10 × 0.6) = 10 mines still to find.
    assert props["remaining_est"] == pytest.approx(10)
    assert feats["B"]["properties"]["remaining_est"] == pytest.approx(4)
    # Filters work as on the other layers.
    res = cli("export", "-o", tmp_path / "s.geojson", "--layer", "remaining",
              "--status", "not_started")
    assert res.exit_code == 0
    kept = json.loads((tmp_path / "s.geojson").read_text())["features"]
    assert [f["properties"]["record_id"] for f in kept] == ["B"]
