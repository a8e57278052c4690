"""The materialised crossref, read straight from a GeoPackage store (issue 14).

``minemap crossref -o out.csv`` on a current store needs one table from
SQLite and a CSV writer, so this module imports only :mod:`sqlite3` and
pandas: neither geopandas nor shapely nor pyproj, which
:mod:`minemap.store.gpkg` and the other backends import (and which cost more
than the read itself).  It answers only when the stored table is exactly what
:func:`minemap.api.crossref` would return for the latest revision with no
``as_of`` and no district boundaries; in every other case (no store, another
schema, a stale table, boundaries, an unfinished import, a lock, any SQLite
error) it returns ``None`` and the caller takes the full path, which also
words the errors.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from minemap.records import schema

#: The crossref columns stored as REAL.
CROSSREF_REAL = frozenset({
    "area_ha", "released_ha", "released_pct", "cleared_ha", "cleared_pct",
    "found_mines", "remaining_est",
})

# As in minemap.store.gpkg_schema (not imported: it imports shapely and pyproj);
# tests/test_crossref_table.py checks they agree.
SCHEMA_VERSION = 3
METADATA_URI = "urn:minemap:store"

DEFAULT_STORE = "minemap.gpkg"


def default_store_path(path: str | os.PathLike | None = None) -> Path:
    """``path``, else ``$MINEMAP_STORE``, else ``minemap.gpkg`` in the current folder."""
    return Path(path or os.environ.get("MINEMAP_STORE") or DEFAULT_STORE)


def crossref_frame(rows: list[tuple]) -> pd.DataFrame:
    """The materialised crossref from stored rows of ``CROSSREF_COLUMNS``."""
    frame = pd.DataFrame(list(rows), columns=list(schema.CROSSREF_COLUMNS))
    for c in CROSSREF_REAL:
        frame[c] = pd.to_numeric(frame[c]).astype("float64")
    frame["mines_total"] = frame["mines_total"].astype("int64")
    for c in set(schema.CROSSREF_COLUMNS) - CROSSREF_REAL - {"mines_total"}:
        frame[c] = frame[c].astype(object).where(frame[c].notna(), "")
    return frame


def current_crossref(path: str | os.PathLike, *, timeout_s: float = 5.0
                     ) -> pd.DataFrame | None:
    """The stored crossref of the store at `path`, if it is current; else ``None``.

    Current means: a minemap store of this schema whose materialised table
    describes its latest revision, with no district boundaries at that
    revision (with boundaries a field's district is placed from them, which
    needs the geometry).  The rows are read in one transaction, so they and
    the revision they describe agree.

    Parameters
    ----------
    path
        A GeoPackage file.
    timeout_s
        How long to wait for a lock another process holds before giving up
        (and returning ``None``).
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        # Read-only: this path never creates, rolls back or repairs anything.
        conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True,
                               timeout=timeout_s, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        conn.execute("BEGIN")
        return _read_if_current(conn)
    except (sqlite3.Error, ValueError, TypeError):
        return None
    finally:
        conn.close()


def _read_if_current(conn: sqlite3.Connection) -> pd.DataFrame | None:
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    if not {"gpkg_metadata", "revisions", "crossref"} <= names:
        return None
    row = conn.execute(
        "SELECT metadata FROM gpkg_metadata WHERE md_standard_uri = ? ORDER BY id LIMIT 1",
        (METADATA_URI,)).fetchone()
    doc = json.loads(row[0]) if row else {}
    if int(doc.get("minemap_store_schema", 0)) != SCHEMA_VERSION:
        return None
    (latest,) = conn.execute("SELECT COALESCE(MAX(revision), 0) FROM revisions").fetchone()
    if not latest or int(doc.get("crossref_revision", 0)) != int(latest):
        return None
    if "history_districts" in names:
        (n,) = conn.execute(
            "SELECT COUNT(*) FROM history_districts WHERE rev_from <= ?"
            " AND (rev_to IS NULL OR rev_to > ?)", (latest, latest)).fetchone()
        if n:
            return None
    cols = ", ".join(f'"{c}"' for c in schema.CROSSREF_COLUMNS)
    rows = conn.execute(f"SELECT {cols} FROM crossref ORDER BY fid").fetchall()
    return crossref_frame(rows)
