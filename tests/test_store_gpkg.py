"""The GeoPackage store as QGIS meets it: through GDAL, sqlite3, a held lock, WAL."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import defusedxml.ElementTree as DET
import fiona
import numpy as np
import pyogrio
import pytest
import shapely

from minemap import Store, import_clearance, import_districts, import_records, settings, styles
from minemap.store import gpkg_schema
from tests.conftest import feature, fields_file, rect, write_geojson
from tests.test_pipeline import _items, _releases

DATA = Path(__file__).parent / "data"
READ_ONLY = "minemap store: history is read-only; import a revision instead"
SPATIAL = ("minefields", "vertices", "mine_rows", "releases", "items", "incidents", "districts")


def _snapshot(path: Path) -> dict:
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return {t: conn.execute(f'SELECT * FROM "{t}" ORDER BY 1').fetchall() for t in tables}
    finally:
        conn.close()


@pytest.fixture
def full_store(tmp_path, store_path):
    """A store with records, clearance (releases and items) and districts."""
    districts = write_geojson(tmp_path / "d.geojson", [
        feature({"district": "Agdam"}, rect(-1000, -1000, 5000, 3000))])
    import_districts(districts, store=store_path)
    import_records([fields_file(tmp_path / "a.geojson", 4)], handover="h", store=store_path,
                   handover_date="2021-06-12")
    import_clearance([_releases(tmp_path / "r.geojson", [
        ("R1", 190, -10, 120, 120, "2022-01-10", "cleared", {})]),
        _items(tmp_path / "i.geojson", [("I1", 250, 50, "AP", "2022-01-10", "R1")])],
        store=store_path)
    return store_path


def test_gdal_lists_only_meaningful_layers_and_each_opens(full_store):
    listed = fiona.listlayers(full_store, LIST_ALL_TABLES="YES")
    current = {"minefields", "crossref", "releases", "items", "incidents", "districts",
               "mine_rows", "vertices", "remaining", "suspects"}
    history = {f"history_{n}" for n in [*SPATIAL, "reports"]}
    # layer_styles is QGIS's own table of default styles (DESIGN §10).
    assert set(listed) == current | history | {"reports", "revisions", "layer_styles"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # GDAL must find nothing non-conformant
        for name in listed:
            pyogrio.read_dataframe(full_store, layer=name)
    info = pyogrio.read_info(full_store, layer="history_minefields")
    assert info["features"] == 4 and info["geometry_type"] == "MultiPolygon"


def test_bbox_index_is_the_geopackage_rtree(full_store):
    conn = sqlite3.connect(full_store)
    try:
        ext = set(conn.execute("SELECT table_name, extension_name FROM gpkg_extensions"))
        rows = conn.execute("SELECT id, minx, maxx, miny, maxy FROM"
                            " rtree_history_minefields_geom ORDER BY id").fetchall()
    finally:
        conn.close()
    assert {(f"history_{n}", "gpkg_rtree_index") for n in SPATIAL} <= ext
    fields = pyogrio.read_dataframe(full_store, layer="history_minefields", fid_as_index=True)
    assert [r[0] for r in rows] == list(fields.index)
    want = shapely.bounds(fields.geometry.values)  # minx, miny, maxx, maxy
    got = np.array([[r[1], r[3], r[2], r[4]] for r in rows])
    # R*Tree boxes are float32, rounded outwards.
    assert np.all(got[:, :2] <= want[:, :2]) and np.all(got[:, 2:] >= want[:, 2:])
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_minefields_carry_status_and_every_spatial_layer_is_styled(full_store):
    fields = pyogrio.read_dataframe(full_store, layer="minefields")
    by_id = fields.set_index("record_id")
    assert by_id.loc["AGD-0001", "status"] == "released"
    assert {"released_pct", "cleared_pct", "remaining_est"} <= set(fields.columns)
    conn = sqlite3.connect(full_store)
    try:
        spatial = {r[0] for r in conn.execute("SELECT table_name FROM gpkg_geometry_columns")}
        rows = conn.execute("SELECT f_table_name, styleQML FROM layer_styles"
                            " WHERE useAsDefault = 1").fetchall()
    finally:
        conn.close()
    qml = dict(rows)
    assert spatial <= set(qml)
    status = {styles.rgba(c)[:-4] for c in styles.STATUS.values()}

    def colours(text):
        return {p.get("v").rsplit(",", 1)[0] for p in DET.fromstring(text).iter("prop")
                if p.get("k") in ("color", "outline_color")}

    renderer = DET.fromstring(qml["minefields"]).find("renderer-v2")
    assert renderer.get("attr") == "status"
    assert status <= colours(qml["minefields"])
    for layer in ("items", "history_items", "releases", "incidents"):
        assert not status & colours(qml[layer]), layer  # items never wear status colours
    assert {styles.rgba(c)[:-4] for c in styles.ITEM.values()} <= colours(qml["items"])


def _with_st_functions(conn):
    """A client with the GeoPackage ST_* functions, as GDAL and QGIS have them."""
    gpkg_schema.register_functions(conn)
    return conn


@pytest.mark.parametrize("sql", [
    "UPDATE history_minefields SET mines_total = 999",
    "UPDATE history_minefields SET rev_to = 1",
    "DELETE FROM history_minefields",
    "INSERT INTO history_reports (date_start, date_end, content_hash, rev_from)"
    " VALUES ('2022-01-01', '2022-01-07', 'x', 1)",
    "UPDATE history_items SET rev_to = 1",
    "UPDATE revisions SET kind = 'x'",
    "DELETE FROM revisions",
    "UPDATE minefields SET mines_total = 999",
    "DELETE FROM releases",
    "INSERT INTO reports (date_start) VALUES ('2022-01-01')",
])
def test_history_is_read_only_to_sqlite_clients(full_store, sql):
    before = _snapshot(full_store)
    conn = _with_st_functions(sqlite3.connect(full_store, isolation_level=None))
    try:
        with pytest.raises(sqlite3.DatabaseError, match="history is read-only"):
            conn.execute(sql)
    finally:
        conn.close()
    assert _snapshot(full_store) == before


def test_crossref_and_plain_sqlite3_writes_are_refused(full_store):
    before = _snapshot(full_store)
    conn = _with_st_functions(sqlite3.connect(full_store, isolation_level=None))
    try:
        with pytest.raises(sqlite3.DatabaseError, match="crossref is computed"):
            conn.execute("UPDATE crossref SET status = 'released'")
    finally:
        conn.close()
    # Without the ST_* functions (the sqlite3 shell) a spatial table refuses
    # every write before any trigger runs; history stays as it was.
    plain = sqlite3.connect(full_store, isolation_level=None)
    try:
        with pytest.raises(sqlite3.DatabaseError):
            plain.execute("UPDATE history_minefields SET mines_total = 999")
        with pytest.raises(sqlite3.DatabaseError, match="history is read-only"):
            plain.execute("DELETE FROM revisions")
    finally:
        plain.close()
    assert _snapshot(full_store) == before


def test_history_is_read_only_to_gdal_writes(full_store):
    before = _snapshot(full_store)
    for layer in ("history_minefields", "minefields"):
        extra = pyogrio.read_dataframe(full_store, layer=layer).iloc[:1]
        with pytest.raises(Exception) as info:
            pyogrio.write_dataframe(extra, full_store, layer=layer, append=True)
        assert "read-only" in str(info.value) or "readonly" in str(info.value), layer
    with pytest.raises(Exception, match="history is read-only"):
        with fiona.open(full_store, "a", layer="history_reports") as dst:
            props = dict.fromkeys(dst.schema["properties"])
            props.update(date_start="2022-01-01", date_end="2022-01-07", content_hash="x",
                         rev_from=1)
            dst.write({"geometry": None, "properties": props})
    assert _snapshot(full_store) == before


def test_minemap_itself_only_closes_history_rows(full_store):
    """Without the guards (as in minemap's revision step) a row can only be closed, once."""
    conn = _with_st_functions(sqlite3.connect(full_store, isolation_level=None))
    try:
        conn.execute("BEGIN IMMEDIATE")
        with gpkg_schema.lifted_guards(conn):
            for sql in ("UPDATE history_minefields SET mines_total = 1 WHERE fid = 1",
                        "UPDATE history_minefields SET rev_to = NULL WHERE fid = 1",
                        "DELETE FROM history_minefields WHERE fid = 1",
                        "UPDATE revisions SET kind = 'x'", "DELETE FROM revisions"):
                with pytest.raises(sqlite3.DatabaseError, match="history is read-only"):
                    conn.execute(sql)
            conn.execute("UPDATE history_minefields SET rev_to = 9 WHERE fid = 1")
            with pytest.raises(sqlite3.DatabaseError, match="history is read-only"):
                conn.execute("UPDATE history_minefields SET rev_to = 10 WHERE fid = 1")
        guards = conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'"
                              " AND name LIKE '%guard%'").fetchone()[0]
        conn.execute("ROLLBACK")
    finally:
        conn.close()
    assert guards > 0  # put back before the transaction ends
    assert Store(full_store).read("minefields", revision=3).shape[0] == 4


