"""Bulk row writes fill the GeoPackage R-tree exactly as its triggers would (issue 14)."""

from __future__ import annotations

import sqlite3
import tempfile

from minemap.store import gpkg_schema
from tests.conftest import feature, fields_file, rect, write_geojson


def _rtree_rows(conn: sqlite3.Connection, table: str) -> list[tuple]:
    return conn.execute(f"SELECT * FROM rtree_{table}_geom ORDER BY id").fetchall()


def _as_the_trigger_would(conn: sqlite3.Connection, table: str) -> list[tuple]:
    # An R-tree filled through the GeoPackage's own ST_* functions, row by row.
    conn.execute("CREATE VIRTUAL TABLE temp.expect USING rtree(id, minx, maxx, miny, maxy)")
    conn.execute(
        f"INSERT INTO temp.expect SELECT fid, ST_MinX(geom), ST_MaxX(geom), ST_MinY(geom),"
        f" ST_MaxY(geom) FROM {table} WHERE geom NOTNULL AND NOT ST_IsEmpty(geom)")
    rows = conn.execute("SELECT * FROM temp.expect ORDER BY id").fetchall()
    conn.execute("DROP TABLE temp.expect")
    return rows


def test_rtree_equals_the_triggers_and_the_triggers_stay(tmp_path, cli, store_path):
    _three_revisions(tmp_path, cli)
    conn = sqlite3.connect(store_path)
    gpkg_schema.register_functions(conn)
    triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    for layer in ("minefields", "vertices", "releases"):
        table = f"history_{layer}"
        assert f"rtree_{table}_geom_insert" in triggers
        got = _rtree_rows(conn, table)
        (n,) = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
        assert len(got) == n > 0
        assert got == _as_the_trigger_would(conn, table)
    # The crossref's boxes come from its fields' R-tree, not its trigger.
    assert "rtree_crossref_geom_insert" in triggers
    got = _rtree_rows(conn, "crossref")
    (n,) = conn.execute("SELECT COUNT(*) FROM crossref").fetchone()
    assert len(got) == n > 0
    assert got == _as_the_trigger_would(conn, "crossref")
    conn.close()


def test_derived_layers_rtree_equals_the_triggers(tmp_path, cli, store_path):
    """The remaining layer, rewritten by two revisions, is indexed as its trigger would."""
    assert cli("import-records", fields_file(tmp_path / "a.geojson", 30),
               "--handover", "h").exit_code == 0
    write_geojson(tmp_path / "r.geojson", [
        feature({"report_id": "R1", "date": "2022-03-01", "outcome": "cleared"},
                rect(0, 0, 900, 40))])
    assert cli("import-clearance", tmp_path / "r.geojson").exit_code == 0
    conn = sqlite3.connect(store_path)
    gpkg_schema.register_functions(conn)
    triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert "rtree_remaining_geom_insert" in triggers
    got = _rtree_rows(conn, "remaining")
    (n,) = conn.execute("SELECT COUNT(*) FROM remaining").fetchone()
    assert len(got) == n == 30
    assert got == _as_the_trigger_would(conn, "remaining")
    # Feature ids are never reused after the refresh rewrote the touched rows.
    (seq,) = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'remaining'").fetchone()
    assert seq > n
    conn.close()


def _three_revisions(tmp_path, cli) -> None:
    """A first import, a second revision (one field moved, one removed, new ones), releases."""
    assert cli("import-records", fields_file(tmp_path / "a.geojson", 40),
               "--handover", "h").exit_code == 0
    feats = [feature({"record_id": f"AGD-{i:04d}", "mines_ap": 10, "mines_at": 2},
                     rect(200.0 * i + (50 if i == 3 else 0), 0, 100, 100))
             for i in range(2, 60)]
    write_geojson(tmp_path / "b.geojson", feats)
    res = cli("import-records", tmp_path / "b.geojson", "--handover", "h", "--allow-removals")
    assert res.exit_code == 0, res.output
    write_geojson(tmp_path / "r.geojson", [
        feature({"report_id": "R1", "date": "2022-03-01", "outcome": "cleared"},
                rect(0, 0, 700, 50))])
    assert cli("import-clearance", tmp_path / "r.geojson").exit_code == 0


def _tables(path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'rtree_%'"
        " AND name NOT IN ('revisions', 'gpkg_contents', 'gpkg_metadata_reference',"
        " 'layer_styles')")]
    out = {n: conn.execute(f'SELECT * FROM "{n}" ORDER BY 1').fetchall() for n in names}
    out["rtrees"] = [conn.execute(f"SELECT * FROM rtree_{t}_geom ORDER BY id").fetchall()
                     for t in ("history_minefields", "history_vertices", "crossref")]
    out["extents"] = conn.execute("SELECT table_name, min_x, min_y, max_x, max_y FROM"
                                  " gpkg_contents ORDER BY table_name").fetchall()
    conn.close()
    return out


