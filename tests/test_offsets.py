"""Tests of ``minemap offsets`` (DESIGN §13).

The synthetic handover is built by hand: true fields are squares drawn in
UTM 38N; the recorded fields are the true ones with their SK-42 (Pulkovo
1942) geographic coordinates read as WGS 84, computed here directly with
pyproj (a Transformer with an area of interest), vertex by vertex.  The
expected correction is measured with ``pyproj.Geod`` between a recorded and
a true point.  Finds are placed inside the true fields.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod, Transformer
from pyproj.aoi import AreaOfInterest

from minemap.crossref.offsets import estimate_offsets

GEOD = Geod(ellps="WGS84")
UTM = Transformer.from_crs("EPSG:32638", "EPSG:4326", always_xy=True)
AOI = AreaOfInterest(46.5, 39.6, 47.3, 40.2)
TO_SK42 = Transformer.from_crs("EPSG:4326", "EPSG:4284", always_xy=True, area_of_interest=AOI)
X0, Y0 = 640_000.0, 4_425_000.0   # near Aghdam


def _ll(geom):
    return shapely.transform(geom, lambda xy: np.column_stack(UTM.transform(*xy.T)))


def _sk42_read_as_wgs84(geom):
    return shapely.transform(geom, lambda xy: np.column_stack(TO_SK42.transform(*xy.T)))


def _shift_m(geom, dx, dy):
    return shapely.transform(geom, lambda xy: xy + np.array([dx, dy]))


def synthetic(n_fields=30, finds_per_field=6, seed=1, size=120.0, spacing=700.0):
    """(true fields UTM, finds UTM) on a grid of squares with finds inside."""
    rng = np.random.default_rng(seed)
    fields, finds = [], []
    side = int(math.ceil(math.sqrt(n_fields)))
    for k in range(n_fields):
        x = X0 + (k % side) * spacing + rng.uniform(-100, 100)
        y = Y0 + (k // side) * spacing + rng.uniform(-100, 100)
        w, h = size * rng.uniform(0.6, 1.4), size * rng.uniform(0.6, 1.4)
        fields.append(shapely.box(x, y, x + w, y + h))
        pts = rng.uniform([x, y], [x + w, y + h], size=(finds_per_field, 2))
        finds.extend(shapely.points(pts))
    return np.array(fields, dtype=object), np.array(finds, dtype=object)


def frames(recorded_ll, finds_ll, handover="H", district="Aghdam"):
    f = gpd.GeoDataFrame({"record_id": [f"F{i}" for i in range(len(recorded_ll))],
                          "handover": handover, "district": district, "mines_total": 5},
                         geometry=list(recorded_ll), crs="EPSG:4326")
    i = gpd.GeoDataFrame({"item_id": [f"i{k}" for k in range(len(finds_ll))],
                          "item_type": "AP", "date": "2022-01-01", "report_id": "",
                          "district": district}, geometry=list(finds_ll), crs="EPSG:4326")
    return f, i


def expected_correction(true_ll, recorded_ll):
    """Ground (east, north) metres from a recorded vertex to its true one."""
    a = shapely.get_coordinates(recorded_ll)[0]
    b = shapely.get_coordinates(true_ll)[0]
    az, _, d = GEOD.inv(a[0], a[1], b[0], b[1])
    return d * math.sin(math.radians(az)), d * math.cos(math.radians(az))


@pytest.fixture(scope="module")
def sk42_case():
    true_utm, finds_utm = synthetic()
    true_ll = np.array([_ll(g) for g in true_utm], dtype=object)
    recorded = np.array([_sk42_read_as_wgs84(g) for g in true_ll], dtype=object)
    finds_ll = np.array([_ll(p) for p in finds_utm], dtype=object)
    return true_ll, recorded, finds_ll


def test_sk42_shift_is_recovered_and_suspected(sk42_case):
    true_ll, recorded, finds_ll = sk42_case
    fields, items = frames(recorded, finds_ll)
    table, offsets = estimate_offsets(fields, items)
    row = table.iloc[0]
    ex, ey = expected_correction(true_ll[0], recorded[0])
    assert 80 < math.hypot(ex, ey) < 160  # the datum shift here, by pyproj
    assert math.hypot(row.dx_m - ex, row.dy_m - ey) < 10
    assert row.shift_m == pytest.approx(math.hypot(row.dx_m, row.dy_m))
    assert bool(row.datum_suspect) is True
    assert row.finds_used == len(finds_ll)
    assert row.accuracy_pct_after > 95 > 20 > row.accuracy_pct_before
    assert 0 < row.ci95_m < 10
    assert set(offsets) == {("H", "")}


def test_unshifted_control(sk42_case):
    true_ll, _, finds_ll = sk42_case
    row = estimate_offsets(*frames(true_ll, finds_ll))[0].iloc[0]
    assert row.shift_m < 10
    assert bool(row.datum_suspect) is False
    assert row.accuracy_pct_before == 100.0


def test_outliers_of_unmapped_fields_do_not_drag_the_estimate(sk42_case):
    true_ll, recorded, finds_ll = sk42_case
    base = estimate_offsets(*frames(recorded, finds_ll))[0].iloc[0]
    # A dense unmapped field 150-250 m north-east of each of the first fields:
    # 60 finds that no recorded field explains.
    rng = np.random.default_rng(7)
    extra = []
    for g in true_ll[:10]:
        c = shapely.get_coordinates(g).mean(axis=0)
        x, y = UTM.transform(*c, direction="INVERSE")
        for _ in range(6):
            extra.append(_ll(shapely.Point(x + rng.uniform(150, 250), y + rng.uniform(150, 250))))
    finds = np.concatenate([finds_ll, np.array(extra, dtype=object)])
    row = estimate_offsets(*frames(recorded, finds))[0].iloc[0]
    assert math.hypot(row.dx_m - base.dx_m, row.dy_m - base.dy_m) < 10


def test_too_few_finds_gives_no_estimate(sk42_case):
    true_ll, recorded, finds_ll = sk42_case
    table, offsets = estimate_offsets(*frames(recorded, finds_ll[:9]))
    row = table.iloc[0]
    assert row.finds_used == 9 and math.isnan(row.dx_m) and math.isnan(row.ci95_m)
    assert "no estimate" in row.note and offsets == {}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dx=st.floats(-200, 200), dy=st.floats(-200, 200), per_field=st.integers(2, 8),
       seed=st.integers(0, 1000))
def test_any_shift_is_recovered(dx, dy, per_field, seed):
    true_utm, finds_utm = synthetic(n_fields=25, finds_per_field=per_field, seed=seed)
    recorded = np.array([_ll(_shift_m(g, -dx, -dy)) for g in true_utm], dtype=object)
    finds = np.array([_ll(p) for p in finds_utm], dtype=object)
    row = estimate_offsets(*frames(recorded, finds), n_boot=0)[0].iloc[0]
    # The correction in grid metres is (dx, dy); on the ground, towards true
    # north, it is that vector turned by the grid convergence: measure it.
    c = shapely.get_coordinates(true_utm[0])[0]
    a = UTM.transform(c[0] - dx, c[1] - dy)
    b = UTM.transform(c[0], c[1])
    az, _, d = GEOD.inv(a[0], a[1], b[0], b[1])
    ex, ey = d * math.sin(math.radians(az)), d * math.cos(math.radians(az))
    assert math.hypot(row.dx_m - ex, row.dy_m - ey) < 10


def _store_case(tmp_path, recorded_ll, finds_ll):
    from minemap.imports import import_clearance, import_records
    from tests.conftest import feature, write_geojson

    fields = write_geojson(tmp_path / "f.geojson", [
        feature({"record_id": f"F{i}", "mines_ap": 5, "district": "Aghdam"}, g)
        for i, g in enumerate(recorded_ll)])
    items = write_geojson(tmp_path / "i.geojson", [
        feature({"item_id": f"i{k}", "item_type": "AP", "date": "2022-01-01"}, p)
        for k, p in enumerate(finds_ll)])
    store = tmp_path / "m.gpkg"
    import_records([fields], handover="H", store=store, handover_date="2021-06-12")
    import_clearance([items], store=store)
    return store


def test_cli_reports_and_apply_records_a_revertible_revision(tmp_path, sk42_case, cli):
    import json

    from minemap.api import crossref
    from minemap.store import Store

    true_ll, recorded, finds_ll = sk42_case
    store = _store_case(tmp_path, recorded, finds_ll)
    before = crossref(store, by="handover").iloc[0]
    res = cli("--store", store, "offsets", "--json")
    assert res.exit_code == 0, res.output
    row = json.loads(res.output)[0]
    assert row["datum_suspect"] is True and row["finds_used"] == len(finds_ll)
    assert Store(store).latest_revision() == 2  # never changes the store
    assert cli("--store", store, "offsets", "--apply").exit_code == 2  # needs --handover
    res = cli("--store", store, "offsets", "--apply", "--handover", "H")
    assert res.exit_code == 0, res.output
    assert "revision 3" in res.output
    st = Store(store)
    assert st.latest_revision() == 3
    prov = st.revisions()[-1]["options"]["offsets"]
    est = prov["estimates"][0]
    assert est["dx_m"] == pytest.approx(row["dx_m"]) and est["ci95_m"] == row["ci95_m"]
    assert "--apply" in prov["command"]
    after = crossref(store, by="handover").iloc[0]
    assert after.accuracy_pct > 95 > before.accuracy_pct
    assert after.accuracy_pct == pytest.approx(row["accuracy_pct_after"])
    # The moved fields now sit on the true ones (within the 10 m tolerance).
    moved = st.read("minefields").set_index("record_id").geometry
    ex, ey = expected_correction(true_ll[0], recorded[0])
    a = shapely.get_coordinates(moved["F0"])[0]
    b = shapely.get_coordinates(true_ll[0])[0]
    assert GEOD.inv(a[0], a[1], b[0], b[1])[2] < 10
    # The map as it was: the earlier revision's records give the original accuracy exactly.
    then = crossref(store, by="handover", records_revision=2).iloc[0]
    assert then.accuracy_pct == before.accuracy_pct
    assert then.found_inside == before.found_inside
    # And `revert` undoes the apply: a new revision whose records are revision 2's,
    # with the original accuracy exactly.
    res = cli("--store", store, "revert", "2", "--handover", "H")
    assert res.exit_code == 0, res.output
    assert Store(store).latest_revision() == 4
    reverted = crossref(store, by="handover").iloc[0]
    assert reverted.accuracy_pct == before.accuracy_pct
    assert reverted.found_inside == before.found_inside
    back = Store(store).read("minefields").set_index("record_id").geometry
    assert shapely.hausdorff_distance(back["F0"], recorded[0]) < 1e-7  # about 1 cm


def test_by_district_gives_one_estimate_per_district(sk42_case):
    true_ll, recorded, finds_ll = sk42_case
    # A second district, 12 km east, that was mapped right.
    east_utm, east_finds = synthetic(n_fields=20, seed=3)

    def move(g):
        return _ll(_shift_m(g, 12_000, 0))

    east_ll = np.array([move(g) for g in east_utm], dtype=object)
    east_f = np.array([move(p) for p in east_finds], dtype=object)
    f1, i1 = frames(recorded, finds_ll, district="Aghdam")
    f2, i2 = frames(east_ll, east_f, district="Fuzuli")
    f2["record_id"] = "E" + f2["record_id"]
    i2["item_id"] = "e" + i2["item_id"]
    fields = gpd.GeoDataFrame(pd.concat([f1, f2], ignore_index=True), crs="EPSG:4326")
    items = gpd.GeoDataFrame(pd.concat([i1, i2], ignore_index=True), crs="EPSG:4326")
    t = estimate_offsets(fields, items, by="district", n_boot=50)[0].set_index("district")
    ex, ey = expected_correction(true_ll[0], recorded[0])
    assert math.hypot(t.loc["Aghdam", "dx_m"] - ex, t.loc["Aghdam", "dy_m"] - ey) < 10
    assert t.loc["Fuzuli", "shift_m"] < 10 and not bool(t.loc["Fuzuli", "datum_suspect"])
    # One estimate for the whole handover mixes the two.
    whole = estimate_offsets(fields, items, n_boot=0)[0].iloc[0]
    assert whole.finds_used == len(items)


def test_rotation_is_estimated():
    true_utm, finds_utm = synthetic(n_fields=36, finds_per_field=8, seed=5)
    centre = shapely.get_coordinates(shapely.union_all(true_utm).centroid)[0]
    # Recorded = true turned 1° clockwise about the centre, so the correction is +1°.
    recorded = np.array([_ll(shapely.affinity.rotate(g, -1.0, origin=tuple(centre)))
                         for g in true_utm], dtype=object)
    finds = np.array([_ll(p) for p in finds_utm], dtype=object)
    row = estimate_offsets(*frames(recorded, finds), rotation=True, n_boot=0)[0].iloc[0]
    assert row.rotation_deg == pytest.approx(1.0, abs=0.26)
    assert row.accuracy_pct_after > 90


def test_offset_outlines_show_the_moved_fields_without_changing_the_store(tmp_path, sk42_case):
    from minemap.accuracy import offset_outlines
    from minemap.store import Store

    true_ll, recorded, finds_ll = sk42_case
    store = _store_case(tmp_path, recorded, finds_ll)
    out = offset_outlines(store).set_index("record_id")
    assert Store(store).latest_revision() == 2
    assert len(out) == len(recorded)
    a = shapely.get_coordinates(out.loc["F0", "geometry"])[0]
    b = shapely.get_coordinates(true_ll[0])[0]
    assert GEOD.inv(a[0], a[1], b[0], b[1])[2] < 10


def test_map_shows_the_proposed_outlines_and_the_remaining_hazard(tmp_path, sk42_case, runner):
    """`map --offsets` draws the moved fields (near the true ones); the store is unchanged."""
    import json
    import re

    from minemap.api import map_frames
    from minemap.cli.main import cli as group
    from minemap.store import Store

    true_ll, recorded, finds_ll = sk42_case
    store = _store_case(tmp_path, recorded, finds_ll)
    frames = map_frames(store, shifted=True)
    moved = frames["shifted"].set_index("record_id")
    assert len(moved) == len(recorded)
    a = shapely.get_coordinates(moved.loc["F0", "geometry"])[0]
    b = shapely.get_coordinates(true_ll[0])[0]
    assert GEOD.inv(a[0], a[1], b[0], b[1])[2] < 10
    # Nothing is released: every field is remaining hazard, whole.
    assert sorted(frames["remaining"]["record_id"]) == sorted(f"F{i}" for i in range(len(recorded)))
    assert "shifted" not in map_frames(store)
    out = tmp_path / "m.html"
    res = runner.invoke(group, ["--store", str(store), "map", "-o", str(out), "--offsets"])
    assert res.exit_code == 0, res.output
    payload = re.search(r'<script type="application/json"[^>]*>(.*?)</script>', out.read_text(),
                        re.S)
    assert payload is not None and '"shifted"' in payload.group(1)
    json.loads(payload.group(1))
    assert Store(store).latest_revision() == 2
