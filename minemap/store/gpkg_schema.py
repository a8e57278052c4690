"""The GeoPackage store's schema: tables, views, registration and styles.

Only :mod:`minemap.store.gpkg` calls this module; it holds the DDL so the
backend's read and write logic stays readable.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
from pyproj import CRS

from minemap import styles
from minemap._errors import UsageError
from minemap.records import schema
from minemap.store.revisions import _CROSSREF_REAL, LAYERS, REVISION_COLUMNS, LayerSpec

APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10400  # GeoPackage 1.4

_SQL_TYPES = {"str": "TEXT", "int": "INTEGER", "float": "REAL", "bool": "BOOLEAN"}


def ensure_schema(conn: sqlite3.Connection, path: Path) -> None:
    """Create the store's tables in a new file (inside the write transaction)."""
    if conn.execute(
        "SELECT 1 FROM sqlite_master WHERE name='revisions'"
    ).fetchone():
        return
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").fetchone():
        # Someone else's GeoPackage (a source file, say): never write in it.
        raise UsageError(f"{path}: is a database but not a minemap store; give"
                         " --store a new file or an existing minemap store")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {USER_VERSION}")
    # Not executescript: it would COMMIT the open transaction.
    ddl = (
        """
        CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
          srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
          organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
          definition TEXT NOT NULL, description TEXT);
        CREATE TABLE IF NOT EXISTS gpkg_contents (
          table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
          identifier TEXT UNIQUE, description TEXT DEFAULT '',
          last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
          min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
          CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id)
            REFERENCES gpkg_spatial_ref_sys(srs_id));
        CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
          table_name TEXT NOT NULL, column_name TEXT NOT NULL,
          geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL,
          z TINYINT NOT NULL, m TINYINT NOT NULL,
          CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
          CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
          CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
        """
    )
    for statement in ddl.split(";"):
        if statement.strip():
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
    cols = ", ".join(f"{c} TEXT" for c in REVISION_COLUMNS[1:])
    conn.execute(f"CREATE TABLE revisions (revision INTEGER PRIMARY KEY, {cols})")
    _register(conn, "revisions", None, "import history: one row per revision")
    conn.execute(
        "CREATE TABLE handovers (handover TEXT PRIMARY KEY, handover_date TEXT,"
        " revision INTEGER)"
    )
    _register(conn, "handovers", None, "handovers and their dates")
    for spec in LAYERS.values():
        _create_layer(conn, spec)
    xcols = ", ".join(
        f"{c} {'REAL' if c in _CROSSREF_REAL else 'TEXT'}" for c in schema.CROSSREF_COLUMNS
    )
    conn.execute(
        f"CREATE TABLE crossref_current (fid INTEGER PRIMARY KEY AUTOINCREMENT, {xcols},"
        " revision INTEGER, UNIQUE (handover, record_id))"
    )
    conn.execute(
        "CREATE TABLE crossref_state (id INTEGER PRIMARY KEY CHECK (id = 1), revision INTEGER)"
    )
    _register(conn, "crossref_current", None, "materialised crossref, latest revision")
    extra = ", ".join(f"c.{c}" for c in schema.CROSSREF_COLUMNS
                      if c not in ("record_id", "handover", "district", "mines_total",
                                   "area_ha", "flags"))
    # The crossref's flags include the record's own and add its findings
    # (apportioned, released_far_below_recorded, …).
    base = ", ".join(
        'COALESCE(c.flags, m.flags) AS flags' if c == "flags" else f'm."{c}"'
        for c in schema.MINEFIELD_COLUMNS if c != "raw"
    )
    conn.execute(
        f"CREATE VIEW crossref AS SELECT m.fid AS fid, m.geom AS geom, {base}, {extra},"
        " m.rev_from AS revision FROM minefields_versions m LEFT JOIN crossref_current c"
        " ON c.handover = m.handover AND c.record_id = m.record_id WHERE m.rev_to IS NULL"
    )
    _register(conn, "crossref", "MULTIPOLYGON",
                   "current minefields with their status, released and remaining")
    _create_styles(conn)

def _create_styles(conn: sqlite3.Connection) -> None:
    # QGIS reads default styles from layer_styles, so the store's layers
    # open coloured by status, outcome and item type with no set-up.
    conn.execute(
        "CREATE TABLE layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256),"
        " f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,"
        " useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),"
        " update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"
    )
    _register(conn, "layer_styles", None, "QGIS default styles")
    conn.executemany(
        "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name,"
        " f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description,"
        " owner, ui) VALUES ('', '', ?, 'geom', ?, ?, '', 1, ?, '', '')",
        [(layer, layer, text, f"minemap default style ({name})")
         for layer, name, text in styles.default_styles()],
    )

def _register(conn: sqlite3.Connection, table: str, geometry_type: str | None, description: str) -> None:
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
    table = f"{spec.name}_versions"
    conn.execute(
        f"CREATE TABLE {table} (fid INTEGER PRIMARY KEY AUTOINCREMENT, {geom}{cols},"
        " content_hash TEXT NOT NULL, rev_from INTEGER NOT NULL, rev_to INTEGER)"
    )
    keys = ", ".join(f'"{k}"' for k in spec.key)
    conn.execute(f"CREATE INDEX {table}_key ON {table} ({keys})")
    if spec.geometry_type:
        # Bounding boxes by fid, so an import can read just the rows near
        # the fields it touches (SQLite's R*Tree module; not a GeoPackage
        # extension, which would need GDAL's SQL functions in triggers).
        conn.execute(
            f"CREATE VIRTUAL TABLE {table}_bbox USING rtree(id, minx, maxx, miny, maxy)"
        )
    conn.execute(f"CREATE INDEX {table}_rev ON {table} (rev_to, rev_from)")
    _register(
        conn, table, spec.geometry_type, f"every version of {spec.name}, with rev_from/rev_to"
    )
    names = ", ".join(f'"{c}"' for c in spec.columns)
    geom_col = "geom, " if spec.geometry_type else ""
    conn.execute(
        f"CREATE VIEW {spec.name} AS SELECT fid, {geom_col}{names}, rev_from AS revision"
        f" FROM {table} WHERE rev_to IS NULL"
    )
    _register(conn, spec.name, spec.geometry_type, f"current {spec.name}")


def update_extent(conn: sqlite3.Connection, layer: str) -> None:
    """Set the layer's extent in ``gpkg_contents`` from its current rows."""
    # The envelope sits in the blob header: bytes 9-40 are minx, maxx,
    # miny, maxy; SQLite reads them without decoding the geometry.
    blobs = conn.execute(
        f"SELECT substr(geom, 9, 32) FROM {layer}_versions WHERE geom IS NOT NULL"
        " AND rev_to IS NULL"
    ).fetchall()
    env = np.frombuffer(b"".join(b[0] for b in blobs if len(b[0]) == 32), dtype="<f8")
    env = env.reshape(-1, 4)
    if not len(env):
        return
    bbox = (env[:, 0].min(), env[:, 2].min(), env[:, 1].max(), env[:, 3].max())
    tables = (layer, f"{layer}_versions", *(("crossref",) if layer == "minefields" else ()))
    for table in tables:
        conn.execute(
            "UPDATE gpkg_contents SET min_x=?, min_y=?, max_x=?, max_y=?,"
            " last_change=strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name=?",
            (*map(float, bbox), table),
        )


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    """Whether the store has a table or view of that name."""
    return (
        conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = ? AND type IN ('table', 'view')", (name,)
        ).fetchone()
        is not None
    )
