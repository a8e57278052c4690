"""The GeoPackage store's schema: what QGIS lists, and what nobody else may write.

Layout (minemap store schema 3)
-------------------------------
- ``history_<layer>``: every version of every row ever imported, with
  ``content_hash``, ``rev_from`` (the revision that added it) and ``rev_to``
  (the revision that replaced or removed it; NULL while current).  Listed,
  named as history.
- ``<layer>``: a view of the current rows, under the layer's plain name.
  ``minefields`` carries the hazard status and progress columns of the
  materialised crossref.
- ``crossref``: the materialised crossref by minefield (a feature table with
  the field's geometry), refreshed by every import.
- ``remaining`` and ``suspects``: the derived layers (remaining hazard by
  field, suspected areas beyond every map), feature tables rewritten by
  minemap's refresh with the crossref and tagged, like it, with the
  revision they describe (schema 3).
- ``revisions``: one row per import.  ``layer_styles``: QGIS default styles.
- ``rtree_<table>_geom``: GeoPackage R-tree spatial indexes (extension
  ``gpkg_rtree_index``), kept by the spec's triggers; GDAL and QGIS hide them.
- ``gpkg_metadata``: one JSON document with the minemap schema version, the
  revision the crossref describes and, per derived layer, its revision and
  the parameters it was computed with.

Guard triggers (named ``*_guard_*``) refuse every write to history, to
``revisions``, to ``crossref`` and to the derived layers, and INSTEAD OF triggers every write through
the views.  minemap's revision step lifts the guards inside its own write
transaction and puts them back before it commits (:func:`lifted_guards`), so
no other connection ever sees them missing, and a killed import rolls back
with them in place.  Even then, permanent triggers let a history row only be
closed (``rev_to`` set once), never changed or deleted.  Only
:mod:`minemap.store.gpkg` calls this module.
"""

from __future__ import annotations

import json
import sqlite3
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS

from minemap.records import schema
from minemap.store.revisions import (
    _CROSSREF_REAL,
    DERIVED,
    LAYERS,
    REVISION_COLUMNS,
    LayerSpec,
)

APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10400  # GeoPackage 1.4
#: The minemap store schema this code writes (stamped in ``gpkg_metadata``).
SCHEMA_VERSION = 3
METADATA_URI = "urn:minemap:store"

READ_ONLY = "minemap store: history is read-only; import a revision instead"
DERIVED_MESSAGE = ("minemap store: the crossref is computed by minemap; import a revision"
                   " instead")

_SQL_TYPES = {"str": "TEXT", "int": "INTEGER", "float": "REAL", "bool": "BOOLEAN"}
#: Crossref columns the ``minefields`` view shows beside each field.
PROGRESS_COLUMNS = ("status", "released_ha", "released_pct", "cleared_ha", "cleared_pct",
                    "found_mines", "remaining_est", "last_release_date")


def history(layer: str) -> str:
    """The table holding every version of ``layer``."""
    return f"history_{layer}"


def rtree(table: str) -> str:
    """The GeoPackage R-tree index of ``table``'s geometry."""
    return f"rtree_{table}_geom"


# --------------------------------------------------------------------------- functions


