"""The stored ``remaining`` and ``suspects`` layers, on both backends (DESIGN §10, §12, §13).

Expected values are computed here, independently of minemap's engine:
remainders with shapely (each field minus the union of the releases that
meet it), areas with ``pyproj.Geod``, suspected areas from the points'
hull in UTM, districts from which hand-drawn boundary holds the field.
"""

from __future__ import annotations

import gzip
import shutil
import sqlite3
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import fiona
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as hst
from pyproj import Geod, Transformer

from minemap import (
    Store,
    api,
    import_clearance,
    import_districts,
    import_incidents,
    import_records,
)
from minemap.crossref.remaining import in_order
from minemap.store import gpkg_schema
from minemap.store.copy import copy_store
from tests.conftest import ORIGIN, UTM, feature, fields_file, rect, utm_to_ll, write_geojson
from tests.test_pipeline import _items, _releases

DATA = Path(__file__).parent / "data"
GEOD = Geod(ellps="WGS84")
_TO_UTM = Transformer.from_crs("EPSG:4326", UTM, always_xy=True)

# Fields AGD-0001 … AGD-0006: 100 m squares at x = 200 i … 200 i + 100, y = 0 … 100.
WEEK1 = [
    ("R1", 150, -50, 200, 200, "2022-01-10", "cleared", {}),   # all of AGD-0001
    ("R2", 400, 0, 50, 100, "2022-01-11", "cleared", {}),      # west half of AGD-0002
    ("R3a", 600, 0, 60, 100, "2022-01-12", "reduced", {}),     # overlapping pair on AGD-0003
    ("R3b", 640, 0, 60, 50, "2022-01-12", "cancelled", {}),
]
WEEK2 = [("R4", 850, 50, 100, 100, "2022-01-20", "cleared", {})]  # NE corner of AGD-0004
# Four AP finds 3 km north of every field, within 40 m of each other, and one alone.
CLUSTER = [(f"S{i}", 200 + dx, 3000 + dy, "AP", "2022-02-0" + str(i + 1), "")
           for i, (dx, dy) in enumerate([(0, 0), (30, 0), (0, 30), (25, 25)])]
ITEMS1 = [("I1", 420, 50, "AP", "2022-01-11", "R2"), *CLUSTER,
          ("LONE", 5000, 3000, "AT", "2022-02-09", "")]


def _ll(x: float, y: float) -> shapely.Point:
    return utm_to_ll(shapely.Point(ORIGIN[0] + x, ORIGIN[1] + y))


def _inputs(tmp: Path) -> dict[str, Path]:
    """Source files: boundaries, records, two weeks of clearance, an incident."""
    tmp.mkdir(parents=True, exist_ok=True)
    return {
        # Aghdam holds AGD-0001 … 0003 (x < 750); Fuzuli holds 0004 … 0006 (their own
        # attribute says Agdam: district_mismatch).
        "districts": write_geojson(tmp / "districts.geojson", [
            feature({"district": "Aghdam"}, rect(-1000, -1000, 1750, 6000)),
            feature({"district": "Fuzuli"}, rect(750, -1000, 6000, 6000))]),
        "records": fields_file(tmp / "fields.geojson", 6),
        "week1": _releases(tmp / "week1.geojson", WEEK1),
        "items1": _items(tmp / "items1.geojson", ITEMS1),
        "week2": _releases(tmp / "week2.geojson", WEEK2),
        "incidents": write_geojson(tmp / "incidents.geojson", [feature(
            {"incident_id": "N1", "date": "2022-03-01", "killed": 1, "injured": 2},
            _ll(215, 3040))]),
    }


def _build(store, files: dict[str, Path], *, week2: bool = True) -> None:
    import_districts(files["districts"], store=store)
    import_records([files["records"]], handover="h", store=store, handover_date="2021-06-12")
    import_clearance([files["week1"], files["items1"]], store=store)
    if week2:
        import_clearance([files["week2"]], store=store)


# --------------------------------------------------------------------------- independent


def _geodesic_ha(geom) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0]) / 1e4 if not geom.is_empty else 0.0


