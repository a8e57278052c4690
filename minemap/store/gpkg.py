"""The store: one GeoPackage file with revisioned layers (DESIGN §4).

Layout
------
Every imported kind has a ``<layer>_versions`` feature (or attribute) table
holding every version of every row ever imported, with ``rev_from`` (the
revision that added it) and ``rev_to`` (the revision that replaced or
removed it; NULL while current).  Rows are never deleted and their data is
never updated: a revision only closes the validity of the rows it replaces.
A view named after the layer (``minefields``, ``releases``, …) shows the
current rows and is registered in ``gpkg_contents``, so QGIS and ``ogrinfo``
open it as an ordinary layer.

``revisions`` lists every import (sources, sha256, options, CRS and
transformation, ids added/changed/removed).  ``crossref_current`` holds the
materialised cross-reference of the latest revision.

Atomicity and serialisation come from SQLite: an import runs in one
``BEGIN IMMEDIATE`` transaction (which also takes the write lock, so
concurrent imports queue and both land), and a killed import leaves the
rollback journal that SQLite replays on the next open.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import sqlite3
import struct
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from minemap._errors import DataError, MinemapError, UsageError
from minemap.records import schema

DEFAULT_STORE = "minemap.gpkg"

#: Seconds an import waits for another import to finish.
LOCK_TIMEOUT_S = 600.0

_APPLICATION_ID = 0x47504B47  # "GPKG"
_USER_VERSION = 10400  # GeoPackage 1.4


@dataclass(frozen=True)
class LayerSpec:
    """How a kind of row is stored."""

    name: str
    columns: dict[str, str]
    key: tuple[str, ...]
    geometry_type: str | None  # None: attribute table


LAYERS: dict[str, LayerSpec] = {
    "minefields": LayerSpec(
        "minefields", schema.MINEFIELD_COLUMNS, ("handover", "record_id"), "MULTIPOLYGON"
    ),
    "vertices": LayerSpec(
        "vertices", schema.VERTEX_COLUMNS, ("handover", "record_id", "vertex"), "POINT"
    ),
    "mine_rows": LayerSpec(
        "mine_rows", schema.MINE_ROW_COLUMNS, ("handover", "record_id", "row"), "LINESTRING"
    ),
    "releases": LayerSpec("releases", schema.RELEASE_COLUMNS, ("report_id",), "MULTIPOLYGON"),
    "items": LayerSpec("items", schema.ITEM_COLUMNS, ("item_id",), "POINT"),
    "incidents": LayerSpec("incidents", schema.INCIDENT_COLUMNS, ("incident_id",), "POINT"),
    "districts": LayerSpec("districts", schema.DISTRICT_COLUMNS, ("district",), "MULTIPOLYGON"),
    "reports": LayerSpec("reports", schema.REPORT_COLUMNS, ("date_start", "date_end"), None),
}

#: Import kinds and the layers each writes.
KINDS: dict[str, tuple[str, ...]] = {
    "records": ("minefields", "vertices", "mine_rows"),
    "clearance": ("releases", "items"),
    "reports": ("reports",),
    "districts": ("districts",),
    "incidents": ("incidents",),
}

_SQL_TYPES = {"str": "TEXT", "int": "INTEGER", "float": "REAL", "bool": "BOOLEAN"}

REVISION_COLUMNS = (
    "revision", "kind", "handover", "handover_date", "sources", "sha256", "options",
    "imported_at", "source_crs", "transformation", "added", "changed", "removed", "message",
)
_JSON_REVISION_COLUMNS = ("sources", "sha256", "options", "added", "changed", "removed")


# --------------------------------------------------------------------------
# GeoPackage geometry blobs


def _encode(geoms: np.ndarray, srs_id: int = 4326) -> list[bytes | None]:
    """GeoPackage binary geometries (header with envelope + ISO WKB)."""
    geoms = np.asarray(geoms, dtype=object)
    wkb = shapely.to_wkb(geoms, flavor="iso", byte_order=1)
    bounds = shapely.bounds(geoms)
    empty = shapely.is_empty(geoms)
    out: list[bytes | None] = []
    for w, b, e in zip(wkb, bounds, empty):
        if w is None:
            out.append(None)
        elif e:
            out.append(b"GP\x00" + bytes([0x01 | 0x10]) + struct.pack("<i", srs_id) + w)
        else:
            out.append(b"GP\x00\x03" + struct.pack("<i4d", srs_id, b[0], b[2], b[1], b[3]) + w)
    return out


_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def _decode(blobs: Iterable[bytes | None]) -> np.ndarray:
    """Shapely geometries from GeoPackage binary geometries."""
    wkb: list[bytes | None] = []
    for blob in blobs:
        if blob is None:
            wkb.append(None)
            continue
        env = (blob[3] >> 1) & 0x07
        wkb.append(bytes(blob[8 + _ENVELOPE_BYTES[env] :]))
    return shapely.from_wkb(np.array(wkb, dtype=object))


# --------------------------------------------------------------------------
# helpers


_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".fieldnames.csv")


def _sha256_bytes(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a source.

    A ``.shp`` is one file of a set: its attributes live in the ``.dbf`` and
    its CRS in the ``.prj``, so the digest covers every part present (a
    change to any part is a different source).  Other files: their bytes.
    """
    path = Path(path)
    if path.suffix.lower() != ".shp":
        return _sha256_bytes(path)
    h = hashlib.sha256()
    for ext in _SHAPEFILE_PARTS:
        for part in (path.with_name(path.stem + ext), path.with_name(path.stem + ext.upper())):
            if part.exists():
                h.update(f"{ext}:{_sha256_bytes(part)};".encode())
                break
    return h.hexdigest()


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _to_multi(geoms: np.ndarray, geometry_type: str) -> np.ndarray:
    if geometry_type != "MULTIPOLYGON":
        return geoms
    # GeoPackage layers declare one geometry type; polygons become
    # single-part multipolygons so a layer can hold both.
    out = np.asarray(geoms, dtype=object).copy()
    single = np.flatnonzero(shapely.get_type_id(out) == 3)
    if len(single):
        out[single] = shapely.multipolygons(out[single], indices=np.arange(len(single)))
    return out


