"""The PostGIS team store, against a real PostgreSQL + PostGIS (the ``pg_url`` cluster).

Each test gets its own database, made from the cluster's PostGIS template, so
tests never see each other's data.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pandas as pd
import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from minemap import Store, import_records
from minemap.cli.main import cli as group
from minemap.store import open_store
from minemap.store.postgis import PostGISStore
from tests.conftest import fields_file

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_maps"
HISTORY_MESSAGE = "minemap store: history is read-only; import a revision instead"


def _with_db(url: str, dbname: str, user: str | None = None) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc if user is None else f"{user}@{parts.netloc.split('@')[-1]}"
    return urlunsplit(parts._replace(path=f"/{dbname}", netloc=netloc))


def _admin(url: str) -> psycopg.Connection:
    return psycopg.connect(_with_db(url, "postgres"), autocommit=True)


@pytest.fixture(scope="module")
def new_db(pg_url):
    """``new_db()``: the URL of a fresh database with PostGIS (dropped after the module)."""
    template = urlsplit(pg_url).path.lstrip("/")
    made: list[str] = []

    def make() -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with _admin(pg_url) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)))
        made.append(name)
        return _with_db(pg_url, name)

    yield make
    with _admin(pg_url) as conn:
        for name in made:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


@pytest.fixture
def pg_store(new_db) -> str:
    return new_db()


def run(store, *args) -> str:
    """``minemap --store STORE ARGS…``; its output (it must succeed)."""
    res = CliRunner().invoke(group, ["--store", str(store), *map(str, args)])
    assert res.exit_code == 0, res.output
    return res.output


def import_samples(store) -> None:
    """Every import of sample_maps/manifest.json, through the CLI, in its order."""
    for step in json.loads((SAMPLES / "manifest.json").read_text())["steps"]:
        files = [SAMPLES / s for s in step["sources"]]
        kind = step["kind"]
        if kind == "districts":
            run(store, "import-districts", files[0], "--name-field", step["name_field"])
        elif kind == "records":
            extra = ["--layer", step["layer"]] if step.get("layer") else []
            run(store, "import-records", *files, "--handover", step["handover"],
                "--handover-date", step["handover_date"], "--allow-removals", *extra)
        elif kind == "clearance":
            run(store, "import-clearance", *files)
        elif kind == "incidents":
            run(store, "import-incidents", *files)
        else:
            run(store, "import-report", *files)


def history(store) -> list[dict]:
    """``history --json`` without the import times."""
    return [{k: v for k, v in r.items() if k != "imported_at"}
            for r in json.loads(run(store, "history", "--json"))]


def table_rows(url: str) -> dict[str, list]:
    """Every row of every table of the store's schema, to compare before and after."""
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'minemap' ORDER BY 1")]
        return {t: conn.execute(sql.SQL("SELECT * FROM {} ORDER BY 1").format(
            sql.Identifier("minemap", t))).fetchall() for t in tables}


# --------------------------------------------------------------------------- same results


@pytest.fixture(scope="module")
def built(new_db, tmp_path_factory):
    """The sample imports into a GeoPackage store and into a PostGIS store."""
    gpkg = tmp_path_factory.mktemp("same") / "store.gpkg"
    url = new_db()
    import_samples(gpkg)
    import_samples(url)
    return gpkg, url


EXPORTS = [
    ("minefields.geojson", ["--layer", "minefields"]),
    ("crossref.geojson", ["--layer", "crossref"]),
    ("clearance.geojson", ["--layer", "clearance"]),
    ("items.csv", ["--layer", "items"]),
    ("incidents.geojson", ["--layer", "incidents"]),
    ("districts.geojson", ["--layer", "districts"]),
    ("mine_rows.geojson", ["--layer", "mine_rows"]),
    ("crossref_rev3.csv", ["--layer", "crossref", "--revision", "3"]),
    ("aghdam_box.geojson", ["--layer", "crossref", "--bbox", "46.5,39.8,47.2,40.2"]),
]