def _expected_remaining(releases: list[tuple]) -> dict[str, shapely.Geometry]:
    """Each field with hazard left, minus the union of the releases meeting it."""
    rels = [rect(x, y, w, h) for _, x, y, w, h, *_ in releases]
    out = {}
    for i in range(1, 7):
        field = rect(200.0 * i, 0, 100, 100)
        meeting = [r for r in rels if r.intersects(field)]
        rest = field.difference(shapely.union_all(meeting)) if meeting else field
        if not rest.is_empty:
            out[f"AGD-{i:04d}"] = rest
    return out


def _district(record_id: str) -> str:
    return "Aghdam" if int(record_id[-4:]) <= 3 else "Fuzuli"


def _check_remaining(frame, releases: list[tuple]) -> None:
    want = _expected_remaining(releases)
    got = frame.set_index("record_id")
    assert sorted(got.index) == sorted(want)
    for rid, geom in want.items():
        row = got.loc[rid]
        # Equal up to the coordinates' round trip through projections.
        assert shapely.symmetric_difference(row.geometry, geom).area <= 1e-6 * geom.area
        assert row["remaining_ha"] == pytest.approx(_geodesic_ha(geom), rel=1e-5)
        assert row["area_ha"] == pytest.approx(_geodesic_ha(rect(200.0 * int(rid[-4:]), 0,
                                                                 100, 100)), rel=1e-5)
        assert row["district"] == _district(rid)
        assert ("district_mismatch" in row["flags"]) == (_district(rid) == "Fuzuli")
        assert row.geometry.geom_type == "MultiPolygon"
        assert (row["mines_ap"], row["mines_at"], row["mine_types"]) == (10, 2, "PMN-2;TM-62M")


def _cluster_area_ha(points: list[tuple[float, float]]) -> float:
    hull = shapely.MultiPoint([(ORIGIN[0] + x, ORIGIN[1] + y) for x, y in points]).convex_hull
    return hull.buffer(50, quad_segs=64).area / 1e4


def _check_suspects(frame, *, incidents: int = 0) -> None:
    """Exactly one area: the four clustered finds (and the incident among them)."""
    assert len(frame) == 1
    row = frame.iloc[0]
    points = [(x, y) for _, x, y, *_ in CLUSTER] + ([(215, 3040)] if incidents else [])
    assert (row["found_ap"], row["found_at"], row["incidents"]) == (4, 0, incidents)
    assert (row["killed"], row["injured"]) == ((1, 2) if incidents else (0, 0))
    assert row["first_date"] == "2022-02-01"
    assert row["last_date"] == ("2022-03-01" if incidents else "2022-02-04")
    # Nearest recorded field: AGD-0001 (x 200 … 300, y 0 … 100), 2.9 km south.
    assert (row["nearest_record_id"], row["nearest_handover"]) == ("AGD-0001", "h")
    assert row["nearest_m"] == pytest.approx(2900.0, abs=2.0)
    assert row["area_ha"] == pytest.approx(_cluster_area_ha(points), rel=0.01)
    for x, y in points:
        assert row.geometry.contains(_ll(x, y))
    assert not row.geometry.buffer(0.01).contains(_ll(5000, 3000))


def _frames_equal(a, b) -> None:
    pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")),
                                  pd.DataFrame(b.drop(columns="geometry")), check_dtype=False)
    assert all(shapely.equals(np.asarray(a.geometry.values), np.asarray(b.geometry.values)))


# --------------------------------------------------------------------------- backends


def _fresh_db(pg_url: str) -> str:
    """A new database with PostGIS in the session's cluster."""
    from psycopg import sql

    from tests.test_postgis import _admin, _with_db

    name = f"e_{uuid.uuid4().hex[:12]}"
    with _admin(pg_url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(urlsplit(pg_url).path.lstrip("/"))))
    return _with_db(pg_url, name)


@pytest.fixture(params=["gpkg", "postgis"])
def backend(request, tmp_path):
    """A fresh store location on each backend."""
    if request.param == "gpkg":
        return str(tmp_path / "store.gpkg")
    return _fresh_db(request.getfixturevalue("pg_url"))


