"""The GeoPackage store backend: one file with revisioned layers (DESIGN §4, §10).

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

This module (with :mod:`minemap.store.gpkg_schema`) is the only one that
speaks SQL to a GeoPackage.
"""

from __future__ import annotations

import os
import sqlite3
import struct
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minemap._errors import UsageError
from minemap.records import schema
from minemap.store import gpkg_schema
from minemap.store.base import BBox, StoreBackend, StoreError, StoreView, StoreWriter, iter_chunks
from minemap.store.revisions import (
    LAYERS,
    REVISION_COLUMNS,
    CrossrefUpdate,
    ImportPlan,
    ImportResult,
    crossref_frame,
    layer_frame,
    revision_record,
    sha256_file,
)

DEFAULT_STORE = "minemap.gpkg"

#: Seconds an import waits for another import to finish.
LOCK_TIMEOUT_S = 600.0

# Bound parameters per statement, well under SQLite's limit.
_CHUNK = 900
# Above this many boxes, reading a whole layer beats one index query per box.
_MAX_BOX_QUERIES = 5000

__all__ = ["DEFAULT_STORE", "GeoPackageStore", "ImportPlan", "ImportResult", "StoreError",
           "default_store_path", "sha256_file"]


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
# reading


def _boxes(bbox: BBox) -> np.ndarray:
    boxes = np.asarray(bbox, dtype=float)
    return boxes.reshape(1, 4) if boxes.ndim == 1 else boxes.reshape(-1, 4)