def exports(store, out: Path) -> dict[str, bytes]:
    out.mkdir()
    got = {}
    for name, args in EXPORTS:
        res = CliRunner().invoke(group, ["--store", str(store), "export", "-o",
                                         str(out / name), *args])
        if res.exit_code == 0:
            got[name] = (out / name).read_bytes()
        else:
            got[name] = res.output.encode()
    return got


def crossref_tables(store) -> dict[str, object]:
    return {
        by: json.loads(run(store, "crossref", "--by", by, "--json"))
        for by in ("minefield", "district", "handover")
    } | {
        "revision 4": json.loads(run(store, "crossref", "--revision", "4", "--json")),
        "records of revision 2": json.loads(run(store, "crossref", "--by", "handover",
                                                "--records-revision", "2", "--json")),
        "reconcile": json.loads(run(store, "reports", "--reconcile", "--json")),
        "info": {k: v for k, v in json.loads(run(store, "info", "--json")).items()
                 if k != "store"},
    }


def test_same_imports_give_equal_results(built, tmp_path):
    gpkg, url = built
    assert isinstance(open_store(url), PostGISStore)
    want = history(gpkg)
    assert len(want) == 8 and history(url) == want
    assert crossref_tables(url) == crossref_tables(gpkg)
    # The materialised crossref itself, and every layer as stored.
    g, p = Store(gpkg), Store(url)
    (ga, grev), (pa, prev) = g.read_crossref(), p.read_crossref()
    assert grev == prev == 8
    pd.testing.assert_frame_equal(pa, ga)
    assert p.counts() == g.counts() and p.counts(revision=3) == g.counts(revision=3)
    pd.testing.assert_frame_equal(p.handovers(), g.handovers())
    for layer in ("minefields", "vertices", "mine_rows", "releases", "items", "incidents",
                  "districts", "reports"):
        pd.testing.assert_frame_equal(pd.DataFrame(p.read(layer, revision=5)),
                                      pd.DataFrame(g.read(layer, revision=5)))
    want_files = exports(gpkg, tmp_path / "g")
    got_files = exports(url, tmp_path / "p")
    assert all(b"Error" not in v for v in want_files.values()), want_files
    assert got_files == want_files


def test_filtered_reads_agree(built):
    gpkg, url = built
    g, p = Store(gpkg), Store(url)
    fields = g.read("minefields")
    boxes = fields.geometry.bounds.to_numpy()[::97]
    for kw in ({"bbox": boxes}, {"bbox": boxes[0]}, {"ids": list(fields.record_id[:5])},
               {"where": {"handover": ["aghdam-2021-06-12"]}}, {"ids": []}):
        pd.testing.assert_frame_equal(pd.DataFrame(p.read("minefields", **kw)),
                                      pd.DataFrame(g.read("minefields", **kw)))
    with g.snapshot() as gv, p.snapshot() as pv:
        for rev in (1, 5, 8):
            for layer in ("minefields", "items"):
                a = gv.changes(layer, rev).sort_values(list(gv.changes(layer, rev).columns))
                b = pv.changes(layer, rev).sort_values(list(a.columns))
                pd.testing.assert_frame_equal(b.reset_index(drop=True),
                                              a.reset_index(drop=True))


def test_current_hashes_of_a_batchs_ids_agree(built):
    # An upsert looks up only its own ids: the same rows, in the same order,
    # as the full listing filtered by them, on both backends.
    gpkg, url = built
    found = {}
    for name, location in (("gpkg", gpkg), ("postgis", url)):
        with Store(location).transaction() as w:
            full = w.current_hashes("releases")
            ids = [*full["report_id"].iloc[::3], "NO-SUCH-ID"]
            got = w.current_hashes("releases", ids=ids)
            expect = full[full["report_id"].isin(ids)].reset_index(drop=True)
            pd.testing.assert_frame_equal(got, expect)
            assert len(got) == len(full.iloc[::3]) > 0
            assert w.current_hashes("releases", ids=[]).empty
            assert w.has_current_rows("releases")
            found[name] = got.drop(columns="row_id")
    pd.testing.assert_frame_equal(found["gpkg"], found["postgis"])


