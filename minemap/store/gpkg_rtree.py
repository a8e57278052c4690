"""The R-trees of a GeoPackage store's feature tables, filled in bulk (issue 14).

A GeoPackage keeps each feature table's boxes in an SQLite R-tree
(``rtree_<table>_geom``) that insert triggers fill row by row, through Python
functions in this process.  A bulk import lifts the trigger, fills the index
from the bounds it already has and puts the trigger back in the same
transaction; an empty R-tree is built by a child process meanwhile.  The
boxes are exactly those the trigger would insert (tests compare them).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from minemap.store.gpkg_schema import rtree as _rtree

#: The page cache of an import's connection (KiB); a quarter of it for the child.
#: The R-tree and the indexes of a large import revisit their pages, which
#: SQLite's 2 MB default would read again.
CACHE_KIB = 256 * 1024


@contextmanager
def _rtree_trigger_lifted(conn: sqlite3.Connection, table: str) -> Iterator[bool]:
    """Without the R-tree's insert trigger for a bulk insert; whether there is one.

    The trigger calls ``ST_MinX`` and its kin, Python functions, five times a
    row (62 µs a row: three quarters of an import's row writes); the caller
    fills the index itself from the bounds it already has.  The trigger is
    put back before the transaction commits, so other writers (QGIS) keep it.
    """
    name = f"{_rtree(table)}_insert"
    row = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
                       (name,)).fetchone()
    if row is not None:
        conn.execute(f'DROP TRIGGER "{name}"')
    try:
        yield row is not None
    finally:
        if row is not None:
            conn.execute(row[0])


def _rtree_boxes(fids: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ids and (minx, maxx, miny, maxy) boxes the R-tree trigger would insert.

    Those of every present, non-empty geometry (finite ``bounds``).
    """
    keep = ~np.isnan(bounds[:, 0])
    return (np.ascontiguousarray(fids[keep], dtype=np.int64),
            np.ascontiguousarray(bounds[keep][:, [0, 2, 1, 3]], dtype=np.float64))


def _fill_rtree(conn: sqlite3.Connection, table: str, ids: np.ndarray,
                boxes: np.ndarray) -> None:
    """Insert the boxes into ``table``'s R-tree, as its insert trigger would."""
    it = iter(boxes.ravel().tolist())
    conn.executemany(f"INSERT OR REPLACE INTO {_rtree(table)} VALUES (?, ?, ?, ?, ?)",
                     zip(ids.tolist(), it, it, it, it))


def _insert_indexed(conn: sqlite3.Connection, table: str, insert: str, data: Iterable,
                    fids: np.ndarray, bounds: np.ndarray | None) -> None:
    """Insert rows with explicit ``fids`` and fill the table's R-tree from ``bounds``.

    ``bounds`` (from :func:`_encode`) is None for an aspatial table.
    """
    if bounds is None:
        conn.executemany(insert, data)
        return
    with _rtree_trigger_lifted(conn, table) as indexed:
        conn.executemany(insert, data)
        if indexed:
            _fill_rtree(conn, table, *_rtree_boxes(fids, bounds))


# The child process that builds an R-tree: plain Python and sqlite3 (no
# minemap, no numpy, so it starts in milliseconds), the same SQLite library
# and the same doubles as an insert in the import's own connection.
_BUILD_RTREE = """
import array, sqlite3, sys
db, src, n, page, cache = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
ids, xy = array.array("q"), array.array("d")
with open(src, "rb") as f:
    ids.fromfile(f, n)
    xy.fromfile(f, 4 * n)
conn = sqlite3.connect(db, isolation_level=None)
conn.execute(f"PRAGMA page_size = {page}")
conn.execute("PRAGMA journal_mode = OFF")
conn.execute("PRAGMA synchronous = OFF")
conn.execute(f"PRAGMA cache_size = -{cache}")
conn.execute("BEGIN")
conn.execute("CREATE VIRTUAL TABLE rt USING rtree(id, minx, maxx, miny, maxy)")
it = iter(xy)
conn.executemany("INSERT INTO rt VALUES (?, ?, ?, ?, ?)", zip(ids, it, it, it, it))
conn.execute("COMMIT")
conn.close()
"""


class _RTreeBuild:
    """An empty R-tree's contents, built by a child process while the import goes on.

    GDAL's GeoPackage driver does the same with a thread: an R-tree insert
    costs about 10 µs of SQLite's own CPU a box (200,000 vertices: 2 s),
    which another core can spend while this one writes the rows, the
    crossref and the derived layers.  Not a thread: Python's sqlite3 takes
    the GIL back after every row of an ``executemany``, so a thread waits up
    to the switch interval per row while this one runs Python and builds
    almost nothing.  The child fills an R-tree of the same definition in a
    file of its own; :meth:`settle` copies its shadow tables (``_node``,
    ``_rowid``, ``_parent``) into the store's empty R-tree, in the import's
    transaction.  Should the child fail, the boxes are inserted here.

    Parameters
    ----------
    table
        The feature table whose R-tree (``rtree_<table>_geom``) is empty.
    ids, boxes
        What its insert trigger would insert (:func:`_rtree_boxes`).
    folder
        A private temporary folder for the child's files.
    page_size
        The store's page size (so the child's nodes are the store's size).
    """

    def __init__(self, table: str, ids: np.ndarray, boxes: np.ndarray, folder: Path,
                 page_size: int) -> None:
        self.table = table
        self.ids = ids
        self.boxes = boxes
        self.db = folder / f"{table}.rtree.db"
        src = folder / f"{table}.boxes"
        with open(src, "wb") as f:
            ids.tofile(f)
            boxes.tofile(f)
        self.proc: subprocess.Popen | None = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _BUILD_RTREE, str(self.db), str(src),
             str(len(ids)), str(page_size), str(CACHE_KIB // 4)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def settle(self, conn: sqlite3.Connection, alias: str) -> None:
        """Wait for the child and copy its R-tree into the store's (or insert the boxes).

        ``alias`` names the child's file while the import's connection has it
        attached (SQLite detaches a database only outside a transaction; the
        connection closes after the import, which detaches it).
        """
        proc, self.proc = self.proc, None
        ok = proc is not None and proc.wait() == 0
        if proc is not None and proc.stderr is not None:
            proc.stderr.close()
        r = _rtree(self.table)
        if ok:
            conn.execute("ATTACH DATABASE ? AS " + alias, (str(self.db),))
            (n,) = conn.execute(f"SELECT COUNT(*) FROM {alias}.rt_rowid").fetchone()
            ok = n == len(self.ids)
        if not ok:
            _fill_rtree(conn, self.table, self.ids, self.boxes)
            return
        # The store's R-tree is empty: its root node is replaced by the child's.
        for part in ("node", "rowid", "parent"):
            conn.execute(f"DELETE FROM main.{r}_{part}")
            conn.execute(f"INSERT INTO main.{r}_{part} SELECT * FROM {alias}.rt_{part}")

    def abandon(self) -> None:
        """Stop the child (the import failed): nothing of it reaches the store."""
        proc, self.proc = self.proc, None
        if proc is not None:
            proc.kill()
            proc.wait()
            if proc.stderr is not None:
                proc.stderr.close()