class _View(StoreView):
    """Reads through one connection (or none: no store file yet).

    ``pinned`` fixes the revision the view calls latest, so that reads on
    separate statements agree (rows valid at a revision never change).
    """

    def __init__(self, conn: sqlite3.Connection | None, location: str,
                 pinned: int | None = None) -> None:
        self.conn = conn
        self.location = location
        self.pinned = pinned

    def _has(self, name: str) -> bool:
        return self.conn is not None and gpkg_schema.has_table(self.conn, name)

    def _max_revision(self) -> int:
        if not self._has("revisions"):
            return 0
        (n,) = self.conn.execute("SELECT COALESCE(MAX(revision), 0) FROM revisions").fetchone()
        return int(n)

    def latest_revision(self) -> int:
        return self.pinned if self.pinned is not None else self._max_revision()

    def read_layer(
        self,
        layer: str,
        revision: int,
        *,
        bbox: BBox | None = None,
        ids: Collection[Any] | None = None,
        where: Mapping[str, Collection[Any]] | None = None,
    ) -> gpd.GeoDataFrame | pd.DataFrame:
        spec = LAYERS[layer]
        conds: list[tuple[str, list]] = [(c, list(v)) for c, v in (where or {}).items()]
        if ids is not None:
            conds.append((spec.id_column, list(ids)))
        for col, _ in conds:
            if col not in spec.columns:
                raise ValueError(f"{layer} has no column {col!r}")
        boxes = None
        if bbox is not None:
            if not spec.geometry_type:
                raise ValueError(f"{layer} has no geometry to filter by bbox")
            boxes = _boxes(bbox)
            if len(boxes) <= _MAX_BOX_QUERIES:
                conds.append(("fid", self._bbox_fids(layer, boxes).tolist()))
        frame = self._select(layer, revision, conds)
        if boxes is not None and len(boxes) > _MAX_BOX_QUERIES and len(frame):
            tree = shapely.STRtree(shapely.box(*boxes.T))
            hit = np.unique(tree.query(shapely.envelope(frame.geometry.values),
                                       predicate="intersects")[0])
            frame = frame.iloc[hit].reset_index(drop=True)
        return frame

    def _bbox_fids(self, layer: str, boxes: np.ndarray) -> np.ndarray:
        if not self._has(f"{layer}_versions_bbox"):
            return np.array([], dtype=np.int64)
        out: set[int] = set()
        sql = (
            f"SELECT id FROM {layer}_versions_bbox WHERE maxx >= ? AND minx <= ?"
            " AND maxy >= ? AND miny <= ?"
        )
        for x0, y0, x1, y1 in boxes.tolist():
            out.update(r[0] for r in self.conn.execute(sql, (x0, x1, y0, y1)))
        return np.array(sorted(out), dtype=np.int64)

    def _select(self, layer: str, revision: int, conds: list[tuple[str, list]]):
        spec = LAYERS[layer]
        if not self._has(f"{layer}_versions") or any(not v for _, v in conds):
            return layer_frame(layer, [], None)
        names = ", ".join(f'"{c}"' for c in spec.columns)
        geom = ", geom" if spec.geometry_type else ""
        base = (
            f"SELECT fid{geom}, {names}, rev_from FROM {layer}_versions"
            " WHERE rev_from <= ? AND (rev_to IS NULL OR rev_to > ?)"
        )
        # The longest list is split into chunks; the others go whole.
        conds = sorted(conds, key=lambda cv: len(cv[1]))
        fixed, chunked = conds[:-1], conds[-1] if conds else None
        sql = base + "".join(
            f' AND "{c}" IN ({",".join("?" * len(v))})' for c, v in fixed)
        params = [revision, revision, *(x for _, v in fixed for x in v)]
        rows: list[tuple] = []
        if chunked is None:
            # In fid order, the order rows were written (the interface's promise):
            # an OR of indexes would otherwise list older versions last.
            rows = self.conn.execute(sql + " ORDER BY fid", params).fetchall()
        else:
            col, values = chunked
            for chunk in iter_chunks(values, _CHUNK):
                rows += self.conn.execute(
                    sql + f' AND "{col}" IN ({",".join("?" * len(chunk))})',
                    [*params, *chunk]).fetchall()
            rows.sort(key=lambda r: r[0])
        skip = 2 if spec.geometry_type else 1
        geoms = _decode([r[1] for r in rows]) if spec.geometry_type and rows else None
        return layer_frame(layer, [r[skip:] for r in rows], geoms)

    def changes(self, layer: str, revision: int) -> pd.DataFrame:
        spec = LAYERS[layer]
        cols = [*spec.columns, "change"]
        if not self._has(f"{layer}_versions"):
            return pd.DataFrame(columns=cols)
        names = ", ".join(f'"{c}"' for c in spec.columns)
        rows = self.conn.execute(
            f"SELECT {names}, 'opened' FROM {layer}_versions WHERE rev_from = ?"
            f" UNION ALL SELECT {names}, 'closed' FROM {layer}_versions WHERE rev_to = ?",
            (revision, revision),
        ).fetchall()
        return pd.DataFrame(rows, columns=cols)

    def versions(self, layer: str) -> tuple[gpd.GeoDataFrame | pd.DataFrame, pd.DataFrame]:
        spec = LAYERS[layer]
        book_cols = ["content_hash", "rev_from", "rev_to"]
        if not self._has(f"{layer}_versions"):
            return layer_frame(layer, [], None), pd.DataFrame(columns=book_cols)
        names = ", ".join(f'"{c}"' for c in spec.columns)
        geom = "geom, " if spec.geometry_type else ""
        rows = self.conn.execute(
            f"SELECT {geom}{names}, rev_from, content_hash, COALESCE(rev_to, 0)"
            f" FROM {layer}_versions ORDER BY fid").fetchall()
        skip = 1 if spec.geometry_type else 0
        geoms = _decode([r[0] for r in rows]) if spec.geometry_type and rows else None
        book = pd.DataFrame([(r[-2], r[-3], r[-1]) for r in rows], columns=book_cols)
        return layer_frame(layer, [r[skip:-2] for r in rows], geoms), book

    def revisions(self) -> list[dict[str, Any]]:
        if not self._has("revisions"):
            return []
        rows = self.conn.execute(
            f"SELECT {', '.join(REVISION_COLUMNS)} FROM revisions WHERE revision <= ?"
            " ORDER BY revision", (self.latest_revision(),)
        ).fetchall()
        return [revision_record(dict(zip(REVISION_COLUMNS, row))) for row in rows]

    def handovers(self) -> pd.DataFrame:
        if not self._has("handovers"):
            return pd.DataFrame(columns=["handover", "handover_date"])
        rows = self.conn.execute(
            "SELECT handover, handover_date FROM handovers ORDER BY handover_date, handover"
        ).fetchall()
        return pd.DataFrame(rows, columns=["handover", "handover_date"])

    def count_rows(self, revision: int) -> dict[str, int]:
        out = {}
        for name in LAYERS:
            if not self._has(f"{name}_versions"):
                out[name] = 0
                continue
            (n,) = self.conn.execute(
                f"SELECT COUNT(*) FROM {name}_versions WHERE rev_from <= ?"
                " AND (rev_to IS NULL OR rev_to > ?)",
                (revision, revision),
            ).fetchone()
            out[name] = int(n)
        return out

    def read_crossref(self) -> tuple[pd.DataFrame, int]:
        if not self._has("crossref_current"):
            return crossref_frame([]), 0
        cols = ", ".join(schema.CROSSREF_COLUMNS)
        # One read transaction: the rows and the revision they describe agree.
        own = not self.conn.in_transaction
        if own:
            self.conn.execute("BEGIN")
        try:
            rows = self.conn.execute(
                f"SELECT {cols} FROM crossref_current ORDER BY fid").fetchall()
            state = self.conn.execute("SELECT revision FROM crossref_state").fetchone()
        finally:
            if own:
                self.conn.execute("COMMIT")
        return crossref_frame(rows), int(state[0]) if state else 0


