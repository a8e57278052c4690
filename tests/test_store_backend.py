"""The store backend interface: choosing a backend, filtered reads, views, no SQL above it."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import shapely

from minemap import Store, import_clearance, import_records
from minemap._errors import UsageError
from minemap.store import GeoPackageStore, StoreBackend, open_store
from tests.conftest import feature, fields_file, rect, write_geojson

PACKAGE = Path(__file__).resolve().parents[1] / "minemap"


def test_open_store_picks_the_backend(tmp_path, monkeypatch):
    st = open_store(tmp_path / "a.gpkg")
    assert isinstance(st, GeoPackageStore) and isinstance(st, StoreBackend)
    assert st.location == str(tmp_path / "a.gpkg")
    assert open_store(st) is st
    # ``Store(location)`` is the same choice.
    assert isinstance(Store(tmp_path / "b.gpkg"), GeoPackageStore)
    monkeypatch.setenv("MINEMAP_STORE", str(tmp_path / "env.gpkg"))
    assert open_store(None).location == str(tmp_path / "env.gpkg")
    assert not (tmp_path / "a.gpkg").exists()  # opening touches nothing


@pytest.mark.parametrize("url", ["postgresql://u:secret@db:5432/mine", "postgres://db/mine"])
def test_postgres_url_opens_the_postgis_backend(url):
    # A URL picks the PostGIS backend (tests/test_postgis.py runs it); opening
    # touches nothing, and the password never reaches a message.
    from minemap.store.postgis import PostGISStore

    st = open_store(url)
    assert isinstance(st, PostGISStore) and isinstance(Store(url), PostGISStore)
    assert "secret" not in st.location and "secret" not in repr(st)


def test_other_urls_are_a_clear_usage_error():
    with pytest.raises(UsageError, match="not a store") as info:
        open_store("mysql://u:secret@db/mine")
    assert "secret" not in str(info.value)


def _clearance(path: Path) -> Path:
    feats = [
        feature({"report_id": f"R{i}", "date": "2022-01-10", "operator": "ANAMA",
                 "method": "manual", "outcome": "cleared"}, rect(200.0 * i, 0, 60, 60))
        for i in range(1, 6)
    ]
    feats += [feature({"item_id": f"I{i}", "item_type": "AP", "date": "2022-01-10",
                       "report_id": "R2" if i < 3 else ""},
                      utm_pt(200.0 * i + 10, 10)) for i in range(1, 6)]
    return write_geojson(path, feats)


def utm_pt(x: float, y: float) -> shapely.Point:
    return shapely.centroid(rect(x, y, 0.01, 0.01))


def test_filtered_reads_match_shapely(tmp_path, store_path):
    import_records([fields_file(tmp_path / "a.geojson", 8)], handover="h", store=store_path,
                   handover_date="2021-06-12")
    import_clearance([_clearance(tmp_path / "c.geojson")], store=store_path)
    st = Store(store_path)
    every = st.read("minefields")
    box = shapely.bounds(rect(300, -50, 500, 200))
    got = st.read("minefields", bbox=box)
    want = every[shapely.intersects(shapely.envelope(every.geometry.values), shapely.box(*box))]
    assert sorted(got.record_id) == sorted(want.record_id) and 0 < len(got) < len(every)
    two = np.array([shapely.bounds(rect(200, 0, 1, 1)), shapely.bounds(rect(1400, 0, 1, 1))])
    assert sorted(st.read("minefields", bbox=two).record_id) == ["AGD-0001", "AGD-0007"]
    assert sorted(st.read("minefields", ids=["AGD-0003", "AGD-0005", "nope"]).record_id) == [
        "AGD-0003", "AGD-0005"]
    assert sorted(st.read("items", where={"report_id": ["R2"]}).item_id) == ["I1", "I2"]
    assert len(st.read("releases", ids=[])) == 0


def test_a_snapshot_keeps_its_revision_while_imports_land(tmp_path, store_path):
    import_records([fields_file(tmp_path / "a.geojson", 2)], handover="h", store=store_path)
    st = Store(store_path)
    with st.snapshot() as view:
        import_records([fields_file(tmp_path / "b.geojson", 3, prefix="B")], handover="b",
                       store=store_path)
        assert view.latest_revision() == 1
        assert len(view.read("minefields")) == 2
        assert [r["revision"] for r in view.revisions()] == [1]
        with pytest.raises(UsageError, match="no revision 2"):
            view.read("minefields", revision=2)
    assert st.latest_revision() == 2 and len(st.read("minefields")) == 5


def test_changes_lists_rows_opened_and_closed(tmp_path, store_path):
    import_records([fields_file(tmp_path / "a.geojson", 3, ap=10)], handover="h",
                   store=store_path)
    b = write_geojson(tmp_path / "b.geojson", [
        feature({"record_id": "AGD-0001", "mines_ap": 99, "mines_at": 2}, rect(200, 0, 100, 100)),
        feature({"record_id": "AGD-0002", "mines_ap": 10, "mines_at": 2,
                 "district": "Agdam", "mine_types": "PMN-2;TM-62M"}, rect(400, 0, 100, 100)),
    ])
    import_records([b], handover="h", store=store_path, allow_removals=True)
    with Store(store_path).snapshot() as view:
        ch = view.changes("minefields", 2)
    got = sorted(zip(ch.change, ch.record_id))
    assert got == [("closed", "AGD-0001"), ("closed", "AGD-0003"), ("opened", "AGD-0001")]


def _sql_calls(path: Path) -> list[str]:
    """Calls of ``execute``/``executemany``/``executescript`` in a module."""
    tree = ast.parse(path.read_text())
    return [
        f"{path.name}:{node.lineno}" for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("execute", "executemany", "executescript")
    ]


def test_only_the_store_speaks_sql():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith("store/") and rel not in ("store/base.py", "store/revisions.py"):
            continue
        text = path.read_text()
        if "sqlite3" in text:
            offenders.append(f"{rel}: imports sqlite3")
        offenders += _sql_calls(path)
    assert offenders == []


def test_an_export_during_an_import_reads_one_revision(tmp_path, store_path, monkeypatch):
    """Fault test (issue 15 item 5): an import lands between two layers of one export."""
    import pyogrio

    import minemap.api as api
    import minemap.outputs
    from tests.test_pipeline import _items, _releases

    import_records([fields_file(tmp_path / "a.geojson", 3)], handover="h", store=store_path)
    import_clearance([_releases(tmp_path / "r1.geojson", [
        ("R1", 190, -10, 120, 120, "2022-01-10", "cleared", {})]),
        _items(tmp_path / "i1.geojson", [("I1", 250, 50, "AP", "2022-01-10", "R1")])],
        store=store_path)
    real = minemap.outputs.layer_frame
    landed = []

    def layer_then_import(*args, **kwargs):
        frame = real(*args, **kwargs)
        if not landed:  # another GIS officer's import lands now
            landed.append(import_clearance([
                _releases(tmp_path / "r2.geojson", [
                    ("R2", 400, 0, 50, 100, "2022-02-01", "reduced", {})]),
                _items(tmp_path / "i2.geojson", [("I2", 420, 10, "AT", "2022-02-01", "R2")])],
                store=store_path)[0].revision)
        return frame

    monkeypatch.setattr(minemap.outputs, "layer_frame", layer_then_import)
    out = tmp_path / "both.gpkg"
    api.export(out, store=store_path, layers=["clearance", "items", "minefields"])
    assert landed == [3]
    assert list(pyogrio.read_dataframe(out, layer="clearance").report_id) == ["R1"]
    assert list(pyogrio.read_dataframe(out, layer="items").item_id) == ["I1"]
    assert Store(store_path).latest_revision() == 3
