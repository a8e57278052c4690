"""Bulk row writes fill the GeoPackage R-tree exactly as its triggers would (issue 14)."""

from __future__ import annotations

import sqlite3

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
    assert cli("import-records", fields_file(tmp_path / "a.geojson", 40),
               "--handover", "h").exit_code == 0
    # A second revision: one field moved, one removed, new ones.
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