def _envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) of a GeoPackage geometry blob; None if null or empty."""
    if blob is None or len(blob) < 8 or blob[3] & 0x10:
        return None
    env = (blob[3] >> 1) & 0x07
    if env:
        return struct.unpack_from("<4d" if blob[3] & 0x01 else ">4d", blob, 8)
    size = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}.get(env, 0)
    geom = shapely.from_wkb(bytes(blob[8 + size:]))
    if geom is None or geom.is_empty:
        return None
    x0, y0, x1, y1 = shapely.bounds(geom)
    return x0, x1, y0, y1


def _part(i: int):
    def f(blob):
        e = _envelope(blob)
        return None if e is None else e[i]
    return f


def register_functions(conn: sqlite3.Connection) -> None:
    """The ``ST_*`` functions the GeoPackage R-tree triggers call."""
    conn.create_function("ST_IsEmpty", 1, lambda b: None if b is None else int(
        _envelope(b) is None), deterministic=True)
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        conn.create_function(name, 1, _part(i), deterministic=True)


# --------------------------------------------------------------------------- version


def schema_version(conn: sqlite3.Connection) -> int | None:
    """The minemap schema of an existing database: 0 empty, 1 the first layout, None foreign."""
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    if not names:
        return 0
    if "revisions" in names and "minefields_versions" in names:
        return 1
    if "gpkg_metadata" in names and "revisions" in names:
        doc = _metadata(conn)
        if doc is not None:
            return int(doc.get("minemap_store_schema", 0)) or None
    return None


def _metadata(conn: sqlite3.Connection) -> dict | None:
    row = conn.execute(
        "SELECT metadata FROM gpkg_metadata WHERE md_standard_uri = ? ORDER BY id LIMIT 1",
        (METADATA_URI,)).fetchone()
    return json.loads(row[0]) if row else None


def crossref_state(conn: sqlite3.Connection) -> int:
    """The revision the materialised crossref describes (0: none)."""
    doc = _metadata(conn) or {}
    return int(doc.get("crossref_revision", 0))


def set_crossref_state(conn: sqlite3.Connection, revision: int) -> None:
    doc = _metadata(conn) or {}
    doc["crossref_revision"] = int(revision)
    conn.execute("UPDATE gpkg_metadata SET metadata = ? WHERE md_standard_uri = ?",
                 (json.dumps(doc, sort_keys=True), METADATA_URI))


def derived_state(conn: sqlite3.Connection, layer: str) -> tuple[int, dict]:
    """The revision a derived layer describes (0: never computed) and its parameters."""
    entry = ((_metadata(conn) or {}).get("derived") or {}).get(layer) or {}
    return int(entry.get("revision", 0)), dict(entry.get("params") or {})


def set_derived_state(conn: sqlite3.Connection, layer: str, revision: int,
                      params: dict) -> None:
    doc = _metadata(conn) or {}
    doc.setdefault("derived", {})[layer] = {"revision": int(revision), "params": params}
    conn.execute("UPDATE gpkg_metadata SET metadata = ? WHERE md_standard_uri = ?",
                 (json.dumps(doc, sort_keys=True), METADATA_URI))
    conn.execute("UPDATE gpkg_contents SET description = ? WHERE table_name = ?",
                 (f"{_DERIVED_TITLES[layer]} as of revision {int(revision)} (computed by"
                  " minemap; read-only)", layer))


# --------------------------------------------------------------------------- creation


def create_schema(conn: sqlite3.Connection) -> None:
    """Create a schema-2 store in an empty database (inside a transaction)."""
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {USER_VERSION}")
    for statement in _CORE_DDL.split(";"):
        if statement.strip():
            # Not executescript: it would COMMIT the open transaction.
            conn.execute(statement)
    wkt = CRS.from_epsg(4326).to_wkt("WKT1_GDAL")
    conn.executemany(
        "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?,?,?,?,?,?)",
        [
            ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", None),
            ("Undefined geographic SRS", 0, "NONE", 0, "undefined", None),
            ("WGS 84 geodetic", 4326, "EPSG", 4326, wkt, "longitude/latitude WGS84"),
        ],
    )
    conn.execute(
        "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata)"
        " VALUES ('dataset', ?, 'application/json', ?)",
        (METADATA_URI, json.dumps({"minemap_store_schema": SCHEMA_VERSION,
                                   "crossref_revision": 0}, sort_keys=True)))
    conn.execute("INSERT INTO gpkg_metadata_reference (reference_scope, md_file_id)"
                 " VALUES ('geopackage', 1)")
    conn.executemany(
        "INSERT INTO gpkg_extensions VALUES (?, NULL, 'gpkg_metadata',"
        " 'http://www.geopackage.org/spec/#extension_metadata', 'read-write')",
        [("gpkg_metadata",), ("gpkg_metadata_reference",)])
    cols = ", ".join(f"{c} TEXT" for c in REVISION_COLUMNS[1:])
    conn.execute(f"CREATE TABLE revisions (revision INTEGER PRIMARY KEY, {cols})")
    register(conn, "revisions", None, "revisions: one row per import or revert")
    _guard_history(conn, "revisions", ["revision", *REVISION_COLUMNS[1:]], closable=False)
    for spec in LAYERS.values():
        _create_layer(conn, spec)
    _create_crossref(conn)
    _create_minefields_view(conn)
    create_derived(conn)
    _create_styles(conn)


_CORE_DDL = """
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
  organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL, description TEXT);
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
  identifier TEXT UNIQUE, description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL,
  z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_extensions (
  table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
  definition TEXT NOT NULL, scope TEXT NOT NULL,
  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
CREATE TABLE gpkg_metadata (
  id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL,
  md_scope TEXT NOT NULL DEFAULT 'dataset', md_standard_uri TEXT NOT NULL,
  mime_type TEXT NOT NULL DEFAULT 'text/xml', metadata TEXT NOT NULL DEFAULT '');
CREATE TABLE gpkg_metadata_reference (
  reference_scope TEXT NOT NULL, table_name TEXT, column_name TEXT, row_id_value INTEGER,
  timestamp DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  md_file_id INTEGER NOT NULL, md_parent_id INTEGER,
  CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES gpkg_metadata(id),
  CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES gpkg_metadata(id))
"""


def register(conn: sqlite3.Connection, table: str, geometry_type: str | None,
             description: str) -> None:
    """List ``table`` in ``gpkg_contents`` (and its geometry column)."""
    conn.execute(
        "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, description,"
        " srs_id, min_x, min_y, max_x, max_y) VALUES (?,?,?,?,?,?,?,?,?)",
        (
            table,
            "features" if geometry_type else "attributes",
            table,
            description,
            4326 if geometry_type else None,
            *((45.0, 38.0, 48.0, 41.0) if geometry_type else (None,) * 4),
        ),
    )
    if geometry_type:
        conn.execute(
            "INSERT OR REPLACE INTO gpkg_geometry_columns VALUES (?, 'geom', ?, 4326, 0, 0)",
            (table, geometry_type),
        )


def _create_layer(conn: sqlite3.Connection, spec: LayerSpec) -> None:
    cols = ", ".join(f'"{c}" {_SQL_TYPES[t]}' for c, t in spec.columns.items())
    geom = f"geom {spec.geometry_type}, " if spec.geometry_type else ""
    table = history(spec.name)
    conn.execute(
        f"CREATE TABLE {table} (fid INTEGER PRIMARY KEY AUTOINCREMENT, {geom}{cols},"
        " content_hash TEXT NOT NULL, rev_from INTEGER NOT NULL, rev_to INTEGER)"
    )
    keys = ", ".join(f'"{k}"' for k in spec.key)
    conn.execute(f"CREATE INDEX {table}_key ON {table} ({keys})")
    conn.execute(f"CREATE INDEX {table}_rev ON {table} (rev_to, rev_from)")
    register(conn, table, spec.geometry_type,
             f"history of {spec.name}: every version, valid from rev_from until rev_to"
             " (read-only)")
    if spec.geometry_type:
        create_rtree(conn, table)
    all_cols = ["fid", *(["geom"] if spec.geometry_type else []), *spec.columns,
                "content_hash", "rev_from", "rev_to"]
    _guard_history(conn, table, all_cols, closable=True)
    if spec.name == "minefields":
        return  # its view joins the crossref (below)
    names = ", ".join(f'"{c}"' for c in spec.columns)
    geom_col = "geom, " if spec.geometry_type else ""
    conn.execute(
        f"CREATE VIEW {spec.name} AS SELECT fid, {geom_col}{names}, rev_from AS revision"
        f" FROM {table} WHERE rev_to IS NULL"
    )
    register(conn, spec.name, spec.geometry_type, f"current {spec.name}")
    _guard_view(conn, spec.name)


def create_rtree(conn: sqlite3.Connection, table: str) -> None:
    """A GeoPackage R-tree index of ``table.geom`` with the spec's triggers."""
    t, r = table, rtree(table)
    conn.execute(f"CREATE VIRTUAL TABLE {r} USING rtree(id, minx, maxx, miny, maxy)")
    box = "ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)"
    new_ok = "(NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))"
    new_no = "(NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))"
    old_ok = "(OLD.geom NOTNULL AND NOT ST_IsEmpty(OLD.geom))"
    old_no = "(OLD.geom ISNULL OR ST_IsEmpty(OLD.geom))"
    triggers = {
        "insert": f"AFTER INSERT ON {t} WHEN {new_ok} BEGIN INSERT OR REPLACE INTO {r}"
                  f" VALUES (NEW.fid, {box}); END",
        "update6": f"AFTER UPDATE OF geom ON {t} WHEN OLD.fid = NEW.fid AND {new_ok} AND"
                   f" {old_ok} BEGIN UPDATE {r} SET minx = ST_MinX(NEW.geom),"
                   " maxx = ST_MaxX(NEW.geom), miny = ST_MinY(NEW.geom),"
                   " maxy = ST_MaxY(NEW.geom) WHERE id = NEW.fid; END",
        "update7": f"AFTER UPDATE OF geom ON {t} WHEN OLD.fid = NEW.fid AND {new_ok} AND"
                   f" {old_no} BEGIN INSERT INTO {r} VALUES (NEW.fid, {box}); END",
        "update2": f"AFTER UPDATE OF geom ON {t} WHEN OLD.fid = NEW.fid AND {new_no}"
                   f" BEGIN DELETE FROM {r} WHERE id = OLD.fid; END",
        "update4": f"AFTER UPDATE ON {t} WHEN OLD.fid != NEW.fid AND {new_no}"
                   f" BEGIN DELETE FROM {r} WHERE id IN (OLD.fid, NEW.fid); END",
        "update5": f"AFTER UPDATE ON {t} WHEN OLD.fid != NEW.fid AND {new_ok}"
                   f" BEGIN DELETE FROM {r} WHERE id = OLD.fid;"
                   f" INSERT OR REPLACE INTO {r} VALUES (NEW.fid, {box}); END",
        "delete": f"AFTER DELETE ON {t} WHEN OLD.geom NOT NULL"
                  f" BEGIN DELETE FROM {r} WHERE id = OLD.fid; END",
    }
    for name, body in triggers.items():
        conn.execute(f"CREATE TRIGGER {r}_{name} {body}")
    conn.execute(
        "INSERT OR REPLACE INTO gpkg_extensions VALUES (?, 'geom', 'gpkg_rtree_index',"
        " 'http://www.geopackage.org/spec/#extension_rtree', 'write-only')", (t,))


def _raise(message: str) -> str:
    return f"BEGIN SELECT RAISE(ABORT, '{message}'); END"


def _guard_history(conn: sqlite3.Connection, table: str, columns: list[str], *,
                   closable: bool) -> None:
    """Guards against every write; beneath them, rows that can only be closed, once."""
    for op in ("INSERT", "UPDATE", "DELETE"):
        conn.execute(f"CREATE TRIGGER {table}_guard_{op.lower()} BEFORE {op} ON {table}"
                     f" {_raise(READ_ONLY)}")
    conn.execute(f"CREATE TRIGGER {table}_never_delete BEFORE DELETE ON {table}"
                 f" {_raise(READ_ONLY)}")
    if not closable:
        conn.execute(f"CREATE TRIGGER {table}_never_update BEFORE UPDATE ON {table}"
                     f" {_raise(READ_ONLY)}")
        return
    other = " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in columns if c != "rev_to")
    conn.execute(
        f"CREATE TRIGGER {table}_close_only BEFORE UPDATE ON {table} WHEN"
        f" OLD.rev_to IS NOT NULL OR NEW.rev_to IS NULL OR {other} {_raise(READ_ONLY)}")


def _guard_view(conn: sqlite3.Connection, view: str) -> None:
    # A view is not writable anyway; these make the refusal say why.
    for op in ("INSERT", "UPDATE", "DELETE"):
        conn.execute(f"CREATE TRIGGER {view}_view_{op.lower()} INSTEAD OF {op} ON {view}"
                     f" {_raise(READ_ONLY)}")


@contextmanager
def lifted_guards(conn: sqlite3.Connection) -> Iterator[None]:
    """Drop the guard triggers for minemap's revision step; put them back after.

    Must run inside the write transaction: other connections see the guards
    both before and after it commits, never the gap.  On an exception the
    caller rolls back, which restores them too.
    """
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                        r" AND name LIKE '%\_guard\_%' ESCAPE '\'").fetchall()
    for name, _ in rows:
        conn.execute(f'DROP TRIGGER "{name}"')
    yield
    for _, sql in rows:
        conn.execute(sql)