# --------------------------------------------------------------------------- choosing it


def test_url_and_environment_choose_postgis(pg_store, tmp_path, monkeypatch):
    monkeypatch.setenv("MINEMAP_STORE", pg_store)
    st = open_store(None)
    assert isinstance(st, PostGISStore) and not st.exists()
    assert st.latest_revision() == 0 and st.revisions() == []
    res = CliRunner().invoke(group, ["import-records", str(fields_file(tmp_path / "a.geojson", 2)),
                                     "--handover", "h"])
    assert res.exit_code == 0, res.output
    assert Store(pg_store).exists() and Store(pg_store).latest_revision() == 1


def test_unreachable_server_is_one_line_without_password():
    url = "postgresql://officer:s3cret@127.0.0.1:1/minemap"
    res = CliRunner().invoke(group, ["--store", url, "info"])
    assert res.exit_code == 1
    assert res.output.startswith("Error: postgresql://officer:***@127.0.0.1:1/minemap: cannot"
                                 " connect to the PostGIS store")
    assert "s3cret" not in res.output and len(res.output.strip().splitlines()) == 1


def test_a_database_without_postgis_is_refused(pg_url, tmp_path):
    name = f"t_{uuid.uuid4().hex[:12]}"
    with _admin(pg_url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(
            sql.Identifier(name)))
    try:
        url = _with_db(pg_url, name)
        res = CliRunner().invoke(group, ["--store", url, "import-records",
                                         str(fields_file(tmp_path / "a.geojson", 1)),
                                         "--handover", "h"])
        assert res.exit_code == 2 and "has no PostGIS" in res.output
        with psycopg.connect(url) as conn:
            assert not conn.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname = 'minemap'").fetchone()
    finally:
        with _admin(pg_url) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


# --------------------------------------------------------------------------- history, roles


