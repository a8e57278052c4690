"""The GeoPackage store backend: one file with revisioned layers (DESIGN §4, §10).

Every imported kind has a ``history_<layer>`` table holding every version of
every row ever imported, valid from ``rev_from`` until ``rev_to`` (NULL while
current); a view under the layer's plain name shows the current rows.  Rows
are never deleted and their data is never updated: a revision only closes
the validity of the rows it replaces.  The tables, views, indexes, styles and
triggers are described in :mod:`minemap.store.gpkg_schema`.

Atomicity and serialisation come from SQLite: an import runs in one
``BEGIN IMMEDIATE`` transaction (which also takes the write lock, so
concurrent imports queue and all land; a lock held by another program is
waited for at most ``settings.lock_timeout_s``), and a killed import leaves
the rollback journal that SQLite replays on the next open.  Reads go through
a view pinned at a revision, so they take no lock and never tear.

This module (with :mod:`minemap.store.gpkg_schema` and
:mod:`minemap.store.gpkg_upgrade`) is the only one that speaks SQL to a
GeoPackage.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import struct
import sys
import tempfile
import time
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import repeat
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minemap import settings
from minemap._errors import UsageError
from minemap.records import schema
from minemap.store import gpkg_schema
from minemap.store.base import (
    BBox,
    DerivedLayer,
    StoreBackend,
    StoreError,
    StoreView,
    StoreWriter,
    check_derived,
    filter_conditions,
    iter_chunks,
)
from minemap.store.gpkg_rtree import (
    CACHE_KIB,
    _fill_rtree,
    _insert_indexed,
    _rtree_boxes,
    _rtree_trigger_lifted,
    _RTreeBuild,
)
from minemap.store.gpkg_schema import history as _hist
from minemap.store.gpkg_schema import rtree as _rtree
from minemap.store.gpkg_table import DEFAULT_STORE, default_store_path
from minemap.store.layers import box_array, rows_meeting_boxes
from minemap.store.revisions import (
    DERIVED,
    LAYERS,
    REVISION_COLUMNS,
    CrossrefUpdate,
    DerivedUpdate,
    ImportPlan,
    ImportResult,
    crossref_frame,
    derived_frame,
    derived_geometries,
    derived_values,
    layer_frame,
    plain_rows,
    revision_record,
    sha256_file,
)

#: Why an import gave up waiting (DESIGN §10).
LOCKED = ("store is locked by another program (an open QGIS edit session?); nothing was"
          " written")

# Bound parameters per statement, well under SQLite's limit.
_CHUNK = 900
# Above this many boxes, reading a whole layer beats one index query per box.
_MAX_BOX_QUERIES = 5000
# Rows encoded at a time by an insert.
_INSERT_SLICE = 50_000
# From this many boxes an empty R-tree is built by a child process (below
# it, starting one costs more than the 10 µs a box it saves the import).
_MIN_BACKGROUND_RTREE = 10_000

__all__ = ["DEFAULT_STORE", "GeoPackageStore", "ImportPlan", "ImportResult", "StoreError",
           "default_store_path", "sha256_file"]


# --------------------------------------------------------------------------
# GeoPackage geometry blobs


#: The header of a GeoPackage geometry blob with an xy envelope (flags 0x03:
#: little-endian, envelope minx, maxx, miny, maxy), as one numpy record.
_HEADER = np.dtype([("magic", "S4"), ("srs_id", "<i4"), ("envelope", "<f8", (4,))])


def _bounds(geoms: np.ndarray) -> np.ndarray:
    """(minx, miny, maxx, maxy) a geometry; NaN where missing or empty (no R-tree entry)."""
    bounds = shapely.bounds(geoms)
    bounds[shapely.is_empty(geoms)] = np.nan
    return bounds


def _encode(geoms: np.ndarray, srs_id: int = 4326, bounds: np.ndarray | None = None
            ) -> tuple[list[bytes | None], np.ndarray]:
    """GeoPackage binary geometries (header with envelope + ISO WKB) and their bounds.

    The bounds (minx, miny, maxx, maxy, :func:`_bounds`; given when the caller
    has them) are NaN where a geometry is missing or empty: the rows the
    R-tree index leaves out.
    """
    geoms = np.asarray(geoms, dtype=object)
    wkb = shapely.to_wkb(geoms, flavor="iso", byte_order=1).tolist()
    bounds = _bounds(geoms) if bounds is None else bounds
    empty = shapely.is_empty(geoms)
    # The headers in one numpy pass, then one slice and concatenation a row:
    # struct.pack and bytes() a row cost five times as much (issue 14).
    header = np.zeros(len(geoms), dtype=_HEADER)
    header["magic"] = b"GP\x00\x03"
    header["srs_id"] = srs_id
    header["envelope"] = bounds[:, [0, 2, 1, 3]]
    raw = header.tobytes()
    size = _HEADER.itemsize
    odd = np.flatnonzero(empty | shapely.is_missing(geoms)).tolist()
    plain = wkb
    if odd:
        plain = list(wkb)
        for i in odd:
            plain[i] = b""
    out: list[bytes | None] = [raw[i:i + size] + w
                               for i, w in zip(range(0, len(raw), size), plain)]
    # Missing geometries stay NULL; empty ones carry no envelope (flags 0x11).
    for i in odd:
        out[i] = None if wkb[i] is None else (
            b"GP\x00" + bytes([0x01 | 0x10]) + struct.pack("<i", srs_id) + wkb[i])
    return out, bounds


def _row_slices(columns: Mapping[str, pd.Series], geometries: np.ndarray | None,
                bounds: np.ndarray | None, hashes: Sequence[str], fids: np.ndarray,
                revision: int) -> Iterator[tuple]:
    """The rows to insert, in their column order, built a slice at a time.

    Building every row's cells at once held a list a column and a Python
    number a cell: a quarter of a gigabyte for the million vertices of
    100,000 fields.  A slice at a time, it is a few megabytes.
    """
    n = len(fids)
    for lo in range(0, n, _INSERT_SLICE):
        hi = min(n, lo + _INSERT_SLICE)
        cells: list[Iterable] = [fids[lo:hi].tolist()]
        if geometries is not None:
            cells.append(_encode(geometries[lo:hi], bounds=bounds[lo:hi])[0])
        cells += [col.iloc[lo:hi].to_numpy(dtype=object).tolist() for col in columns.values()]
        cells.append(list(hashes[lo:hi]))
        yield from zip(*cells, repeat(revision), repeat(None))


def _next_fids(conn: sqlite3.Connection, table: str, n: int) -> np.ndarray:
    """The ``n`` feature ids after the table's largest, ever (AUTOINCREMENT never reuses one)."""
    (base,) = conn.execute(
        f"SELECT MAX(COALESCE((SELECT MAX(fid) FROM {table}), 0),"
        " COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ?), 0))", (table,)).fetchone()
    return np.arange(int(base) + 1, int(base) + 1 + n)


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

    def _settle(self, table: str) -> None:
        """Before ``table``'s R-tree is read: complete it (a writer may build it aside)."""

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
        conds = filter_conditions(layer, ids, where)
        boxes = None
        if bbox is not None:
            if not spec.geometry_type:
                raise ValueError(f"{layer} has no geometry to filter by bbox")
            boxes = box_array(bbox)
            if len(boxes) <= _MAX_BOX_QUERIES:
                conds.append(("fid", self._bbox_fids(layer, boxes).tolist()))
        frame = self._select(layer, revision, conds)
        if boxes is not None and len(boxes) > _MAX_BOX_QUERIES:
            frame = rows_meeting_boxes(frame, boxes)
        return frame

    def _bbox_fids(self, layer: str, boxes: np.ndarray) -> np.ndarray:
        if not self._has(_rtree(_hist(layer))):
            return np.array([], dtype=np.int64)
        self._settle(_hist(layer))
        out: set[int] = set()
        sql = (
            f"SELECT id FROM {_rtree(_hist(layer))} WHERE maxx >= ? AND minx <= ?"
            " AND maxy >= ? AND miny <= ?"
        )
        for x0, y0, x1, y1 in boxes.tolist():
            out.update(r[0] for r in self.conn.execute(sql, (x0, x1, y0, y1)))
        return np.array(sorted(out), dtype=np.int64)

    def _select(self, layer: str, revision: int, conds: list[tuple[str, list]]):
        spec = LAYERS[layer]
        if not self._has(_hist(layer)) or any(not v for _, v in conds):
            return layer_frame(layer, [], None)
        names = ", ".join(f'"{c}"' for c in spec.columns)
        geom = ", geom" if spec.geometry_type else ""
        base = (
            f"SELECT fid{geom}, {names}, rev_from FROM {_hist(layer)}"
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
        if not self._has(_hist(layer)):
            return pd.DataFrame(columns=cols)
        names = ", ".join(f'"{c}"' for c in spec.columns)
        rows = self.conn.execute(
            f"SELECT {names}, 'opened' FROM {_hist(layer)} WHERE rev_from = ?"
            f" UNION ALL SELECT {names}, 'closed' FROM {_hist(layer)} WHERE rev_to = ?",
            (revision, revision),
        ).fetchall()
        return pd.DataFrame(rows, columns=cols)

    def versions(self, layer: str) -> tuple[gpd.GeoDataFrame | pd.DataFrame, pd.DataFrame]:
        spec = LAYERS[layer]
        book_cols = ["content_hash", "rev_from", "rev_to"]
        if not self._has(_hist(layer)):
            return layer_frame(layer, [], None), pd.DataFrame(columns=book_cols)
        names = ", ".join(f'"{c}"' for c in spec.columns)
        geom = "geom, " if spec.geometry_type else ""
        rows = self.conn.execute(
            f"SELECT {geom}{names}, rev_from, content_hash, COALESCE(rev_to, 0)"
            f" FROM {_hist(layer)} ORDER BY fid").fetchall()
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

    def count_rows(self, revision: int) -> dict[str, int]:
        out = {}
        for name in LAYERS:
            if not self._has(_hist(name)):
                out[name] = 0
                continue
            (n,) = self.conn.execute(
                f"SELECT COUNT(*) FROM {_hist(name)} WHERE rev_from <= ?"
                " AND (rev_to IS NULL OR rev_to > ?)",
                (revision, revision),
            ).fetchone()
            out[name] = int(n)
        return out

    def read_crossref(self) -> tuple[pd.DataFrame, int]:
        if not self._has("crossref"):
            return crossref_frame([]), 0
        cols = ", ".join(f'"{c}"' for c in schema.CROSSREF_COLUMNS)
        # One read transaction: the rows and the revision they describe agree.
        own = not self.conn.in_transaction
        if own:
            self.conn.execute("BEGIN")
        try:
            rows = self.conn.execute(f"SELECT {cols} FROM crossref ORDER BY fid").fetchall()
            state = gpkg_schema.crossref_state(self.conn)
        finally:
            if own:
                self.conn.execute("COMMIT")
        return crossref_frame(rows), state

    def derived_state(self, layer: str) -> tuple[int, dict[str, Any]]:
        check_derived(layer)
        if not self._has(layer):
            return 0, {}
        return gpkg_schema.derived_state(self.conn, layer)

    def read_derived(self, layer: str) -> DerivedLayer:
        check_derived(layer)
        if not self._has(layer):
            return DerivedLayer(derived_frame(layer, [], None), 0, {})
        cols = ", ".join(f'"{c}"' for c in DERIVED[layer].columns)
        own = not self.conn.in_transaction
        if own:
            self.conn.execute("BEGIN")
        try:
            rows = self.conn.execute(f"SELECT geom, {cols} FROM {layer} ORDER BY fid").fetchall()
            revision, params = gpkg_schema.derived_state(self.conn, layer)
        finally:
            if own:
                self.conn.execute("COMMIT")
        geoms = _decode([r[0] for r in rows]) if rows else None
        return DerivedLayer(derived_frame(layer, [r[1:] for r in rows], geoms), revision, params)


# --------------------------------------------------------------------------
# writing


class _Writer(_View, StoreWriter):
    """The primitives of an import, inside its ``BEGIN IMMEDIATE`` transaction."""

    def __init__(self, conn: sqlite3.Connection, location: str) -> None:
        super().__init__(conn, location)
        self._dirty: set[str] = set()
        # Layers whose current rows' extent is known without reading them
        # (from the bounds the insert computed), and that extent.
        self._extents: dict[str, tuple[float, float, float, float] | None] = {}
        # Layers this import closed rows of: their extent may shrink.
        self._closed: set[str] = set()
        # R-trees being built aside (:class:`_RTreeBuild`), by table.
        self._builds: dict[str, _RTreeBuild] = {}
        self._settled = 0
        self._folder: Path | None = None

    def _settle(self, table: str) -> None:
        build = self._builds.pop(table, None)
        if build is not None:
            self._settled += 1
            build.settle(self.conn, f"minemap_rtree_{self._settled}")

    def close(self) -> None:
        """Stop what is still building and remove its files (after the connection closed)."""
        for build in self._builds.values():
            build.abandon()
        self._builds.clear()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def _index(self, table: str, fids: np.ndarray, bounds: np.ndarray, *,
               empty: bool) -> None:
        """Fill ``table``'s R-tree with the rows just inserted (``empty``: it had no box)."""
        ids, boxes = _rtree_boxes(fids, bounds)
        if empty and len(ids) >= _MIN_BACKGROUND_RTREE and sys.executable:
            if self._folder is None:
                self._folder = Path(tempfile.mkdtemp(prefix="minemap-rtree-"))
            (page,) = self.conn.execute("PRAGMA main.page_size").fetchone()
            try:
                self._builds[table] = _RTreeBuild(table, ids, boxes, self._folder, int(page))
                return
            except OSError:
                pass  # no temporary space or no interpreter to start: insert here
        _fill_rtree(self.conn, table, ids, boxes)

    def has_current_rows(self, layer: str) -> bool:
        return self.conn.execute(
            f"SELECT 1 FROM {_hist(layer)} WHERE rev_to IS NULL LIMIT 1").fetchone() is not None

    def current_hashes(self, layer: str, *, handover: str | None = None,
                       revision: int | None = None,
                       ids: Collection[Any] | None = None) -> pd.DataFrame:
        spec = LAYERS[layer]
        keycols = ", ".join(f'"{k}"' for k in spec.key)
        sql = f"SELECT fid, {keycols}, content_hash FROM {_hist(layer)} WHERE "
        params: tuple = ()
        if revision is None:
            sql += "rev_to IS NULL"
        else:
            sql += "rev_from <= ? AND (rev_to IS NULL OR rev_to > ?)"
            params = (revision, revision)
        if handover is not None:
            sql += " AND handover = ?"
            params += (handover,)
        # Key order (text compares byte-wise), then fid: an import's removals
        # are listed in one order on every backend.
        order = f" ORDER BY {keycols}, fid"
        if ids is None:
            rows = self.conn.execute(sql + order, params).fetchall()
        else:
            # Through the key index, a chunk at a time; chunks of sorted ids
            # keep the key order (Python and SQLite both compare code points).
            rows = []
            for chunk in iter_chunks(sorted(set(ids)), _CHUNK):
                rows += self.conn.execute(
                    f'{sql} AND "{spec.id_column}" IN ({",".join("?" * len(chunk))}){order}',
                    (*params, *chunk)).fetchall()
        return pd.DataFrame(rows, columns=["row_id", *spec.key, "content_hash"])

    def geometries(self, layer: str, row_ids: Sequence[Any]) -> np.ndarray:
        found: dict[int, bytes | None] = {}
        for chunk in iter_chunks(list(row_ids), _CHUNK):
            found.update(self.conn.execute(
                f"SELECT fid, geom FROM {_hist(layer)} WHERE fid IN"
                f" ({','.join('?' * len(chunk))})", chunk))
        return _decode([found[i] for i in row_ids])

    def close_rows(self, layer: str, row_ids: Sequence[Any], revision: int) -> None:
        self._extents.pop(layer, None)
        self._closed.add(layer)
        self.conn.executemany(
            f"UPDATE {_hist(layer)} SET rev_to = ? WHERE fid = ? AND rev_to IS NULL",
            [(revision, int(fid)) for fid in row_ids],
        )
        if LAYERS[layer].geometry_type:
            self._dirty.add(layer)

    def insert_rows(self, layer: str, values: pd.DataFrame, geometries: np.ndarray | None,
                    hashes: np.ndarray, revision: int) -> None:
        spec = LAYERS[layer]
        table = _hist(layer)
        n = len(values)
        fids = _next_fids(self.conn, table, n)
        cols = list(spec.columns)
        bounds = None
        if spec.geometry_type:
            geometries = np.asarray(geometries, dtype=object)
            bounds = _bounds(geometries)
            cols = ["geom", *cols]
        # Column by column into one stream of rows: no list per row held, and
        # no row pass over pandas.
        rows = _row_slices({c: values[c] for c in spec.columns},
                           geometries if spec.geometry_type else None, bounds, hashes, fids,
                           revision)
        names = ", ".join(f'"{c}"' for c in cols)
        qs = ", ".join("?" * (len(cols) + 4))
        insert = (f"INSERT INTO {table} (fid, {names}, content_hash, rev_from, rev_to)"
                  f" VALUES ({qs})")
        if bounds is None:
            self.conn.executemany(insert, rows)
            return
        self._settle(table)
        self._note_extent(layer, bounds)
        empty = self.conn.execute(
            f"SELECT 1 FROM {_rtree(table)}_rowid LIMIT 1").fetchone() is None
        with _rtree_trigger_lifted(self.conn, table) as indexed:
            if indexed:
                # First the index (built aside when large: it overlaps the rows).
                self._index(table, fids, bounds, empty=empty)
            self.conn.executemany(insert, rows)
        self._dirty.add(layer)

    def _note_extent(self, layer: str, bounds: np.ndarray) -> None:
        """Before inserting: the extent the layer will have, when known without a pass.

        Known when the layer has no current rows (the new rows' extent) or
        when the import only adds rows to it (the stored extent grown by
        theirs: a weekly batch need not read every release's envelope).
        """
        if layer in self._extents:
            self._extents.pop(layer)  # a second insert: finish() reads the rows
            return
        new = None if np.isnan(bounds[:, 0]).all() else (
            float(np.nanmin(bounds[:, 0])), float(np.nanmin(bounds[:, 1])),
            float(np.nanmax(bounds[:, 2])), float(np.nanmax(bounds[:, 3])))
        if not self.has_current_rows(layer):
            self._extents[layer] = new
            return
        stored = None if layer in self._closed else gpkg_schema.stored_extent(self.conn, layer)
        if stored is None:
            return
        self._extents[layer] = stored if new is None else (
            min(stored[0], new[0]), min(stored[1], new[1]),
            max(stored[2], new[2]), max(stored[3], new[3]))

    def add_revision(self, record: Mapping[str, Any]) -> None:
        self.conn.execute(
            f"INSERT INTO revisions ({', '.join(REVISION_COLUMNS)}) VALUES"
            f" ({', '.join('?' * len(REVISION_COLUMNS))})",
            [record[c] for c in REVISION_COLUMNS],
        )

    def write_crossref(self, update: CrossrefUpdate, revision: int) -> None:
        cols = list(schema.CROSSREF_COLUMNS)
        table = update.table
        if update.full:
            self.conn.execute("DELETE FROM crossref")
        else:
            self.conn.executemany(
                "DELETE FROM crossref WHERE handover = ? AND record_id = ?",
                update.keys_to_delete(),
            )
        if len(table):
            # The new rows go through a temporary table and take the field's
            # geometry and other columns from its current version.
            names = ", ".join(f'"{c}"' for c in cols)
            self.conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS crossref_new ({names})")
            self.conn.execute("DELETE FROM temp.crossref_new")
            self.conn.executemany(
                f"INSERT INTO temp.crossref_new VALUES ({', '.join('?' * len(cols))})",
                plain_rows(table, cols))
            out = gpkg_schema.crossref_columns()
            pick = ", ".join(
                "m.rev_from" if c == "revision" else f'x."{c}"' if c in cols else f'm."{c}"'
                for c in out)
            targets = ", ".join(f'"{c}"' for c in out)
            # Rows after this feature id are the ones inserted below.
            base = int(_next_fids(self.conn, "crossref", 1)[0]) - 1
            fields = _hist("minefields")
            self._settle(fields)
            with _rtree_trigger_lifted(self.conn, "crossref") as indexed:
                # CROSS JOIN keeps the new rows outside: otherwise SQLite scans the
                # unindexed temporary table once per current field (quadratic: 65 s
                # at 20,000 fields) instead of one key lookup per new row.
                self.conn.execute(
                    f"INSERT INTO crossref (geom, {targets})"
                    f" SELECT m.geom, {pick} FROM temp.crossref_new x CROSS JOIN"
                    f" {fields} m"
                    " ON m.handover = x.handover AND m.record_id = x.record_id"
                    " WHERE m.rev_to IS NULL")
                if indexed:
                    # A row's geometry is its field's: so is its box, already in
                    # the field's R-tree (float32 values, stored unchanged), and
                    # a null or empty geometry is in neither.  The trigger would
                    # compute it in Python, five calls a row.
                    self.conn.execute(
                        f"INSERT OR REPLACE INTO {_rtree('crossref')}"
                        " SELECT c.fid, r.minx, r.maxx, r.miny, r.maxy FROM crossref c"
                        f" CROSS JOIN {fields} m ON m.handover = c.handover"
                        " AND m.record_id = c.record_id AND m.rev_to IS NULL"
                        f" CROSS JOIN {_rtree(fields)} r ON r.id = m.fid WHERE c.fid > ?",
                        (int(base),))
            self.conn.execute("DELETE FROM temp.crossref_new")
        gpkg_schema.set_crossref_state(self.conn, revision)

    def write_derived(self, layer: str, update: DerivedUpdate, revision: int) -> None:
        check_derived(layer)
        spec = DERIVED[layer]
        if update.frame is not None:
            if update.full:
                self.conn.execute(f"DELETE FROM {layer}")
            else:
                keys = update.keys_to_delete(layer)
                match = " AND ".join(f'"{k}" = ?' for k in spec.key)
                self.conn.executemany(f"DELETE FROM {layer} WHERE {match}", keys)
            if len(update.frame):
                names = ", ".join(f'"{c}"' for c in spec.columns)
                blobs, bounds = _encode(derived_geometries(layer, update.frame))
                fids = _next_fids(self.conn, layer, len(blobs))
                _insert_indexed(
                    self.conn, layer,
                    f"INSERT INTO {layer} (fid, geom, {names})"
                    f" VALUES ({', '.join('?' * (len(spec.columns) + 2))})",
                    [[f, b, *r] for f, b, r in zip(fids.tolist(), blobs,
                                                   derived_values(layer, update.frame))],
                    fids, bounds)
            gpkg_schema.update_derived_extent(self.conn, layer)
        gpkg_schema.set_derived_state(self.conn, layer, revision, update.params)

    def finish(self) -> None:
        """Bookkeeping before the commit: the R-trees built aside, layer extents."""
        for table in sorted(self._builds):
            self._settle(table)
        for layer in sorted(self._dirty):
            if layer in self._extents:
                if self._extents[layer] is not None:
                    gpkg_schema.set_extent(self.conn, layer, self._extents[layer])
            else:
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
        try:
            if not self.path.parent.exists():
                raise UsageError(f"{self.path}: the store's folder does not exist")
            foreign = (self.path.exists() and self.path.stat().st_size
                       and not gpkg_schema.is_sqlite(self.path))
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot reach the store: {exc.strerror}") from None
        if foreign:
            raise UsageError(f"{self.path}: not a minemap store (not a GeoPackage)")
        try:
            conn = sqlite3.connect(self.path, timeout=settings.lock_timeout_s,
                                   isolation_level=None)
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        try:
            gpkg_schema.register_functions(conn)
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as exc:
            conn.close()
            raise self._error(exc) from None
        return conn

    def _error(self, exc: sqlite3.Error) -> StoreError:
        """One line naming the store and what is wrong with it (issue 15 item 8)."""
        msg = str(exc)
        code = getattr(exc, "sqlite_errorcode", None)
        journal = self.path.with_name(self.path.name + "-journal")
        if "locked" in msg or "busy" in msg:
            text = LOCKED
        elif code == 776 or ("readonly" in msg and journal.exists()):  # READONLY_ROLLBACK
            text = (f"the store has an unfinished import (a hot journal, {journal.name}) that"
                    " cannot be rolled back on read-only media; copy the store with its"
                    " journal to writable storage and open it there")
        elif "readonly" in msg or "read-only" in msg:
            text = "the store is read-only (read-only media or file); nothing was written"
        elif "unable to open" in msg:
            text = ("cannot open or create the store: is its folder writable? nothing was"
                    " written")
        elif "disk is full" in msg or "disk I/O" in msg:
            text = f"{msg}; nothing was written"
        elif "malformed" in msg or "not a database" in msg or "corrupt" in msg:
            text = f"the store is damaged ({msg}); restore a backup or copy-store"
        else:
            text = f"could not use the store: {msg}; nothing was written"
        return StoreError(f"{self.path}: {text}")

    def _check_version(self, conn: sqlite3.Connection, *, writing: bool) -> int:
        version = gpkg_schema.schema_version(conn)
        if version is None:
            hint = ("; give --store a new file or an existing minemap store" if writing
                    else "")
            raise UsageError(f"{self.path}: is a database but not a minemap store{hint}")
        # Schema 2 lacks only the derived layers: it is read as it is (they are
        # computed on demand) and upgraded before anything is written.
        if version == 1 or (writing and 0 < version < gpkg_schema.SCHEMA_VERSION):
            raise StoreError(f"{self.path}: a store of an older minemap (schema {version}); run"
                             " `minemap upgrade-store` once (it keeps a backup)")
        if version > gpkg_schema.SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: a store of a newer minemap (schema {version}; this minemap"
                f" knows up to {gpkg_schema.SCHEMA_VERSION}); upgrade minemap to use it")
        return version

    def exists(self) -> bool:
        """Whether the store file exists."""
        return self.path.exists()

    def schema_version(self) -> int | None:
        """The store's schema: 0 none yet, 1 the first layout, None not a minemap store."""
        if not self.path.exists() or not self.path.stat().st_size:
            return 0
        conn = self._connect()
        try:
            return gpkg_schema.schema_version(conn)
        finally:
            conn.close()

    def upgrade(self) -> str | None:
        """Migrate an older store to the current schema; the old file stays as a backup beside it."""
        from minemap.store.gpkg_upgrade import upgrade

        backup = upgrade(self)
        return None if backup is None else str(backup)

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
            try:
                empty = self._check_version(conn, writing=False) == 0
            except sqlite3.Error as exc:
                raise self._error(exc) from None
            view = _View(None if empty else conn, self.location)
            view.pinned = view._max_revision()
            yield view
        finally:
            conn.close()

    def _begin(self, conn: sqlite3.Connection) -> None:
        """``BEGIN IMMEDIATE``, waiting at most ``settings.lock_timeout_s`` for the lock."""
        timeout = float(settings.lock_timeout_s)
        conn.execute("PRAGMA busy_timeout = 0")
        start = time.monotonic()
        said = False
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                waited = time.monotonic() - start
                if waited >= timeout:
                    raise StoreError(f"{self.path}: {LOCKED}") from None
                if not said:
                    # Said once, on stderr: the output of a command stays its own.
                    sys.stderr.write(f"minemap: {self.path} is locked by another program;"
                                     f" waiting up to {timeout:g} s\n")
                    sys.stderr.flush()
                    said = True
                time.sleep(min(0.1, max(0.0, timeout - waited)))
        # Inside the transaction, brief locks (a reader finishing) are waited for.
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")

    @contextmanager
    def transaction(self) -> Iterator[StoreWriter]:
        """An exclusive write transaction: all of it lands, or none of it."""
        conn = self._connect()
        writer: _Writer | None = None
        try:
            try:
                self._begin(conn)
                try:
                    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
                    if self._check_version(conn, writing=True) == 0:
                        gpkg_schema.create_schema(conn)
                    writer = _Writer(conn, self.location)
                    with gpkg_schema.lifted_guards(conn):
                        yield writer
                        writer.finish()
                except BaseException:
                    # SQLite may already have rolled back (a full disk does).
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                else:
                    conn.execute("COMMIT")
            except sqlite3.Error as exc:
                # A full disk, a read-only file, a lock held too long: the
                # store is as it was; say which store and why.
                raise self._error(exc) from None
        finally:
            conn.close()
            if writer is not None:
                writer.close()