def content_hashes(frame: pd.DataFrame, spec: LayerSpec) -> np.ndarray:
    """A hash per row of the columns that carry meaning, and the geometry.

    Provenance columns (source file, raw text, transformation) are left out,
    so the same record received again from another file is not "changed".
    """
    skip = {"source_file", "raw", "transformation", "area_ha"}
    cols = [c for c in spec.columns if c not in skip]
    attrs = pd.util.hash_pandas_object(frame[cols], index=False).to_numpy()
    if spec.geometry_type:
        geo = shapely.to_wkb(
            shapely.normalize(np.asarray(frame.geometry.values, dtype=object)), flavor="iso"
        )
    else:
        geo = [b""] * len(frame)
    return np.array(
        [f"{a:016x}{hashlib.sha1(g or b'').hexdigest()[:24]}" for a, g in zip(attrs, geo)],
        dtype=object,
    )


def _coerce(frame: pd.DataFrame, spec: LayerSpec) -> pd.DataFrame:
    """Frame with exactly the spec's columns, typed for SQLite."""
    out = pd.DataFrame(index=frame.index)
    for col, typ in spec.columns.items():
        s = frame[col] if col in frame else pd.Series([None] * len(frame), index=frame.index)
        if typ == "str":
            s = s.astype(object).where(s.notna(), "").map(str)
        elif typ == "int":
            s = pd.to_numeric(s, errors="coerce").fillna(0).round().astype("int64")
        elif typ == "float":
            s = pd.to_numeric(s, errors="coerce").astype("float64")
        elif typ == "bool":
            s = s.map(lambda v: bool(v) if v is not None and v == v else False)
        out[col] = s
    return out


@dataclass
class ImportPlan:
    """What one import writes: rows per layer and the revision's metadata."""

    kind: str
    frames: dict[str, pd.DataFrame]
    sources: list[str]
    sha256: list[str]
    options: dict[str, Any] = field(default_factory=dict)
    handover: str = ""
    handover_date: str = ""
    source_crs: list[str] = field(default_factory=list)
    transformation: list[str] = field(default_factory=list)
    replace: bool = False  # replace the whole set (scoped by handover for records)
    allow_removals: bool = False