#: Columns of the ``crossref`` table after ``fid`` and ``geom``.
def crossref_columns() -> list[str]:
    """The ``crossref`` table's columns: the crossref's, the field's others, ``revision``."""
    extra = [c for c in schema.MINEFIELD_COLUMNS
             if c not in schema.CROSSREF_COLUMNS and c != "raw"]
    return [*schema.CROSSREF_COLUMNS, *extra, "revision"]


def _create_crossref(conn: sqlite3.Connection) -> None:
    types = {**{c: _SQL_TYPES[t] for c, t in schema.MINEFIELD_COLUMNS.items()},
             **{c: "REAL" if c in _CROSSREF_REAL else "TEXT" for c in schema.CROSSREF_COLUMNS
                if c not in schema.MINEFIELD_COLUMNS}, "revision": "INTEGER"}
    types["mines_total"] = "INTEGER"
    cols = ", ".join(f'"{c}" {types[c]}' for c in crossref_columns())
    conn.execute(f"CREATE TABLE crossref (fid INTEGER PRIMARY KEY AUTOINCREMENT,"
                 f" geom MULTIPOLYGON, {cols}, UNIQUE (handover, record_id))")
    register(conn, "crossref", "MULTIPOLYGON",
             "current minefields with their status, released and remaining (computed)")
    create_rtree(conn, "crossref")
    for op in ("INSERT", "UPDATE", "DELETE"):
        conn.execute(f"CREATE TRIGGER crossref_guard_{op.lower()} BEFORE {op} ON crossref"
                     f" {_raise(DERIVED_MESSAGE)}")