# --------------------------------------------------------------------------
# writing


class _Writer(_View, StoreWriter):
    """The primitives of an import, inside its ``BEGIN IMMEDIATE`` transaction."""

    def __init__(self, conn: sqlite3.Connection, location: str) -> None:
        super().__init__(conn, location)
        self._dirty: set[str] = set()

    def current_hashes(self, layer: str, *, handover: str | None = None) -> pd.DataFrame:
        spec = LAYERS[layer]
        keycols = ", ".join(f'"{k}"' for k in spec.key)
        sql = f"SELECT fid, {keycols}, content_hash FROM {layer}_versions WHERE rev_to IS NULL"
        params: tuple = ()
        if handover is not None:
            sql += " AND handover = ?"
            params = (handover,)
        rows = self.conn.execute(sql, params).fetchall()
        return pd.DataFrame(rows, columns=["row_id", *spec.key, "content_hash"])

    def geometries(self, layer: str, row_ids: Sequence[Any]) -> np.ndarray:
        found: dict[int, bytes | None] = {}
        for chunk in iter_chunks(list(row_ids), _CHUNK):
            found.update(self.conn.execute(
                f"SELECT fid, geom FROM {layer}_versions WHERE fid IN"
                f" ({','.join('?' * len(chunk))})", chunk))
        return _decode([found[i] for i in row_ids])

    def close_rows(self, layer: str, row_ids: Sequence[Any], revision: int) -> None:
        self.conn.executemany(
            f"UPDATE {layer}_versions SET rev_to = ? WHERE fid = ? AND rev_to IS NULL",
            [(revision, int(fid)) for fid in row_ids],
        )
        if LAYERS[layer].geometry_type:
            self._dirty.add(layer)

    def insert_rows(self, layer: str, values: pd.DataFrame, geometries: np.ndarray | None,
                    hashes: np.ndarray, revision: int) -> None:
        spec = LAYERS[layer]
        cols = list(spec.columns)
        rows = values[cols].to_numpy(dtype=object).tolist()
        if spec.geometry_type:
            rows = [[b, *r] for b, r in zip(_encode(geometries), rows)]
            cols = ["geom", *cols]
        names = ", ".join(f'"{c}"' for c in cols)
        qs = ", ".join("?" * (len(cols) + 4))
        (base,) = self.conn.execute(
            f"SELECT COALESCE(MAX(fid), 0) FROM {layer}_versions").fetchone()
        fids = range(int(base) + 1, int(base) + 1 + len(rows))
        self.conn.executemany(
            f"INSERT INTO {layer}_versions (fid, {names}, content_hash, rev_from, rev_to)"
            f" VALUES ({qs})",
            [[f, *r, h, revision, None] for f, r, h in zip(fids, rows, hashes)],
        )
        if spec.geometry_type:
            b = shapely.bounds(geometries)
            ok = np.isfinite(b).all(axis=1)
            self.conn.executemany(
                f"INSERT INTO {layer}_versions_bbox VALUES (?, ?, ?, ?, ?)",
                [(f, x0, x1, y0, y1) for f, (x0, y0, x1, y1), k
                 in zip(fids, b.tolist(), ok) if k],
            )
            self._dirty.add(layer)

    def add_revision(self, record: Mapping[str, Any]) -> None:
        self.conn.execute(
            f"INSERT INTO revisions ({', '.join(REVISION_COLUMNS)}) VALUES"
            f" ({', '.join('?' * len(REVISION_COLUMNS))})",
            [record[c] for c in REVISION_COLUMNS],
        )

    def set_handover(self, handover: str, handover_date: str, revision: int) -> None:
        self.conn.execute(
            "INSERT INTO handovers VALUES (?, ?, ?) ON CONFLICT(handover) DO UPDATE SET"
            " handover_date = COALESCE(NULLIF(excluded.handover_date, ''),"
            " handovers.handover_date), revision = excluded.revision",
            (handover, handover_date, revision),
        )

    def write_crossref(self, update: CrossrefUpdate, revision: int) -> None:
        cols = list(schema.CROSSREF_COLUMNS)
        table = update.table
        if update.full:
            self.conn.execute("DELETE FROM crossref_current")
        else:
            self.conn.executemany(
                "DELETE FROM crossref_current WHERE handover = ? AND record_id = ?",
                update.keys_to_delete(),
            )
        if len(table):
            data = table[cols].astype(object).where(table[cols].notna(), None)
            data["revision"] = revision
            self.conn.executemany(
                f"INSERT INTO crossref_current ({', '.join(cols)}, revision)"
                f" VALUES ({', '.join('?' * (len(cols) + 1))})",
                data.itertuples(index=False, name=None),
            )
        self.conn.execute(
            "INSERT INTO crossref_state (id, revision) VALUES (1, ?)"
            " ON CONFLICT(id) DO UPDATE SET revision = excluded.revision",
            (revision,),
        )

    def finish(self) -> None:
        """Bookkeeping before the commit: layer extents."""
        for layer in sorted(self._dirty):
            gpkg_schema.update_extent(self.conn, layer)


