"""The materialised crossref as it is stored, without the geometry stack (issue 14).

:func:`minemap.crossref` (``by="minefield"``, ``geometry=False``) returns the
stored table when it is current; finding that out through the store backends
imports geopandas, shapely and pyproj, which cost more than reading and
writing the table itself.  :func:`stored_crossref` answers the same question
with SQLite and pandas only, and says ``None`` whenever the full path
is needed.
"""

from __future__ import annotations

import os

import pandas as pd

from minemap.records import schema
from minemap.store.gpkg_table import current_crossref, default_store_path


def stored_crossref(store: str | os.PathLike | None = None) -> pd.DataFrame | None:
    """The minefield crossref of the latest revision as stored, or ``None``.

    Equal to ``minemap.crossref(store, geometry=False)`` whenever it is not
    ``None``: the store is a GeoPackage whose materialised table describes its
    latest revision and which holds no district boundaries.  ``None`` for
    anything else (a PostGIS URL, no store yet, a stale table, boundaries, a
    lock): call :func:`minemap.crossref`, which computes the table or says
    what is wrong.

    Parameters
    ----------
    store
        A GeoPackage path; ``None`` means ``$MINEMAP_STORE``, else
        ``minemap.gpkg`` in the current folder.

    Returns
    -------
    DataFrame or None
        The columns of ``schema.CROSSREF_COLUMNS``, one row per field.
    """
    if store is not None and not isinstance(store, (str, os.PathLike)):
        return None  # a store object: its own backend answers
    if store is None or str(store) == "":
        store = os.environ.get("MINEMAP_STORE") or None
    if store is not None and "://" in str(store):
        return None
    from minemap import settings

    table = current_crossref(default_store_path(store), timeout_s=settings.lock_timeout_s)
    if table is None:
        return None
    return pd.DataFrame(table[list(schema.CROSSREF_COLUMNS)])