_DERIVED_TITLES = {
    "remaining": "remaining hazard: each field with hazard left, minus its released land",
    "suspects": "suspected hazard areas: finds and incidents beyond every map",
}


def derived_message(layer: str) -> str:
    """Why a write to a derived layer is refused."""
    return f"minemap store: {layer} is computed by minemap; import a revision instead"


def create_derived(conn: sqlite3.Connection) -> None:
    """The derived feature tables (schema 3), empty, registered, indexed and guarded."""
    for name, spec in DERIVED.items():
        cols = ", ".join(f'"{c}" {_SQL_TYPES[t]}' for c, t in spec.columns.items())
        keys = ", ".join(f'"{k}"' for k in spec.key)
        conn.execute(f"CREATE TABLE {name} (fid INTEGER PRIMARY KEY AUTOINCREMENT,"
                     f" geom {spec.geometry_type}, {cols}, UNIQUE ({keys}))")
        register(conn, name, spec.geometry_type,
                 f"{_DERIVED_TITLES[name]} (computed by minemap; read-only)")
        create_rtree(conn, name)
        for op in ("INSERT", "UPDATE", "DELETE"):
            conn.execute(f"CREATE TRIGGER {name}_guard_{op.lower()} BEFORE {op} ON {name}"
                         f" {_raise(derived_message(name))}")