# --------------------------------------------------------------------------- locks, journal


def test_a_held_lock_makes_an_import_wait_then_give_up(tmp_path, store_path, monkeypatch):
    from click.testing import CliRunner

    from minemap.cli.main import cli

    import_records([fields_file(tmp_path / "a.geojson", 2)], handover="h", store=store_path)
    before = _snapshot(store_path)
    monkeypatch.setattr(settings, "lock_timeout_s", 0.5)
    holder = sqlite3.connect(store_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a QGIS edit session that does not let go
    try:
        res = CliRunner().invoke(cli, ["--store", str(store_path), "import-records",
                                       str(fields_file(tmp_path / "b.geojson", 2, prefix="B")),
                                       "--handover", "h2"])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert res.exit_code == 1
    assert res.stderr.count("waiting up to 0.5 s") == 1
    last = res.stderr.strip().splitlines()[-1]
    assert last == (f"Error: {store_path}: store is locked by another program (an open QGIS"
                    " edit session?); nothing was written")
    assert _snapshot(store_path) == before


def test_a_store_left_in_wal_by_qgis_works(tmp_path, store_path, cli):
    import_records([fields_file(tmp_path / "a.geojson", 2)], handover="h", store=store_path)
    qgis = sqlite3.connect(store_path, isolation_level=None)
    assert qgis.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal"
    qgis.execute("SELECT COUNT(*) FROM minefields").fetchone()  # still open, reading
    try:
        res = cli("import-records", fields_file(tmp_path / "b.geojson", 3, prefix="B"),
                  "--handover", "b")
        assert res.exit_code == 0, res.output
        assert qgis.execute("SELECT COUNT(*) FROM minefields").fetchone()[0] == 5
    finally:
        qgis.close()
    st = Store(store_path)
    assert len(st.read("minefields")) == 5 and st.latest_revision() == 2
    conn = sqlite3.connect(store_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_new_stores_use_the_rollback_journal(tmp_path, store_path):
    import_records([fields_file(tmp_path / "a.geojson", 1)], handover="h", store=store_path)
    conn = sqlite3.connect(store_path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 10400
        (doc,) = conn.execute("SELECT metadata FROM gpkg_metadata").fetchone()
    finally:
        conn.close()
    assert json.loads(doc)["minemap_store_schema"] == 3


# --------------------------------------------------------------------------- versions


def _v1_store(path: Path) -> Path:
    with gzip.open(DATA / "store_v1.gpkg.gz", "rb") as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return path


def test_upgrade_store_migrates_schema_1_with_a_backup(tmp_path, cli):
    old = _v1_store(tmp_path / "old.gpkg")
    original = old.read_bytes()
    res = cli("--store", old, "import-records", fields_file(tmp_path / "x.geojson", 1),
              "--handover", "x")
    assert res.exit_code == 1 and "run `minemap upgrade-store`" in res.output
    assert len(res.output.strip().splitlines()) == 1 and old.read_bytes() == original
    # What schema 1 held, read straight from its tables.
    v1 = sqlite3.connect(old)
    try:
        v1_fields = v1.execute("SELECT record_id, mines_ap, rev_from, rev_to, content_hash"
                               " FROM minefields_versions ORDER BY fid").fetchall()
        v1_revs = v1.execute("SELECT revision, kind, sha256, added, changed, removed FROM"
                             " revisions ORDER BY revision").fetchall()
        v1_xref = v1.execute("SELECT record_id, status, remaining_est FROM crossref_current"
                             " ORDER BY record_id").fetchall()
    finally:
        v1.close()
    res = cli("--store", old, "upgrade-store")
    assert res.exit_code == 0, res.output
    backups = list(tmp_path.glob("old.schema1-backup-*.gpkg"))
    assert len(backups) == 1 and backups[0].read_bytes() == original
    conn = sqlite3.connect(old)
    try:
        assert conn.execute("SELECT record_id, mines_ap, rev_from, rev_to, content_hash FROM"
                            " history_minefields ORDER BY fid").fetchall() == v1_fields
    finally:
        conn.close()
    st = Store(old)
    revs = [(r["revision"], r["kind"], json.dumps(r["sha256"]), json.dumps(r["added"]),
             json.dumps(r["changed"]), json.dumps(r["removed"])) for r in st.revisions()]
    assert revs == v1_revs
    table, state = st.read_crossref()
    assert state == 3
    assert sorted(table[["record_id", "status", "remaining_est"]].itertuples(
        index=False, name=None)) == v1_xref
    assert st.handovers().values.tolist() == [["h", "2021-06-12"]]
    assert cli("--store", old, "upgrade-store").output.strip().endswith("nothing to do")
    res = cli("--store", old, "import-records", fields_file(tmp_path / "x.geojson", 1,
                                                             prefix="X"), "--handover", "x")
    assert res.exit_code == 0 and "revision 4" in res.output, res.output


def test_newer_and_foreign_stores_are_refused(tmp_path, store_path, cli):
    import_records([fields_file(tmp_path / "a.geojson", 1)], handover="h", store=store_path)
    conn = sqlite3.connect(store_path, isolation_level=None)
    conn.execute("UPDATE gpkg_metadata SET metadata = json_set(metadata,"
                 " '$.minemap_store_schema', 4)")
    conn.close()
    before = store_path.read_bytes()
    for args in (("info",), ("import-records", fields_file(tmp_path / "b.geojson", 1,
                                                          prefix="B"), "--handover", "b")):
        res = cli(*args)
        assert res.exit_code == 1 and "newer minemap (schema 4" in res.output, res.output
        assert len(res.output.strip().splitlines()) == 1
    assert store_path.read_bytes() == before
    other = tmp_path / "other.gpkg"
    pyogrio.write_dataframe(pyogrio.read_dataframe(fields_file(tmp_path / "o.geojson", 1)),
                            other)
    res = cli("--store", other, "info")
    assert res.exit_code == 2 and "not a minemap store" in res.output
    assert "revision 0" not in res.output


def test_a_damaged_store_says_so(tmp_path, store_path, cli):
    import_records([fields_file(tmp_path / "a.geojson", 30)], handover="h", store=store_path)
    data = store_path.read_bytes()
    store_path.write_bytes(data[: len(data) // 3])
    for args in (("info",), ("export", "-o", tmp_path / "x.geojson")):
        res = cli(*args)
        assert res.exit_code == 1, res.output
        line = res.output.strip().splitlines()[-1]
        assert str(store_path) in line and "damaged" in line
        assert "restore a backup or copy-store" in line


# --------------------------------------------------------------------------- real permissions

_AS_NOBODY = os.geteuid() == 0 and shutil.which("setpriv") is not None


@pytest.fixture
def open_dir():
    """A folder other users may enter (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="minemap-perm-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _run_as_nobody(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable,
         "-m", "minemap", *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.skipif(not _AS_NOBODY, reason="needs root to drop to an unprivileged user")
def test_a_new_store_in_an_unwritable_folder_is_named(open_dir):
    tmp_path = open_dir
    folder = tmp_path / "ro"
    folder.mkdir()
    src = fields_file(tmp_path / "a.geojson", 1)
    for p in (tmp_path, src):
        p.chmod(0o755 if p.is_dir() else 0o644)
    res = _run_as_nobody("--store", str(folder / "new.gpkg"), "import-records", str(src),
                         "--handover", "h")
    assert res.returncode == 1, res.stderr
    line = res.stderr.strip().splitlines()[-1]
    assert str(folder / "new.gpkg") in line and "writable" in line and "Traceback" not in (
        res.stderr)
    assert not (folder / "new.gpkg").exists()


# Another program (QGIS, say) killed inside a large write: with a tiny cache
# its changes spill into the file, and the journal holding the old pages is hot.
_KILL_SCRIPT = (
    "import sqlite3, sys, time\n"
    "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
    "c.execute('PRAGMA cache_size = 1'); c.execute('BEGIN IMMEDIATE')\n"
    "for i in range(300):\n"
    "    c.execute(\"INSERT INTO layer_styles (f_table_name, styleQML) VALUES ('x', ?)\","
    " ('q' * 4000,))\n"
    "print('inside', flush=True); time.sleep(60)\n"
)


@pytest.mark.skipif(not _AS_NOBODY, reason="needs root to drop to an unprivileged user")
def test_a_hot_journal_on_read_only_media_is_explained(open_dir):
    tmp_path = open_dir
    store = tmp_path / "s.gpkg"
    import_records([fields_file(tmp_path / "a.geojson", 2)], handover="h", store=store)
    proc = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, str(store)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "inside"
    proc.kill()
    proc.wait()
    journal = store.with_name(store.name + "-journal")
    assert journal.exists() and journal.stat().st_size > 0  # a hot journal
    for p in (tmp_path, store, journal):
        p.chmod(0o755 if p.is_dir() else 0o644)  # readable, not writable, by nobody
    res = _run_as_nobody("--store", str(store), "info")
    assert res.returncode == 1, res.stderr
    line = res.stderr.strip().splitlines()[-1]
    assert str(store) in line and "hot journal" in line and "read-only media" in line
    # On writable storage the journal rolls back, and the store is whole.
    assert Store(store).read("minefields").mines_ap.tolist() == [10, 10]
    conn = sqlite3.connect(store)
    assert conn.execute("SELECT COUNT(*) FROM layer_styles WHERE f_table_name = 'x'"
                        ).fetchone() == (0,)
    conn.close()