@dataclass
class ImportResult:
    """Outcome of an import."""

    revision: int | None  # None: no-op
    read: int = 0  # rows the sources held
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    noop_reason: str = ""

    @property
    def noop(self) -> bool:
        return self.revision is None


# --------------------------------------------------------------------------


class Store:
    """A minemap store in one GeoPackage file.

    Parameters
    ----------
    path
        The GeoPackage.  Created on first write if it does not exist.

    Examples
    --------
    >>> import tempfile, os
    >>> s = Store(os.path.join(tempfile.mkdtemp(), "m.gpkg"))
    >>> s.latest_revision()
    0
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    # -- connections ---------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if not self.path.parent.exists():
            raise UsageError(f"{self.path}: the store's folder does not exist")
        conn = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT_S, isolation_level=None)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise UsageError(f"{self.path}: not a minemap store (GeoPackage): {exc}") from None
        return conn

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection | None]:
        if not self.path.exists():
            yield None
            return
        conn = self._connect()
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An exclusive write transaction: all of it lands, or none of it."""
        conn = self._connect()
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    self._ensure_schema(conn)
                    yield conn
                except BaseException:
                    # SQLite may already have rolled back (a full disk does).
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                else:
                    conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                # A full disk, a read-only file, a lock held too long: the
                # store is as it was; say which store and why.
                raise StoreError(f"{self.path}: could not write the store: {exc}; it is"
                                 " unchanged") from None
        finally:
            conn.close()

    # -- schema --------------------------------------------------------------

    def _ensure_schema(self, conn: sqlite3.Connection) -> None:
        if conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name='revisions'"
        ).fetchone():
            return
        if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").fetchone():
            # Someone else's GeoPackage (a source file, say): never write in it.
            raise UsageError(f"{self.path}: is a database but not a minemap store; give"
                             " --store a new file or an existing minemap store")
        conn.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {_USER_VERSION}")
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
        self._register(conn, "revisions", None, "import history: one row per revision")
        conn.execute(
            "CREATE TABLE handovers (handover TEXT PRIMARY KEY, handover_date TEXT,"
            " revision INTEGER)"
        )
        self._register(conn, "handovers", None, "handovers and their dates")
        for spec in LAYERS.values():
            self._create_layer(conn, spec)
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
        self._register(conn, "crossref_current", None, "materialised crossref, latest revision")
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
        self._register(conn, "crossref", "MULTIPOLYGON",
                       "current minefields with their status, released and remaining")
        self._create_styles(conn)

    def _create_styles(self, conn: sqlite3.Connection) -> None:
        # QGIS reads default styles from layer_styles, so the store's layers
        # open coloured by status, outcome and item type with no set-up.
        conn.execute(
            "CREATE TABLE layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256),"
            " f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,"
            " useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),"
            " update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"
        )
        self._register(conn, "layer_styles", None, "QGIS default styles")
        styles = {
            "crossref": "status.qml", "minefields": "minefields.qml",
            "releases": "clearance.qml", "items": "items.qml", "incidents": "incidents.qml",
            "districts": "districts.qml", "mine_rows": "mine_rows.qml",
        }
        conn.executemany(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name,"
            " f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description,"
            " owner, ui) VALUES ('', '', ?, 'geom', ?, ?, '', 1, ?, '', '')",
            [(layer, layer, _qml(qml), f"minemap default style ({qml})")
             for layer, qml in styles.items()],
        )

    def _register(self, conn, table: str, geometry_type: str | None, description: str) -> None:
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

    def _create_layer(self, conn: sqlite3.Connection, spec: LayerSpec) -> None:
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
        self._register(
            conn, table, spec.geometry_type, f"every version of {spec.name}, with rev_from/rev_to"
        )
        names = ", ".join(f'"{c}"' for c in spec.columns)
        geom_col = "geom, " if spec.geometry_type else ""
        conn.execute(
            f"CREATE VIEW {spec.name} AS SELECT fid, {geom_col}{names}, rev_from AS revision"
            f" FROM {table} WHERE rev_to IS NULL"
        )
        self._register(conn, spec.name, spec.geometry_type, f"current {spec.name}")

    # -- reading ---------------------------------------------------------------

    def exists(self) -> bool:
        """Whether the store file exists."""
        return self.path.exists()

    def latest_revision(self) -> int:
        """The number of the latest revision (0 for an empty store)."""
        with self._read() as conn:
            if conn is None or not _has_table(conn, "revisions"):
                return 0
            (n,) = conn.execute("SELECT COALESCE(MAX(revision), 0) FROM revisions").fetchone()
            return int(n)

    def _check_revision(self, revision: int | None) -> int:
        latest = self.latest_revision()
        if revision is None:
            return latest
        if revision < 1 or revision > latest:
            raise UsageError(
                f"{self.path}: no revision {revision} (the store has revisions 1 to {latest})"
                if latest
                else f"{self.path}: the store has no revisions yet"
            )
        return revision

    def read(
        self,
        layer: str,
        *,
        revision: int | None = None,
        where: str = "",
        params: tuple = (),
    ) -> gpd.GeoDataFrame | pd.DataFrame:
        """Rows of a layer as of a revision (the latest by default).

        Parameters
        ----------
        layer
            One of :data:`LAYERS`.
        revision
            Store-wide revision number; ``None`` for the latest.
        where, params
            An extra parameterised SQL condition on the layer's columns.

        Returns
        -------
        GeoDataFrame or DataFrame
            The layer's columns plus ``revision`` (the revision that added
            each row) and, for spatial layers, ``geometry`` in EPSG:4326.
        """
        rev = self._check_revision(revision)
        with self._read() as conn:
            return read_layer(conn, layer, rev, where=where, params=params)

    def revisions(self, *, handover: str | None = None) -> list[dict[str, Any]]:
        """The revision history, oldest first, as plain dicts."""
        with self._read() as conn:
            if conn is None or not _has_table(conn, "revisions"):
                return []
            sql = f"SELECT {', '.join(REVISION_COLUMNS)} FROM revisions"
            params: tuple = ()
            if handover is not None:
                sql += " WHERE handover = ?"
                params = (handover,)
            rows = conn.execute(sql + " ORDER BY revision", params).fetchall()
        out = []
        for row in rows:
            d = dict(zip(REVISION_COLUMNS, row))
            for c in _JSON_REVISION_COLUMNS:
                d[c] = json.loads(d[c]) if d[c] else ([] if c != "options" else {})
            for c in ("source_crs", "transformation"):
                d[c] = json.loads(d[c]) if d[c] else []
            out.append(d)
        return out

    def handovers(self) -> pd.DataFrame:
        """Handovers with their dates (``handover``, ``handover_date``)."""
        with self._read() as conn:
            if conn is None or not _has_table(conn, "handovers"):
                return pd.DataFrame(columns=["handover", "handover_date"])
            rows = conn.execute(
                "SELECT handover, handover_date FROM handovers ORDER BY handover_date, handover"
            ).fetchall()
        return pd.DataFrame(rows, columns=["handover", "handover_date"])

    def counts(self, *, revision: int | None = None) -> dict[str, int]:
        """Number of current rows per layer."""
        rev = self._check_revision(revision) if self.exists() else 0
        out = {}
        with self._read() as conn:
            for name in LAYERS:
                if conn is None or not _has_table(conn, f"{name}_versions"):
                    out[name] = 0
                    continue
                (n,) = conn.execute(
                    f"SELECT COUNT(*) FROM {name}_versions WHERE rev_from <= ?"
                    " AND (rev_to IS NULL OR rev_to > ?)",
                    (rev, rev),
                ).fetchone()
                out[name] = int(n)
        return out

    def read_crossref(self) -> tuple[pd.DataFrame, int]:
        """The materialised crossref table and the revision it describes."""
        with self._read() as conn:
            if conn is None or not _has_table(conn, "crossref_current"):
                return pd.DataFrame(columns=list(schema.CROSSREF_COLUMNS)), 0
            cols = ", ".join(schema.CROSSREF_COLUMNS)
            rows = conn.execute(f"SELECT {cols} FROM crossref_current ORDER BY fid").fetchall()
            state = conn.execute("SELECT revision FROM crossref_state").fetchone()
        frame = pd.DataFrame(rows, columns=list(schema.CROSSREF_COLUMNS))
        for c in _CROSSREF_REAL:
            frame[c] = pd.to_numeric(frame[c]).astype("float64")
        for c in ("mines_total",):
            frame[c] = frame[c].astype("int64")
        for c in set(schema.CROSSREF_COLUMNS) - _CROSSREF_REAL - {"mines_total"}:
            frame[c] = frame[c].astype(object).where(frame[c].notna(), "")
        return frame, int(state[0]) if state else 0

    # -- writing ---------------------------------------------------------------

    def apply(self, plan: ImportPlan, *, refresh=None) -> ImportResult:
        """Write an import as one new revision, atomically.

        Parameters
        ----------
        plan
            The validated rows and metadata.
        refresh
            Optional callable ``(store, conn, revision, touched)`` run inside
            the same transaction to refresh derived tables (the crossref).
            ``touched`` maps layer names to lists of geometries added or
            removed.

        Returns
        -------
        ImportResult
            The new revision and the ids added, changed and removed; or a
            no-op when the import is identical to the latest of its kind.

        Raises
        ------
        DataError
            When the import would remove more than half of a handover's
            records without ``allow_removals``.
        """
        try:
            return self._apply(plan, refresh)
        except _NothingChanged as done:
            return done.result

    def _apply(self, plan: ImportPlan, refresh) -> ImportResult:
        with self.transaction() as conn:
            layers = KINDS[plan.kind][:1] if plan.kind == "records" else KINDS[plan.kind]
            n_read = sum(len(plan.frames[name]) for name in layers if name in plan.frames)
            reason = self._identical_to_latest(conn, plan)
            if reason:
                return ImportResult(revision=None, read=n_read, noop_reason=reason)
            (last,) = conn.execute("SELECT COALESCE(MAX(revision), 0) FROM revisions").fetchone()
            revision = int(last) + 1
            main_layer = KINDS[plan.kind][0]
            added: list[str] = []
            changed: list[str] = []
            removed: list[str] = []
            touched: dict[str, Any] = {"inserted": {}}
            for layer in KINDS[plan.kind]:
                frame = plan.frames.get(layer)
                if frame is None:
                    continue
                a, c, r, geoms, inserted = self._write_layer(conn, layer, frame, plan, revision)
                touched[layer] = geoms
                touched["inserted"][layer] = inserted
                if layer == main_layer:
                    added, changed, removed = a, c, r
                elif plan.kind == "clearance":
                    added += a
                    changed += c
                    removed += r
            if plan.kind != "records" and not (added or changed or removed):
                # Rows keyed by id that are all already there, as they are:
                # re-importing a report (or a clearance batch) changes nothing
                # and uses no revision.  (Rolled back by the exception.)
                raise _NothingChanged(ImportResult(
                    revision=None, read=n_read,
                    noop_reason=f"every {plan.kind} row is already in the store, unchanged;"
                    " nothing to do"))
            if plan.kind == "records":
                n_before = self._count_before(conn, plan.handover, revision)
                if (
                    plan.replace
                    and not plan.allow_removals
                    and n_before
                    and len(removed) * 2 > n_before
                ):
                    raise DataError(
                        f"{', '.join(plan.sources)}: this import would remove {len(removed)} of "
                        f"the {n_before} records of handover {plan.handover} (more than half); "
                        "check the file, or pass --allow-removals"
                    )
                conn.execute(
                    "INSERT INTO handovers VALUES (?, ?, ?) ON CONFLICT(handover) DO UPDATE SET"
                    " handover_date = COALESCE(NULLIF(excluded.handover_date, ''),"
                    " handovers.handover_date), revision = excluded.revision",
                    (plan.handover, plan.handover_date, revision),
                )
            conn.execute(
                f"INSERT INTO revisions ({', '.join(REVISION_COLUMNS)}) VALUES"
                f" ({', '.join('?' * len(REVISION_COLUMNS))})",
                (
                    revision,
                    plan.kind,
                    plan.handover,
                    plan.handover_date,
                    json.dumps(plan.sources),
                    json.dumps(plan.sha256),
                    json.dumps(plan.options, sort_keys=True),
                    _now(),
                    json.dumps(plan.source_crs),
                    json.dumps(plan.transformation),
                    json.dumps(added),
                    json.dumps(changed),
                    json.dumps(removed),
                    "",
                ),
            )
            if refresh is not None:
                refresh(self, conn, revision, touched)
            return ImportResult(revision=revision, read=n_read, added=added, changed=changed,
                                removed=removed)

    def _count_before(self, conn, handover: str, revision: int) -> int:
        (n,) = conn.execute(
            "SELECT COUNT(*) FROM minefields_versions WHERE handover = ? AND rev_from < ?"
            " AND (rev_to IS NULL OR rev_to = ?)",
            (handover, revision, revision),
        ).fetchone()
        return int(n)

    def _identical_to_latest(self, conn, plan: ImportPlan) -> str:
        sql = "SELECT sha256, options FROM revisions WHERE kind = ?"
        params: tuple = (plan.kind,)
        if plan.kind == "records":
            sql += " AND handover = ?"
            params += (plan.handover,)
        row = conn.execute(sql + " ORDER BY revision DESC LIMIT 1", params).fetchone()
        if row is None:
            return ""
        same = json.loads(row[0]) == plan.sha256 and json.loads(row[1]) == json.loads(
            json.dumps(plan.options, sort_keys=True)
        )
        if not same:
            return ""
        what = f"handover {plan.handover}" if plan.kind == "records" else f"{plan.kind}"
        return f"identical to the latest {what} import; nothing to do"

    def _write_layer(self, conn, layer, frame, plan, revision):
        spec = LAYERS[layer]
        frame = frame.reset_index(drop=True)
        values = _coerce(frame, spec)
        hashes = content_hashes(
            pd.concat([values, frame[["geometry"]]], axis=1) if spec.geometry_type else values,
            spec,
        )
        keys = [tuple(row) for row in values[list(spec.key)].itertuples(index=False)]
        # Current rows in scope: the handover for records; the ids present
        # for upserted kinds; everything for replaced kinds.
        keycols = ", ".join(f'"{k}"' for k in spec.key)
        geom_sel = ", geom" if spec.geometry_type else ""
        if plan.kind == "records":
            cur = conn.execute(
                f"SELECT fid, {keycols}, content_hash{geom_sel} FROM {layer}_versions"
                " WHERE rev_to IS NULL AND handover = ?",
                (plan.handover,),
            ).fetchall()
        else:
            cur = conn.execute(
                f"SELECT fid, {keycols}, content_hash{geom_sel} FROM {layer}_versions"
                " WHERE rev_to IS NULL"
            ).fetchall()
        nk = len(spec.key)
        current = {tuple(r[1 : 1 + nk]): (r[0], r[1 + nk], r[2 + nk] if geom_sel else None)
                   for r in cur}
        new_keys = set(keys)
        close: list[int] = []
        insert: list[int] = []
        added, changed, removed = [], [], []
        touched_blobs: list = []
        label = (lambda k: k[-1]) if layer == "minefields" else (lambda k: "/".join(map(str, k)))
        for i, k in enumerate(keys):
            old = current.get(k)
            if old is None:
                insert.append(i)
                added.append(label(k))
            elif old[1] != hashes[i]:
                close.append(old[0])
                insert.append(i)
                changed.append(label(k))
                touched_blobs.append(old[2])
        replace_scope = plan.replace or layer in ("vertices", "mine_rows")
        if replace_scope:
            for k, old in current.items():
                if k not in new_keys:
                    if layer in ("vertices", "mine_rows") and not plan.replace:
                        # --add: only records present in this import change.
                        if (k[0], k[1]) not in {(kk[0], kk[1]) for kk in keys}:
                            continue
                    close.append(old[0])
                    removed.append(label(k))
                    touched_blobs.append(old[2])
        if close:
            conn.executemany(
                f"UPDATE {layer}_versions SET rev_to = ? WHERE fid = ?",
                [(revision, fid) for fid in close],
            )
        if insert:
            idx = np.array(insert)
            sub = values.iloc[idx]
            cols = list(spec.columns)
            rows = sub.to_numpy(dtype=object).tolist()
            if spec.geometry_type:
                geoms = _to_multi(np.asarray(frame.geometry.values, dtype=object)[idx],
                                  spec.geometry_type)
                blobs = _encode(geoms)
                rows = [[b, *r] for b, r in zip(blobs, rows)]
                cols = ["geom", *cols]
            names = ", ".join(f'"{c}"' for c in cols)
            qs = ", ".join("?" * (len(cols) + 4))
            (base,) = conn.execute(f"SELECT COALESCE(MAX(fid), 0) FROM {layer}_versions").fetchone()
            fids = range(int(base) + 1, int(base) + 1 + len(rows))
            conn.executemany(
                f"INSERT INTO {layer}_versions (fid, {names}, content_hash, rev_from, rev_to)"
                f" VALUES ({qs})",
                [[f, *r, h, revision, None] for f, r, h in zip(fids, rows, hashes[idx])],
            )
            if spec.geometry_type:
                b = shapely.bounds(geoms)
                ok = np.isfinite(b).all(axis=1)
                conn.executemany(
                    f"INSERT INTO {layer}_versions_bbox VALUES (?, ?, ?, ?, ?)",
                    [(f, x0, x1, y0, y1) for f, (x0, y0, x1, y1), k
                     in zip(fids, b.tolist(), ok) if k],
                )
        geoms_touched: list = []
        # The rows written, as a frame, so the crossref refresh need not read
        # them back.
        inserted = gpd.GeoDataFrame(
            values.iloc[insert].assign(revision=revision).reset_index(drop=True),
            geometry=list(np.asarray(frame.geometry.values, dtype=object)[insert]),
            crs="EPSG:4326",
        ) if spec.geometry_type else None
        if spec.geometry_type:
            old = _decode([b for b in touched_blobs if b is not None]) if touched_blobs else []
            new = np.asarray(frame.geometry.values, dtype=object)[insert] if insert else []
            geoms_touched = [*list(old), *list(new)]
            self._update_extent(conn, layer)
        return added, changed, removed, geoms_touched, inserted

    def _update_extent(self, conn, layer: str) -> None:
        # The envelope sits in the blob header: bytes 9-40 are minx, maxx,
        # miny, maxy; SQLite reads them without decoding the geometry.
        row = conn.execute(
            f"SELECT MIN(geom) IS NOT NULL FROM {layer}_versions"
        ).fetchone()
        if not row or not row[0]:
            return
        blobs = conn.execute(
            f"SELECT substr(geom, 9, 32) FROM {layer}_versions WHERE geom IS NOT NULL"
            " AND rev_to IS NULL"
        ).fetchall()
        if not blobs:
            return
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

    def write_crossref(
        self, conn, table: pd.DataFrame, revision: int, *, full: bool = False,
        replace: list[tuple[str, str]] | None = None,
    ) -> None:
        """Write rows of the materialised crossref.

        Parameters
        ----------
        full
            Replace the whole table.
        replace
            Keys ``(handover, record_id)`` whose old rows are deleted first;
            by default every key in ``table``.
        """
        cols = list(schema.CROSSREF_COLUMNS)
        if full:
            conn.execute("DELETE FROM crossref_current")
        elif len(table) or replace:
            keys = replace if replace is not None else list(
                table[["handover", "record_id"]].itertuples(index=False, name=None))
            conn.executemany(
                "DELETE FROM crossref_current WHERE handover = ? AND record_id = ?", keys
            )
        if len(table):
            data = table[cols].astype(object).where(table[cols].notna(), None)
            data["revision"] = revision
            conn.executemany(
                f"INSERT INTO crossref_current ({', '.join(cols)}, revision)"
                f" VALUES ({', '.join('?' * (len(cols) + 1))})",
                data.itertuples(index=False, name=None),
            )
        conn.execute(
            "INSERT INTO crossref_state (id, revision) VALUES (1, ?)"
            " ON CONFLICT(id) DO UPDATE SET revision = excluded.revision",
            (revision,),
        )