def test_rtree_built_aside_equals_the_triggers(tmp_path, cli, store_path, monkeypatch):
    """An empty R-tree filled by the child process holds what the triggers would insert.

    The whole store (rows, crossref, derived layers, R-trees, extents) equals
    one written with every R-tree filled in the import's own connection.
    """
    from minemap.store import gpkg

    plain = tmp_path / "plain"
    plain.mkdir()
    _three_revisions(plain, lambda *a: _cli_at(plain / "s.gpkg", *a))
    started = []
    original = gpkg._RTreeBuild.__init__

    def spy(self, table, *args, **kw):
        started.append(table)
        original(self, table, *args, **kw)

    monkeypatch.setattr(gpkg, "_MIN_BACKGROUND_RTREE", 1)
    monkeypatch.setattr(gpkg._RTreeBuild, "__init__", spy)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    _three_revisions(tmp_path, cli)
    # Built aside: the first import's three layers, and the first releases.
    assert "history_vertices" in started and "history_minefields" in started
    assert "history_releases" in started
    conn = sqlite3.connect(store_path)
    gpkg_schema.register_functions(conn)
    for table in ("history_minefields", "history_vertices", "history_releases", "crossref"):
        assert conn.execute(f"SELECT rtreecheck('rtree_{table}_geom')").fetchone() == ("ok",)
        got = _rtree_rows(conn, table)
        assert len(got) > 0
        assert got == _as_the_trigger_would(conn, table)
    conn.close()
    assert _tables(store_path) == _tables(plain / "s.gpkg")
    assert list(temp.iterdir()) == []  # the child's files are gone


def _cli_at(store, *args):
    # A second store beside the cli fixture's.
    from click.testing import CliRunner

    from minemap.cli.main import cli as group

    return CliRunner().invoke(group, ["--store", str(store), *map(str, args)])


def test_rtree_child_that_fails_is_replaced_by_inserts(tmp_path, cli, store_path,
                                                       monkeypatch):
    from minemap.store import gpkg, gpkg_rtree

    monkeypatch.setattr(gpkg, "_MIN_BACKGROUND_RTREE", 1)
    monkeypatch.setattr(gpkg_rtree, "_BUILD_RTREE", "import sys; sys.exit(3)")
    _three_revisions(tmp_path, cli)
    conn = sqlite3.connect(store_path)
    gpkg_schema.register_functions(conn)
    for layer in ("minefields", "vertices", "releases"):
        table = f"history_{layer}"
        assert conn.execute(f"SELECT rtreecheck('rtree_{table}_geom')").fetchone() == ("ok",)
        got = _rtree_rows(conn, table)
        assert len(got) > 0
        assert got == _as_the_trigger_would(conn, table)
    conn.close()


def test_failed_import_leaves_no_rtree_built_aside(tmp_path, cli, store_path, monkeypatch):
    """An import that fails after its R-trees started aside changes nothing and cleans up."""
    from minemap.store import gpkg

    assert cli("import-records", fields_file(tmp_path / "a.geojson", 30),
               "--handover", "h").exit_code == 0
    before = _tables(store_path)
    monkeypatch.setattr(gpkg, "_MIN_BACKGROUND_RTREE", 1)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))

    def fail(self, *args, **kw):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(gpkg._Writer, "write_crossref", fail)
    res = cli("import-records", fields_file(tmp_path / "b.geojson", 30, prefix="NEW"),
              "--handover", "n")
    assert res.exit_code != 0
    assert _tables(store_path) == before
    assert list(temp.iterdir()) == []


def test_rows_written_a_slice_at_a_time_equal_those_written_at_once(tmp_path, cli, store_path,
                                                                    monkeypatch):
    """Inserts build their rows a slice at a time; the store is the same as in one go."""
    import pyogrio

    from minemap.store import gpkg

    whole = tmp_path / "whole"
    whole.mkdir()
    _three_revisions(whole, lambda *a: _cli_at(whole / "s.gpkg", *a))
    monkeypatch.setattr(gpkg, "_INSERT_SLICE", 3)
    _three_revisions(tmp_path, cli)
    assert _tables(store_path) == _tables(whole / "s.gpkg")
    # And GDAL, which QGIS reads with, sees every vertex.
    (n,) = sqlite3.connect(store_path).execute(
        "SELECT COUNT(*) FROM history_vertices").fetchone()
    assert n > 3 * 3
    info = pyogrio.read_info(store_path, layer="history_vertices")
    assert info["features"] == n


def _extent(path, table):
    conn = sqlite3.connect(path)
    row = conn.execute("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents"
                       " WHERE table_name = ?", (table,)).fetchone()
    conn.close()
    return row


def test_layer_extents_follow_the_current_rows_as_gdal_reads_them(tmp_path, cli, store_path):
    """gpkg_contents (what QGIS zooms to) holds the current rows' extent after each import.

    A batch that only adds releases grows the stored extent without a pass
    over the rows; one that replaces a release (closing a row) shrinks it.
    """
    import numpy as np
    import pyogrio

    assert cli("import-records", fields_file(tmp_path / "f.geojson", 5),
               "--handover", "h").exit_code == 0
    batches = [
        [("R1", rect(0, 0, 300, 50))],
        [("R2", rect(2000, 500, 100, 100))],  # beyond the extent: it grows
        [("R3", rect(200, 0, 50, 50))],  # inside it: it stays
        [("R2", rect(100, 0, 50, 50))],  # R2 moves back: it shrinks
    ]
    for k, batch in enumerate(batches):
        path = write_geojson(tmp_path / f"r{k}.geojson", [
            feature({"report_id": rid, "date": "2022-03-01", "outcome": "cleared"}, geom)
            for rid, geom in batch])
        res = cli("import-clearance", path)
        assert res.exit_code == 0, res.output
        current = pyogrio.read_dataframe(store_path, layer="releases")
        expect = np.asarray(current.total_bounds)
        for table in ("releases", "history_releases"):
            np.testing.assert_allclose(_extent(store_path, table), expect, rtol=0, atol=1e-12)