def _create_minefields_view(conn: sqlite3.Connection) -> None:
    names = ", ".join(f'm."{c}"' for c in schema.MINEFIELD_COLUMNS)
    progress = ", ".join(f'c."{c}"' for c in PROGRESS_COLUMNS)
    conn.execute(
        f"CREATE VIEW minefields AS SELECT m.fid AS fid, m.geom AS geom, {names}, {progress},"
        f" m.rev_from AS revision FROM {history('minefields')} m LEFT JOIN crossref c"
        " ON c.handover = m.handover AND c.record_id = m.record_id WHERE m.rev_to IS NULL")
    register(conn, "minefields", "MULTIPOLYGON",
             "current minefields, with hazard status and progress")
    _guard_view(conn, "minefields")


#: Layers with a default QGIS style (every listed spatial layer).
STYLED = ("minefields", "crossref", "releases", "items", "incidents", "districts", "mine_rows",
          "vertices", *DERIVED, *(history(n) for n, s in LAYERS.items() if s.geometry_type))


def _create_styles(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256),"
        " f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,"
        " useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),"
        " update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"
    )
    register(conn, "layer_styles", None, "QGIS default styles")
    write_default_styles(conn)


def write_default_styles(conn: sqlite3.Connection) -> None:
    """Insert (or replace) minemap's default style of every listed spatial layer."""
    from minemap.styles import qgis_style

    conn.execute("DELETE FROM layer_styles WHERE owner = 'minemap'")
    rows = []
    for layer in STYLED:
        qml, what = qgis_style(layer.removeprefix("history_"),
                               has_status=layer in ("minefields", "crossref"))
        rows.append((layer, layer, qml, f"minemap default style: {what}"))
    conn.executemany(
        "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name,"
        " f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description,"
        " owner, ui) VALUES ('', '', ?, 'geom', ?, ?, '', 1, ?, 'minemap', '')", rows)


