"""Remaining hazard: each field minus its released land (DESIGN §12).

The polygon a task order needs, with the by-minefield figures beside it
(status, counts, mine types, ``remaining_est``).  Released land is the union
of the releases (every outcome) dated by the as-of date, as in the crossref.
"""

from __future__ import annotations

import datetime as _dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minemap.crossref._common import (
    RELEASED,
    _as_of_text,
    _dated_mask,
    _empty,
    _floats,
    _geoms,
    _text,
    _valid,
)
from minemap.crossref.minefields import crossref_minefields
from minemap.geo.geometry import area_ha

__all__ = ["REMAINING_COLUMNS", "remaining_hazard"]

#: Columns of :func:`remaining_hazard` (then ``geometry``).
REMAINING_COLUMNS: tuple[str, ...] = (
    "record_id", "handover", "district", "mines_ap", "mines_at", "mines_total", "mine_types",
    "found_mines", "remaining_est", "status", "area_ha", "released_ha", "remaining_ha",
    "last_release_date", "flags",
)


def _released_parts(fields_ll: np.ndarray, rel_ll: np.ndarray) -> np.ndarray:
    """The union of the releases meeting each field (empty where none)."""
    out = np.full(len(fields_ll), shapely.Polygon(), dtype=object)
    if len(rel_ll) == 0 or len(fields_ll) == 0:
        return out
    fi, ri = shapely.STRtree(rel_ll).query(fields_ll, predicate="intersects")
    order = np.argsort(fi, kind="stable")
    fi, ri = fi[order], ri[order]
    starts = np.flatnonzero(np.r_[True, fi[1:] != fi[:-1]])
    for a, b in zip(starts, np.r_[starts[1:], len(fi)]):
        out[fi[a]] = shapely.union_all(rel_ll[ri[a:b]])
    return out


def remaining_hazard(
    fields: pd.DataFrame,
    releases: pd.DataFrame | None,
    items: pd.DataFrame | None,
    *,
    as_of: _dt.date | str | None = None,
    table: pd.DataFrame | None = None,
    include_released: bool = False,
) -> gpd.GeoDataFrame:
    """Each field minus its released land, with its crossref figures.

    Parameters
    ----------
    fields, releases, items
        As for :func:`minemap.crossref.crossref_minefields`.
    as_of
        Keep releases with ``date_end`` ≤ this date (and items dated ≤ it).
    table
        The by-minefield crossref of the same inputs, if already computed
        (rows matched by ``handover`` and ``record_id``); computed when None.
    include_released
        Keep the fields whose status is ``released`` (their remainder is
        empty or a sliver); by default only fields with hazard left.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`REMAINING_COLUMNS` and the remaining polygon (EPSG:4326).
        ``remaining_ha`` is the geodesic area of that polygon.
    """
    day = _as_of_text(as_of)
    if table is None:
        table = crossref_minefields(fields, releases, items, as_of=day)
    f_ll = _valid(_geoms(fields))
    if _empty(releases):
        rel = np.empty(0, dtype=object)
    else:
        rel = _valid(_geoms(releases)[_dated_mask(releases, "date_end", day)])
        rel = rel[~shapely.is_missing(rel)]
    rest = shapely.difference(f_ll, _released_parts(f_ll, rel))
    key = pd.MultiIndex.from_arrays([_text(table, "handover"), _text(table, "record_id")])
    pos = key.get_indexer(pd.MultiIndex.from_arrays([_text(fields, "handover"),
                                                     _text(fields, "record_id")]))
    if (pos < 0).any():
        raise ValueError("table= lacks rows for some fields")
    t = table.iloc[pos].reset_index(drop=True)
    out = pd.DataFrame({
        "record_id": _text(fields, "record_id"), "handover": _text(fields, "handover"),
        "district": _text(t, "district"),
        "mines_ap": np.nan_to_num(_floats(fields, "mines_ap")).astype(np.int64),
        "mines_at": np.nan_to_num(_floats(fields, "mines_at")).astype(np.int64),
        "mines_total": np.nan_to_num(_floats(fields, "mines_total")).astype(np.int64),
        "mine_types": _text(fields, "mine_types"),
        "found_mines": _floats(t, "found_mines"), "remaining_est": _floats(t, "remaining_est"),
        "status": _text(t, "status"), "area_ha": _floats(t, "area_ha"),
        "released_ha": _floats(t, "released_ha"), "remaining_ha": area_ha(rest),
        "last_release_date": _text(t, "last_release_date"), "flags": _text(t, "flags"),
    })
    out["geometry"] = rest
    if not include_released:
        out = out[out["status"] != RELEASED].reset_index(drop=True)
    return gpd.GeoDataFrame(out[[*REMAINING_COLUMNS, "geometry"]], geometry="geometry",
                            crs="EPSG:4326")