# --------------------------------------------------------------------------


class GeoPackageStore(StoreBackend):
    """A minemap store in one GeoPackage file.

    Parameters
    ----------
    path
        The GeoPackage.  Created on first write if it does not exist.

    Examples
    --------
    >>> import tempfile, os
    >>> s = GeoPackageStore(os.path.join(tempfile.mkdtemp(), "m.gpkg"))
    >>> s.latest_revision()
    0
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.location = str(self.path)

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

    def exists(self) -> bool:
        """Whether the store file exists."""
        return self.path.exists()

    @contextmanager
    def snapshot(self) -> Iterator[StoreView]:
        """A view pinned at the latest revision when it opens.

        Rows valid at a revision never change, so reads through the view
        agree with each other while imports go on, and hold no lock.
        """
        if not self.path.exists():
            yield _View(None, self.location, pinned=0)
            return
        conn = self._connect()
        try:
            view = _View(conn, self.location)
            view.pinned = view._max_revision()
            yield view
        finally:
            conn.close()

    @contextmanager
    def transaction(self) -> Iterator[StoreWriter]:
        """An exclusive write transaction: all of it lands, or none of it."""
        conn = self._connect()
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    gpkg_schema.ensure_schema(conn, self.path)
                    writer = _Writer(conn, self.location)
                    yield writer
                    writer.finish()
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


def default_store_path(path: str | os.PathLike | None = None) -> Path:
    """``path``, else ``$MINEMAP_STORE``, else ``minemap.gpkg`` in the current folder."""
    return Path(path or os.environ.get("MINEMAP_STORE") or DEFAULT_STORE)