def test_remaining_and_suspects_follow_imports_and_revert(backend, tmp_path):
    files = _inputs(tmp_path / "in")
    _build(backend, files, week2=False)
    st = Store(backend)
    week1 = st.latest_revision()
    stored = st.read_derived("remaining")
    assert stored.revision == week1
    _check_remaining(stored.frame, WEEK1)
    sus = st.read_derived("suspects")
    assert sus.revision == week1 and sus.params["eps_m"] == 100.0
    _check_suspects(sus.frame)

    # A week of releases touching only AGD-0004: its row changes, suspects only retag.
    import_clearance([files["week2"]], store=backend)
    stored = st.read_derived("remaining")
    assert stored.revision == week1 + 1
    _check_remaining(stored.frame, WEEK1 + WEEK2)
    again = st.read_derived("suspects")
    assert again.revision == week1 + 1
    _frames_equal(again.frame, sus.frame)

    # An incident beside the cluster joins it.
    import_incidents(files["incidents"], store=backend)
    _check_suspects(st.read_derived("suspects").frame, incidents=1)
    _check_remaining(st.read_derived("remaining").frame, WEEK1 + WEEK2)

    # Undo the second week: AGD-0004 is whole again.
    api.revert(week1, store=backend, kind="clearance")
    stored = st.read_derived("remaining")
    assert stored.revision == st.latest_revision()
    _check_remaining(stored.frame, WEEK1)
    _check_suspects(st.read_derived("suspects").frame, incidents=1)

    # The stored layers are what the API computes for the same state.
    # (The stored rows are in the order written; the API gives them by key.)
    _frames_equal(api.remaining(backend), in_order(stored.frame))
    computed = api.remaining(backend, as_of="2100-01-01")
    _frames_equal(computed, in_order(stored.frame))
    _frames_equal(api.suspects(backend), api.suspects(backend, eps_m=100.0000001))


def test_backends_store_equal_rows(pg_url, tmp_path):
    files = _inputs(tmp_path / "in")
    g = str(tmp_path / "g.gpkg")
    _build(g, files)
    p = _fresh_db(pg_url)
    _build(p, files)
    for layer in ("remaining", "suspects"):
        a, b = Store(g).read_derived(layer), Store(p).read_derived(layer)
        assert (a.revision, a.params) == (b.revision, b.params)
        _frames_equal(a.frame, b.frame)


def test_copy_store_keeps_the_derived_layers(pg_url, tmp_path):
    files = _inputs(tmp_path / "in")
    src = str(tmp_path / "src.gpkg")
    _build(src, files)
    mid, back = _fresh_db(pg_url), str(tmp_path / "back.gpkg")
    copy_store(src, mid)
    copy_store(mid, back)
    for layer in ("remaining", "suspects"):
        a = Store(src).read_derived(layer)
        for other in (mid, back):
            b = Store(other).read_derived(layer)
            assert (a.revision, a.params) == (b.revision, b.params)
            _frames_equal(a.frame, b.frame)
    # The copy goes on refreshing incrementally, as the source would.
    import_incidents(files["incidents"], store=back)
    _check_suspects(Store(back).read_derived("suspects").frame, incidents=1)
    _check_remaining(Store(back).read_derived("remaining").frame, WEEK1 + WEEK2)


# --------------------------------------------------------------------------- GeoPackage


def test_gdal_lists_the_two_layers_and_other_clients_cannot_write(tmp_path):
    files = _inputs(tmp_path / "in")
    path = tmp_path / "s.gpkg"
    _build(str(path), files)
    listed = set(fiona.listlayers(path, LIST_ALL_TABLES="YES"))
    assert {"remaining", "suspects"} <= listed
    assert not any(n.startswith("rtree_") for n in listed)
    types = dict(pyogrio.list_layers(path))
    assert types["remaining"] == "MultiPolygon" and types["suspects"] == "Polygon"
    # What QGIS opens is the stored layer, rows and all.
    via_gdal = pyogrio.read_dataframe(path, layer="remaining")
    _check_remaining(via_gdal, WEEK1 + WEEK2)
    assert pyogrio.read_info(path, layer="suspects")["features"] == 1
    conn = sqlite3.connect(path)
    gpkg_schema.register_functions(conn)  # as GDAL and QGIS have them
    try:
        styled = {r[0] for r in conn.execute("SELECT f_table_name FROM layer_styles")}
        assert {"remaining", "suspects"} <= styled
        for layer, statement in (("remaining", "DELETE FROM remaining"),
                                 ("suspects", "UPDATE suspects SET found_ap = 0"),
                                 ("remaining", "INSERT INTO remaining (record_id) VALUES ('x')")):
            with pytest.raises(sqlite3.DatabaseError, match=f"{layer} is computed by minemap"):
                conn.execute(statement)
    finally:
        conn.close()