# --------------------------------------------------------------------------- upkeep


def update_extent(conn: sqlite3.Connection, layer: str) -> None:
    """Set the layer's extent in ``gpkg_contents`` from its current rows."""
    table = history(layer)
    # The envelope sits in the blob header: bytes 9-40 are minx, maxx,
    # miny, maxy; SQLite reads them without decoding the geometry.
    blobs = conn.execute(
        f"SELECT substr(geom, 9, 32) FROM {table} WHERE geom IS NOT NULL AND rev_to IS NULL"
    ).fetchall()
    env = np.frombuffer(b"".join(b[0] for b in blobs if len(b[0]) == 32), dtype="<f8")
    env = env.reshape(-1, 4)
    if not len(env):
        return
    set_extent(conn, layer, (env[:, 0].min(), env[:, 2].min(), env[:, 1].max(),
                             env[:, 3].max()))


def stored_extent(conn: sqlite3.Connection, layer: str
                  ) -> tuple[float, float, float, float] | None:
    """The extent (minx, miny, maxx, maxy) ``gpkg_contents`` gives a layer's history, if any."""
    row = conn.execute("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents"
                       " WHERE table_name = ?", (history(layer),)).fetchone()
    return None if row is None or any(v is None for v in row) else tuple(map(float, row))


def set_extent(conn: sqlite3.Connection, layer: str,
               bbox: tuple[float, float, float, float]) -> None:
    """Set the extent (minx, miny, maxx, maxy) of a layer, its history and its views."""
    tables = (layer, history(layer), *(("crossref",) if layer == "minefields" else ()))
    for name in tables:
        conn.execute(
            "UPDATE gpkg_contents SET min_x=?, min_y=?, max_x=?, max_y=?,"
            " last_change=strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name=?",
            (*map(float, bbox), name),
        )


def update_derived_extent(conn: sqlite3.Connection, layer: str) -> None:
    """Set a derived layer's extent in ``gpkg_contents`` from its R-tree index."""
    row = conn.execute(f"SELECT MIN(minx), MIN(miny), MAX(maxx), MAX(maxy) FROM"
                       f" {rtree(layer)}").fetchone()
    if row[0] is None:
        return
    conn.execute(
        "UPDATE gpkg_contents SET min_x=?, min_y=?, max_x=?, max_y=?,"
        " last_change=strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name=?",
        (*map(float, row), layer))


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    """Whether the store has a table or view of that name."""
    return (
        conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = ? AND type IN ('table', 'view')", (name,)
        ).fetchone()
        is not None
    )


def is_sqlite(path: Path) -> bool:
    """Whether ``path`` starts like an SQLite database (so a failure means damage)."""
    try:
        with open(path, "rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False
