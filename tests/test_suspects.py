"""Tests of ``minemap suspects`` (DESIGN §13).

Points are laid out in UTM 38N metres and projected with pyproj; the
grouping is checked against a brute-force DBSCAN written here from its
definition, and areas against ``pyproj.Geod``.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from minemap.crossref.suspects import SUSPECT_COLUMNS, dbscan_labels, suspected_areas
from tests.conftest import rect, utm_to_ll

GEOD = Geod(ellps="WGS84")
X0, Y0 = 650_000.0, 4_427_000.0


def pt(x, y):
    return utm_to_ll(shapely.Point(X0 + x, Y0 + y))


def brute_dbscan(xy, eps, min_items):
    """DBSCAN from its definition: sets of core points reachable from each other."""
    n = len(xy)
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    nb = d <= eps
    core = nb.sum(axis=1) >= min_items
    groups = []
    seen = set()
    for i in range(n):
        if not core[i] or i in seen:
            continue
        comp, todo = {i}, [i]
        while todo:
            j = todo.pop()
            for k in np.flatnonzero(nb[j] & core):
                if k not in comp:
                    comp.add(k)
                    todo.append(k)
        seen |= comp
        groups.append(comp)
    return core, groups, nb


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pts=st.lists(st.tuples(st.integers(0, 600), st.integers(0, 600)), min_size=0,
                    max_size=40),
       eps=st.sampled_from([30.0, 60.0, 100.0]), min_items=st.integers(1, 4))
def test_grouping_is_dbscan(pts, eps, min_items):
    xy = np.array(pts, dtype=float).reshape(-1, 2)
    labels = dbscan_labels(xy, eps, min_items)
    core, groups, nb = brute_dbscan(xy, eps, min_items)
    # Core points: the same partition.
    for comp in groups:
        assert len({labels[i] for i in comp}) == 1
    assert len({labels[next(iter(c))] for c in groups}) == len(groups)
    for i in range(len(xy)):
        if core[i]:
            continue
        near_core = np.flatnonzero(nb[i] & core)
        if len(near_core):
            assert labels[i] in {labels[j] for j in near_core}  # a border point
        else:
            assert labels[i] == -1  # noise


def _frames(field_geoms, finds, incidents=()):
    f = gpd.GeoDataFrame({"record_id": [f"F{i}" for i in range(len(field_geoms))],
                          "handover": "H", "district": "Aghdam", "mines_total": 5},
                         geometry=list(field_geoms), crs="EPSG:4326")
    i = gpd.GeoDataFrame({"item_id": [f"i{k}" for k in range(len(finds))],
                          "item_type": [t for t, _, _ in finds],
                          "date": [d for _, d, _ in finds]},
                         geometry=[g for _, _, g in finds], crs="EPSG:4326")
    n = gpd.GeoDataFrame({"incident_id": [f"n{k}" for k in range(len(incidents))],
                          "date": [d for d, _, _, _ in incidents],
                          "killed": [k for _, k, _, _ in incidents],
                          "injured": [j for _, _, j, _ in incidents]},
                         geometry=[g for *_, g in incidents], crs="EPSG:4326")
    return f, i, n


def test_a_cluster_far_from_every_field_is_one_suspected_area():
    fields = [rect(0, 0, 100, 100), rect(400, 0, 100, 100)]
    cluster = [(3000 + dx, 2000 + dy) for dx, dy in
               [(0, 0), (40, 10), (80, 30), (30, 70), (90, 90), (60, 120)]]
    finds = [("AP" if k % 2 else "AT", f"2022-0{k + 1}-01", pt(x, y))
             for k, (x, y) in enumerate(cluster)]
    finds += [("UXO", "2022-03-05", pt(3050, 2050)),          # inside the group's area
              ("AP", "2022-01-01", pt(50, 50)),                # inside a field
              ("AP", "2022-01-01", pt(50, 400)),               # in the footprint (300 m)
              ("AP", "2022-01-01", pt(8000, 8000))]            # a lone find: noise
    incidents = [("2021-12-24", 1, 2, pt(3020, 2100))]
    f, i, n = _frames(fields, finds, incidents)
    s = suspected_areas(f, i, n)
    assert tuple(s.columns) == (*SUSPECT_COLUMNS, "geometry")
    assert len(s) == 1
    row = s.iloc[0]
    assert (row.found_ap, row.found_at, row.found_uxo, row.incidents) == (3, 3, 1, 1)
    assert (row.killed, row.injured) == (1, 2)
    assert (row.first_date, row.last_date) == ("2021-12-24", "2022-06-01")
    for _, _, g in finds[:6]:
        assert row.geometry.contains(g)
    # The hull buffered by 50 m: 50 m beyond the outermost point, not more.
    assert row.geometry.contains(pt(3000 - 45, 2000))
    assert not row.geometry.contains(pt(3000 - 60, 2000))
    assert row.nearest_record_id == "F1"
    # Ground metres from the nearest group point (3000, 2000) to F1's corner (500, 100).
    a, b = pt(3000, 2000), pt(500, 100)
    assert row.nearest_m == pytest.approx(GEOD.inv(a.x, a.y, b.x, b.y)[2], rel=1e-3)
    area = abs(GEOD.geometry_area_perimeter(shapely.orient_polygons(row.geometry))[0]) / 1e4
    assert row.area_ha == pytest.approx(area, rel=1e-3)
    # A radius too small to link the points leaves no group.
    assert suspected_areas(f, i, n, eps_m=20).empty
    # As of the day before the finds, nothing.
    assert suspected_areas(f, i, n, as_of="2021-01-01").empty


def test_cli_suspects_writes_geojson(tmp_path, cli, store_path):
    from minemap.imports import import_clearance, import_records
    from tests.conftest import feature, write_geojson

    fields = write_geojson(tmp_path / "f.geojson",
                           [feature({"record_id": "F1", "mines_ap": 3}, rect(0, 0, 100, 100))])
    items = write_geojson(tmp_path / "i.geojson", [
        feature({"item_id": f"i{k}", "item_type": "AP", "date": "2022-01-01"},
                pt(2000 + 30 * k, 2000)) for k in range(4)])
    import_records([fields], handover="H", store=store_path)
    import_clearance([items], store=store_path)
    out = tmp_path / "s.geojson"
    res = cli("suspects", "-o", out)
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert len(doc["features"]) == 1
    assert doc["features"][0]["properties"]["found_ap"] == 4
    assert cli("suspects", "-o", out).exit_code == 2  # exists
    res = cli("suspects", "--json")
    assert res.exit_code == 0 and json.loads(res.output)[0]["suspect_id"] == "S1"