def test_a_weekly_import_rewrites_only_the_fields_it_touches(tmp_path):
    files = _inputs(tmp_path / "in")
    path = tmp_path / "s.gpkg"
    _build(str(path), files, week2=False)

    def fids():
        conn = sqlite3.connect(path)
        try:
            return dict(conn.execute("SELECT record_id, fid FROM remaining"))
        finally:
            conn.close()

    before = fids()
    import_clearance([files["week2"]], store=str(path))
    after = fids()
    assert {k for k in before if before[k] != after.get(k)} == {"AGD-0004"}


def _v2_store(path: Path) -> Path:
    # Written by minemap before the derived layers (schema 2), from the inputs
    # of _inputs()/_build(week2=True): see tests/data/README.md.
    with gzip.open(DATA / "store_v2.gpkg.gz", "rb") as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return path


def test_a_schema_2_store_is_read_then_upgraded_and_filled(tmp_path, cli):
    old = _v2_store(tmp_path / "old.gpkg")
    original = old.read_bytes()
    assert "remaining" not in fiona.listlayers(old, LIST_ALL_TABLES="YES")
    # Read as it is (the layers are computed), never written before the upgrade.
    _check_remaining(api.remaining(str(old)), WEEK1 + WEEK2)
    _check_suspects(api.suspects(str(old)))
    res = cli("--store", old, "import-incidents", _inputs(tmp_path / "in")["incidents"])
    assert res.exit_code == 1 and "run `minemap upgrade-store`" in res.output
    assert old.read_bytes() == original

    res = cli("--store", old, "upgrade-store")
    assert res.exit_code == 0, res.output
    assert [p.read_bytes() for p in tmp_path.glob("old.schema2-backup-*.gpkg")] == [original]
    st = Store(old)
    latest = st.latest_revision()
    stored = st.read_derived("remaining")
    assert stored.revision == latest
    _check_remaining(stored.frame, WEEK1 + WEEK2)
    assert st.read_derived("suspects").revision == latest
    _check_suspects(st.read_derived("suspects").frame)
    assert {"remaining", "suspects"} <= set(fiona.listlayers(old, LIST_ALL_TABLES="YES"))
    res = cli("--store", old, "import-incidents", _inputs(tmp_path / "in")["incidents"])
    assert res.exit_code == 0, res.output
    _check_suspects(st.read_derived("suspects").frame, incidents=1)


# --------------------------------------------------------------------------- PostGIS


def test_postgis_layers_are_read_only_and_follow_an_officers_import(pg_url, tmp_path):
    import psycopg

    from tests.test_postgis import _role, _with_db

    files = _inputs(tmp_path / "in")
    url = _fresh_db(pg_url)
    _role(url, "qgis_viewer", "minemap_read")
    _role(url, "gis_officer", "minemap_write")
    _build(url, files)
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in ("DELETE FROM minemap.remaining", "UPDATE minemap.suspects SET"
                          " found_ap = 0", "DELETE FROM minemap.derived_state",
                          "TRUNCATE minemap.remaining"):
            with pytest.raises(psycopg.Error, match="read-only"):
                conn.execute(statement)
        styles = {r[0] for r in conn.execute(
            "SELECT f_table_name FROM public.layer_styles WHERE f_table_schema = 'minemap'")}
        assert {"remaining", "suspects"} <= styles
        types = dict(conn.execute(
            "SELECT f_table_name, type FROM geometry_columns WHERE f_table_schema = 'minemap'"
            " AND f_table_name IN ('remaining', 'suspects')").fetchall())
        assert types == {"remaining": "MULTIPOLYGON", "suspects": "POLYGON"}
    db = urlsplit(url).path.lstrip("/")
    viewer = _with_db(url, db, user="qgis_viewer")
    with psycopg.connect(viewer) as conn:
        assert conn.execute("SELECT count(*) FROM minemap.remaining").fetchone() == (5,)
        with pytest.raises(psycopg.Error, match="permission denied"):
            conn.execute("DELETE FROM minemap.suspects")
    # An officer's import rewrites them (the write role may, through minemap only).
    officer = _with_db(url, db, user="gis_officer")
    import_incidents(files["incidents"], store=officer)
    _check_suspects(Store(viewer).read_derived("suspects").frame, incidents=1)
    _check_remaining(Store(viewer).read_derived("remaining").frame, WEEK1 + WEEK2)