class StoreError(MinemapError):
    """The store could not be written (disk full, read-only, locked)."""

    exit_code = 1


class _NothingChanged(Exception):  # noqa: N818 - a signal, not an error
    """Rolls back an import that would change no row."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__(result.noop_reason)
        self.result = result


_CROSSREF_REAL = {
    "area_ha", "released_ha", "released_pct", "cleared_ha", "cleared_pct",
    "found_mines", "remaining_est",
}


def bbox_fids(conn: sqlite3.Connection, layer: str, boxes: np.ndarray) -> np.ndarray:
    """fids of rows of ``layer`` (any version) whose boxes meet any of ``boxes``.

    ``boxes`` is an (n, 4) array of (minx, miny, maxx, maxy).
    """
    out: set[int] = set()
    sql = (
        f"SELECT id FROM {layer}_versions_bbox WHERE maxx >= ? AND minx <= ?"
        " AND maxy >= ? AND miny <= ?"
    )
    for x0, y0, x1, y1 in np.asarray(boxes, dtype=float).tolist():
        out.update(r[0] for r in conn.execute(sql, (x0, x1, y0, y1)))
    return np.array(sorted(out), dtype=np.int64)


def read_layer(
    conn: sqlite3.Connection | None, layer: str, revision: int, *, where: str = "",
    params: tuple = (), fids: np.ndarray | None = None,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Rows of ``layer`` valid at ``revision``, read through ``conn``.

    Used inside an import's transaction, where another connection would not
    see the rows being written.  ``fids`` limits the read to those rows.
    """
    if fids is not None:
        parts = [
            read_layer(conn, layer, revision, where=" AND ".join(
                filter(None, [where, f"fid IN ({','.join(map(str, chunk))})"])), params=params)
            for chunk in np.array_split(np.asarray(fids), max(1, len(fids) // 5000 + 1))
            if len(chunk)
        ]
        if parts:
            frame = pd.concat(parts, ignore_index=True)
            return gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326") if LAYERS[
                layer].geometry_type else frame
        return read_layer(conn, layer, revision, where="0")
    spec = LAYERS[layer]
    cols = list(spec.columns)
    names = ", ".join(f'"{c}"' for c in cols)
    geom = "geom, " if spec.geometry_type else ""
    sql = (
        f"SELECT {geom}{names}, rev_from FROM {layer}_versions"
        " WHERE rev_from <= ? AND (rev_to IS NULL OR rev_to > ?)"
    )
    if where:
        sql += f" AND ({where})"
    sql += " ORDER BY fid"
    rows: list[tuple] = []
    if conn is not None and _has_table(conn, f"{layer}_versions"):
        rows = conn.execute(sql, (revision, revision, *params)).fetchall()
    offset = 1 if spec.geometry_type else 0
    frame = pd.DataFrame([r[offset:] for r in rows], columns=[*cols, "revision"])
    for col, typ in spec.columns.items():
        if typ == "int":
            frame[col] = pd.to_numeric(frame[col]).fillna(0).astype("int64")
        elif typ == "float":
            frame[col] = pd.to_numeric(frame[col]).astype("float64")
        elif typ == "bool":
            frame[col] = frame[col].astype(bool)
        else:
            frame[col] = frame[col].astype(object)
    frame["revision"] = pd.to_numeric(frame["revision"]).astype("int64")
    if not spec.geometry_type:
        return frame
    geoms = _decode([r[0] for r in rows]) if rows else np.array([], dtype=object)
    return gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4326")


def _qml(name: str) -> str:
    from importlib import resources

    return (resources.files("minemap") / "styles" / name).read_text(encoding="utf-8")


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = ? AND type IN ('table', 'view')", (name,)
        ).fetchone()
        is not None
    )


def default_store_path(path: str | os.PathLike | None = None) -> Path:
    """``path``, else ``$MINEMAP_STORE``, else ``minemap.gpkg`` in the current folder."""
    return Path(path or os.environ.get("MINEMAP_STORE") or DEFAULT_STORE)