def _refused(url: str, statement: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        with pytest.raises(psycopg.Error) as info:
            conn.execute(statement)
    return str(info.value)


def test_history_is_read_only_in_the_database(pg_store, tmp_path):
    import_records([fields_file(tmp_path / "a.geojson", 3)], handover="h", store=pg_store)
    before = table_rows(pg_store)
    for statement in (
        "UPDATE minemap.history_minefields SET mines_ap = 1",
        "UPDATE minemap.history_minefields SET rev_to = 1",  # closing, outside an import
        "DELETE FROM minemap.history_minefields",
        "UPDATE minemap.minefields SET mines_total = 0",  # through the current view
        "DELETE FROM minemap.crossref_current",
        "UPDATE minemap.revisions SET removed = '[]'",
        "DELETE FROM minemap.revisions",
        "TRUNCATE minemap.history_minefields",
        "INSERT INTO minemap.revisions (revision) VALUES (99)",
        "INSERT INTO minemap.minefields (record_id, handover) VALUES ('X', 'h')",
    ):
        assert HISTORY_MESSAGE in _refused(pg_store, statement), statement
    # Even with minemap's own flag set, a history row's data never changes.
    assert HISTORY_MESSAGE in _refused(
        pg_store, "SELECT set_config('minemap.writer', 'on', false);"
        " UPDATE minemap.history_minefields SET mines_ap = 1")
    assert table_rows(pg_store) == before
    # minemap's own revision step still closes and adds rows.
    res, _ = import_records([fields_file(tmp_path / "b.geojson", 3, ap=7)], handover="h",
                            store=pg_store)
    assert res.revision == 2 and len(res.changed) == 3


def _role(url: str, name: str, member_of: str) -> None:
    with _admin(url) as conn:
        for role, extra in (("minemap_read", ""), ("minemap_write", " IN ROLE minemap_read"),
                            (name, f" LOGIN IN ROLE {member_of}")):
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                conn.execute(sql.SQL("CREATE ROLE {}" + extra).format(sql.Identifier(role)))


def test_roles_read_only_for_qgis_and_import_for_officers(pg_store, tmp_path):
    _role(pg_store, "qgis_viewer", "minemap_read")
    _role(pg_store, "gis_officer", "minemap_write")
    import_records([fields_file(tmp_path / "a.geojson", 2)], handover="h", store=pg_store)
    viewer = _with_db(pg_store, urlsplit(pg_store).path.lstrip("/"), user="qgis_viewer")
    with psycopg.connect(viewer) as conn:
        assert conn.execute("SELECT count(*) FROM minemap.crossref").fetchone() == (2,)
        assert conn.execute("SELECT count(*) FROM public.layer_styles").fetchone()[0] >= 7
    for statement in ("UPDATE minemap.history_minefields SET rev_to = 1",
                      "INSERT INTO minemap.revisions (revision) VALUES (9)",
                      "DELETE FROM minemap.crossref_current"):
        assert "permission denied" in _refused(viewer, statement)
    # An officer imports through minemap (and only so: the triggers hold for them too).
    officer = _with_db(pg_store, urlsplit(pg_store).path.lstrip("/"), user="gis_officer")
    run(officer, "import-records", fields_file(tmp_path / "b.geojson", 3, ap=4),
        "--handover", "h")
    assert [r["revision"] for r in Store(viewer).revisions()] == [1, 2]
    assert Store(viewer).read_crossref()[1] == 2
    assert "permission denied" in _refused(officer, "DELETE FROM minemap.history_minefields")
    assert HISTORY_MESSAGE in _refused(officer, "UPDATE minemap.history_minefields SET rev_to = 2")


def test_qgis_finds_default_styles_for_the_views(pg_store, tmp_path):
    from minemap.store.postgis_schema import STYLED
    from minemap.styles import qgis_style

    import_records([fields_file(tmp_path / "a.geojson", 2)], handover="h", store=pg_store)
    dbname = urlsplit(pg_store).path.lstrip("/")
    with psycopg.connect(pg_store) as conn:
        # QGIS's own lookup (QgsPostgresProvider): the default style of a layer.
        rows = conn.execute(
            "SELECT f_table_name, styleqml::text, f_geometry_column FROM public.layer_styles"
            " WHERE f_table_catalog = %s AND f_table_schema = 'minemap' AND useasdefault"
            " ORDER BY update_time DESC", (dbname,)).fetchall()
        views = {r[0] for r in conn.execute(
            "SELECT f_table_name FROM geometry_columns WHERE f_table_schema = 'minemap'"
            " AND f_table_name NOT LIKE 'history\\_%%'")}
    got = {name: (text, col) for name, text, col in rows}
    assert set(got) == set(STYLED) and set(got) <= views
    for layer in STYLED:
        assert got[layer][1] == "geom"
        assert "<renderer-v2" in got[layer][0]
        assert got[layer][0].count("<symbol ") == qgis_style(layer)[0].count("<symbol ")
    assert "status" in got["crossref"][0]
    # The minefields view carries the status its style colours by (as the GeoPackage's).
    with psycopg.connect(pg_store) as conn:
        status = conn.execute("SELECT status FROM minemap.minefields ORDER BY record_id").fetchall()
    assert status == [("not_started",), ("not_started",)]


# --------------------------------------------------------------------------- concurrency, kill


_IMPORT = (
    "import sys; from minemap import import_records; "
    "import_records([sys.argv[1]], handover=sys.argv[2], store=sys.argv[3])"
)


def test_four_concurrent_imports_land_as_distinct_revisions(pg_store, tmp_path):
    import_records([fields_file(tmp_path / "seed.geojson", 1, prefix="S")], handover="seed",
                   store=pg_store)
    names = ("one", "two", "three", "four")
    files = [fields_file(tmp_path / f"{h}.geojson", 40, prefix=h.upper()) for h in names]
    procs = [subprocess.Popen([sys.executable, "-c", _IMPORT, str(f), f.stem, pg_store])
             for f in files]
    assert [p.wait(timeout=300) for p in procs] == [0, 0, 0, 0]
    st = Store(pg_store)
    revs = st.revisions()
    assert [r["revision"] for r in revs] == [1, 2, 3, 4, 5]
    assert sorted(r["handover"] for r in revs[1:]) == sorted(names)
    assert st.read("minefields").groupby("handover").size().to_dict() == {
        "seed": 1, **{h: 40 for h in names}}
    # Each import's crossref refresh saw the ones before it.
    table, rev = st.read_crossref()
    assert rev == 5 and len(table) == 161


def _writing_backend(url: str) -> int | None:
    """The pid of a backend holding the import lock that has written in its transaction."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND a.backend_xid IS NOT NULL"
            " AND a.datname = current_database()").fetchone()
    return row[0] if row else None


def test_kill_9_mid_import_leaves_nothing(pg_store, tmp_path):
    import_records([fields_file(tmp_path / "a.geojson", 3)], handover="h", store=pg_store)
    before = table_rows(pg_store)
    big = fields_file(tmp_path / "big.geojson", 2000, prefix="BIG", start=10)
    proc = subprocess.Popen([sys.executable, "-c", _IMPORT, str(big), "big", pg_store])
    deadline = time.time() + 120
    backend = None
    while backend is None and proc.poll() is None and time.time() < deadline:
        backend = _writing_backend(pg_store)
        time.sleep(0.01)
    # Inside the import's transaction, after its first write: kill the client.
    assert backend is not None and proc.poll() is None, "the import ended before the kill"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with psycopg.connect(pg_store, autocommit=True) as conn:
        while conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s",
                           (backend,)).fetchone() and time.time() < deadline:
            time.sleep(0.05)  # the server notices the closed socket and rolls back
    assert table_rows(pg_store) == before
    # The lock went with the transaction: the next import proceeds.
    res, _ = import_records([fields_file(tmp_path / "c.geojson", 2, prefix="C")],
                            handover="c", store=pg_store)
    assert res.revision == 2


# --------------------------------------------------------------------------- copy-store


def _full_history(store) -> list[dict]:
    return json.loads(run(store, "history", "--json"))


@pytest.mark.parametrize("direction", ["gpkg-to-postgis", "postgis-to-gpkg"])
def test_copy_store_keeps_history_and_exports(built, new_db, tmp_path, direction):
    gpkg, url = built
    src, dst = (gpkg, new_db()) if direction == "gpkg-to-postgis" else (url, tmp_path / "c.gpkg")
    out = run(src, "copy-store", src, dst)
    assert out.startswith("copied 8 revisions")
    # Times and all: the copy's history is the source's.
    assert _full_history(dst) == _full_history(src)
    assert exports(dst, tmp_path / "dst") == exports(src, tmp_path / "src")
    a, b = Store(src), Store(dst)
    for rev in (2, 5):
        for layer in ("minefields", "items", "vertices"):
            # The same rows at each past revision (compared in key order: a
            # backend lists rows in its own write order).
            def rows(st, layer=layer, rev=rev):
                frame = pd.DataFrame(st.read(layer, revision=rev))
                from minemap.store.revisions import LAYERS

                return frame.sort_values(list(LAYERS[layer].key)).reset_index(drop=True)

            pd.testing.assert_frame_equal(rows(b), rows(a))
    def crossref_rows(st):
        return st.read_crossref()[0].sort_values(["handover", "record_id"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(crossref_rows(b), crossref_rows(a))
    assert b.read_crossref()[1] == 8
    # The copy is a store like any other: re-importing a source is the same no-op,
    # a revised one the same change, in both.
    step = json.loads((SAMPLES / "manifest.json").read_text())["steps"][4]
    args = ["import-records", SAMPLES / step["sources"][0], "--handover", step["handover"]]
    assert "nothing to do" in run(dst, *args)
    rev = SAMPLES / json.loads((SAMPLES / "manifest.json").read_text())["steps"][1]["sources"][0]
    run(dst, "import-records", rev, "--handover", step["handover"], "--allow-removals")
    assert history(dst)[-1]["added"] or history(dst)[-1]["changed"]


def test_copy_store_refuses_a_store_that_exists_and_an_empty_source(built, new_db, tmp_path):
    gpkg, url = built
    before = table_rows(url)
    res = CliRunner().invoke(group, ["copy-store", str(gpkg), url])
    assert res.exit_code == 2 and "already holds a store (8 revisions)" in res.output
    assert table_rows(url) == before
    empty = new_db()
    res = CliRunner().invoke(group, ["copy-store", empty, str(tmp_path / "x.gpkg")])
    assert res.exit_code == 2 and "the store is empty" in res.output
    assert not (tmp_path / "x.gpkg").exists()


def test_a_snapshot_sees_one_state_while_imports_land(pg_store, tmp_path):
    import_records([fields_file(tmp_path / "a.geojson", 2)], handover="h", store=pg_store)
    st = Store(pg_store)
    with st.snapshot() as view:
        before = view.read_crossref()
        import_records([fields_file(tmp_path / "b.geojson", 3, prefix="B")], handover="b",
                       store=pg_store, handover_date="2021-07-01")
        assert view.latest_revision() == 1 and len(view.read("minefields")) == 2
        assert [r["revision"] for r in view.revisions()] == [1]
        # The crossref is rewritten in place by each import; the snapshot still
        # reads the one of its revision, and the handovers as they were.
        table, rev = view.read_crossref()
        assert rev == 1 and len(table) == 2
        pd.testing.assert_frame_equal(table, before[0])
        assert list(view.handovers().handover) == ["h"]
        # Two rectangles: 2 records and their 2 × 4 turning points.
        assert view.counts() == {**dict.fromkeys(view.counts(), 0), "minefields": 2,
                                 "vertices": 8}
    assert st.latest_revision() == 2 and len(st.read("minefields")) == 5
    assert st.read_crossref()[1] == 2
    assert len(st.read("minefields", where={"mines_ap": [np.int64(10)]})) == 5


def test_an_import_refused_inside_its_transaction_leaves_nothing(pg_store, tmp_path):
    import_records([fields_file(tmp_path / "a.geojson", 4)], handover="h", store=pg_store)
    before = table_rows(pg_store)
    # The removal rule refuses after the import has closed and written rows.
    res = CliRunner().invoke(group, ["--store", pg_store, "import-records",
                                     str(fields_file(tmp_path / "b.geojson", 1)),
                                     "--handover", "h"])
    assert res.exit_code == 1 and "would remove 3 records of handover h" in res.output
    assert table_rows(pg_store) == before


def test_an_import_waits_for_the_lock_then_says_so(pg_store, tmp_path, monkeypatch):
    import minemap.store.postgis as backend

    import_records([fields_file(tmp_path / "a.geojson", 2)], handover="h", store=pg_store)
    monkeypatch.setattr(backend, "LOCK_TIMEOUT_S", 0.5)
    with psycopg.connect(pg_store) as holder:  # another client inside an import
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (backend.LOCK_KEY,))
        res = CliRunner().invoke(group, ["--store", pg_store, "import-records",
                                         str(fields_file(tmp_path / "b.geojson", 3)),
                                         "--handover", "h"])
    assert res.exit_code == 1
    assert "held the store's lock for over 0.5 s; nothing was written" in res.output
    assert Store(pg_store).latest_revision() == 1


def test_demo_refuses_a_database_that_holds_a_store(built, tmp_path):
    _, url = built
    res = CliRunner().invoke(group, ["--store", url, "demo", str(tmp_path / "out")])
    assert res.exit_code == 2 and "holds a store; the demo builds a fresh store" in res.output
    assert Store(url).latest_revision() == 8