def test_a_postgis_store_made_before_the_layers_gets_them_at_its_next_import(pg_url, tmp_path):
    import psycopg

    files = _inputs(tmp_path / "in")
    url = _fresh_db(pg_url)
    _build(url, files)
    with psycopg.connect(url, autocommit=True) as conn:
        # The store as minemap before the derived layers left it.
        conn.execute("DROP TABLE minemap.remaining, minemap.suspects, minemap.derived_state")
        conn.execute("DELETE FROM public.layer_styles WHERE f_table_name IN"
                     " ('remaining', 'suspects')")
    st = Store(url)
    assert st.read_derived("remaining").revision == 0
    _check_remaining(api.remaining(url), WEEK1 + WEEK2)  # computed meanwhile
    import_incidents(files["incidents"], store=url)
    stored = st.read_derived("remaining")
    assert stored.revision == st.latest_revision()
    _check_remaining(stored.frame, WEEK1 + WEEK2)
    _check_suspects(st.read_derived("suspects").frame, incidents=1)


# --------------------------------------------------------------------------- the rule itself

_box = hst.tuples(hst.floats(-60, 160), hst.floats(-60, 160), hst.floats(1, 150),
                  hst.floats(1, 150))


@settings(max_examples=60, deadline=None)
@given(releases=hst.lists(_box, min_size=0, max_size=6))
def test_remainder_is_the_field_minus_the_union_of_its_releases(releases):
    import geopandas as gpd

    from minemap.crossref.remaining import remaining_hazard

    field = rect(0, 0, 100, 100)
    fields = gpd.GeoDataFrame({"record_id": ["F"], "handover": ["H"], "mines_total": [3]},
                              geometry=[field], crs="EPSG:4326")
    rels = gpd.GeoDataFrame(
        {"report_id": [f"r{i}" for i in range(len(releases))],
         "date_end": ["2022-01-01"] * len(releases), "outcome": ["cleared"] * len(releases)},
        geometry=[rect(*b) for b in releases], crs="EPSG:4326")
    got = remaining_hazard(fields, rels, None, include_released=True).geometry.iloc[0]
    # By hand, in metres: the piece of a release inside the field is the
    # rectangle x0..x1 × y0..y1; one narrower than 1 cm on average (2 × area
    # / perimeter) and under 0.01 ha is edge noise, not released land (the
    # crossref's rule, docs/crossref.md).
    real = []
    for x, y, w, h in releases:
        pw, ph = min(x + w, 100) - max(x, 0), min(y + h, 100) - max(y, 0)
        if pw > 0 and ph > 0 and (pw * ph >= 100 or pw * ph / (pw + ph) >= 0.01):
            real.append(rect(x, y, w, h))
    want = field.difference(shapely.union_all(real)) if real else field
    # The union of the clipped pieces nodes the edges in another order than
    # one union of the releases: the outlines agree to GEOS's rounding,
    # about 1e-8 of the field here (0.0001 m² of a hectare), so 1e-7 of the
    # field bounds them.
    assert abs(shapely.area(got) - want.area) <= 1e-7 * field.area
    assert shapely.symmetric_difference(got, want).area <= 1e-7 * field.area
