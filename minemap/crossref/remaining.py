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
    _floats,
    _geoms,
    _text,
    _valid,
)
from minemap.crossref.minefields import Overlaps, crossref_minefields
from minemap.crossref.overlay import union_runs
from minemap.crossref.placing import place_frame
from minemap.geo.geometry import area_ha
from minemap.records import schema

__all__ = ["REMAINING_COLUMNS", "fields_with_crossref", "in_order", "remaining_hazard",
           "remaining_layer"]

#: Columns of :func:`remaining_hazard` (then ``geometry``).
REMAINING_COLUMNS: tuple[str, ...] = tuple(schema.REMAINING_TYPES)

_KEY = ["handover", "record_id"]


def _remainders(fields_ll: np.ndarray, releases: pd.DataFrame | None, overlaps: Overlaps,
                keep: np.ndarray) -> np.ndarray:
    """Each kept field minus the releases its crossref counted as released land.

    The field minus the union of those releases, one union and one
    difference a field, vectorised over the fields.  Whole releases are
    subtracted, not the clipped pieces the crossref measured: a piece shares
    the field's edges only to rounding, and subtracting it leaves zero-width
    spikes along them.  Nor one release after another: each difference
    re-nodes the edges the last one cut, and releases lying along a cut leave
    slivers there.  A field inside a release leaves nothing.
    """
    rest = np.asarray(fields_ll, dtype=object).copy()
    rest[overlaps.whole & keep] = shapely.MultiPolygon()
    sel = keep[overlaps.field]
    fi, ri = overlaps.field[sel], overlaps.release[sel]
    if len(fi) == 0:
        return rest
    used, ri = np.unique(ri, return_inverse=True)
    rel_ll = _valid(_geoms(releases)[used])
    order = np.lexsort((ri, fi))
    fi, ri = fi[order], ri[order]
    starts = np.r_[0, np.flatnonzero(np.diff(fi)) + 1]
    owners = fi[starts]
    counts = np.diff(np.r_[starts, len(fi)])
    released = union_runs(rel_ll[ri], starts, counts)
    rest[owners] = shapely.difference(rest[owners], released)
    return rest


def remaining_hazard(
    fields: pd.DataFrame,
    releases: pd.DataFrame | None,
    items: pd.DataFrame | None,
    *,
    as_of: _dt.date | str | None = None,
    table: pd.DataFrame | None = None,
    include_released: bool = False,
    overlaps: Overlaps | None = None,
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
    overlaps
        The releases counted as each field's released land, as
        ``crossref_minefields(..., return_overlaps=True)`` gives them for the
        same fields and releases; computed when None.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`REMAINING_COLUMNS` and the remaining polygon (EPSG:4326).
        ``remaining_ha`` is the geodesic area of that polygon.
    """
    day = _as_of_text(as_of)
    if table is None or overlaps is None:
        computed, found = crossref_minefields(fields, releases, items, as_of=day,
                                              return_overlaps=True)
        table = computed if table is None else table
        overlaps = found if overlaps is None else overlaps
    if len(overlaps.whole) != len(fields):
        raise ValueError("overlaps= is not of these fields")
    f_ll = _valid(_geoms(fields))
    key = pd.MultiIndex.from_arrays([_text(table, "handover"), _text(table, "record_id")])
    pos = key.get_indexer(pd.MultiIndex.from_arrays([_text(fields, "handover"),
                                                     _text(fields, "record_id")]))
    if (pos < 0).any():
        raise ValueError("table= lacks rows for some fields")
    t = table.iloc[pos].reset_index(drop=True)
    keep = np.ones(len(fields), dtype=bool) if include_released else (
        _text(t, "status") != RELEASED)
    rest = _remainders(f_ll, releases, overlaps, keep)
    out = pd.DataFrame({
        "record_id": _text(fields, "record_id"), "handover": _text(fields, "handover"),
        "district": _text(t, "district"),
        "mines_ap": np.nan_to_num(_floats(fields, "mines_ap")).astype(np.int64),
        "mines_at": np.nan_to_num(_floats(fields, "mines_at")).astype(np.int64),
        "mines_total": np.nan_to_num(_floats(fields, "mines_total")).astype(np.int64),
        "mine_types": _text(fields, "mine_types"),
        "found_mines": _floats(t, "found_mines"), "remaining_est": _floats(t, "remaining_est"),
        "status": _text(t, "status"), "area_ha": _floats(t, "area_ha"),
        "released_ha": _floats(t, "released_ha"),
        "last_release_date": _text(t, "last_release_date"), "flags": _text(t, "flags"),
    })[keep]
    rest = rest[keep]
    out["remaining_ha"] = area_ha(rest)
    out["geometry"] = _multipolygons(rest)
    return in_order(gpd.GeoDataFrame(out[[*REMAINING_COLUMNS, "geometry"]],
                                     geometry="geometry", crs="EPSG:4326"))


def in_order(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Remaining rows by handover, then record id: a task order's list, on every path.

    The stored layer is rewritten a few fields at a time, so its rows are in
    no useful order; this one sort makes the stored and the computed layer
    the same frame.
    """
    keys = pd.DataFrame({"h": frame["handover"].astype(str).to_numpy(),
                         "r": frame["record_id"].astype(str).to_numpy()})
    order = keys.sort_values(["h", "r"], kind="stable").index.to_numpy()
    return frame.iloc[order].reset_index(drop=True)


def _multipolygons(geoms: np.ndarray) -> np.ndarray:
    """Every remainder as one MultiPolygon: the layer has one geometry type.

    A difference is polygonal, but a degenerate one can come back as a
    collection; only its polygons are hazard area.
    """
    out = np.asarray(geoms, dtype=object).copy()
    empty = shapely.is_empty(out)
    out[empty] = shapely.MultiPolygon()
    types = shapely.get_type_id(out)
    for i in np.flatnonzero(types == 7):
        parts = shapely.get_parts(shapely.get_parts(out[i]))
        out[i] = shapely.multipolygons(list(parts[shapely.get_type_id(parts) == 3]))
    single = np.flatnonzero(types == 3)
    if len(single):
        out[single] = shapely.multipolygons(out[single], indices=np.arange(len(single)))
    return out


def fields_with_crossref(
    fields: pd.DataFrame, table: pd.DataFrame, districts: pd.DataFrame | None = None
) -> gpd.GeoDataFrame:
    """Minefields joined with their by-minefield crossref row, placed in districts.

    The crossref's columns win over the field's own; with district
    boundaries, each field is in the district holding most of it and a
    contradicting attribute is flagged ``district_mismatch`` (DESIGN §12).
    The one join behind :func:`minemap.api.minefield_table` and the stored
    ``remaining`` layer.
    """
    extra = [c for c in table.columns if c not in _KEY]
    base = fields.drop(columns=[c for c in extra if c in fields.columns])
    merged = base.merge(pd.DataFrame(table), on=_KEY, how="left")
    merged = place_frame(merged, districts, flag=True)
    return gpd.GeoDataFrame(merged, geometry="geometry", crs="EPSG:4326")


def remaining_layer(
    fields: pd.DataFrame,
    releases: pd.DataFrame | None,
    table: pd.DataFrame,
    districts: pd.DataFrame | None = None,
    overlaps: Overlaps | None = None,
) -> gpd.GeoDataFrame:
    """The ``remaining`` layer of the latest state: :func:`remaining_hazard` of the
    fields joined with their crossref (:func:`fields_with_crossref`).

    Parameters
    ----------
    fields
        The fields to compute (all of them, or those a revision touched).
    releases
        Every release that meets any of those fields (more do no harm).
    table
        Their by-minefield crossref rows (every field has one).
    districts
        District boundaries, or None.
    overlaps
        From the same crossref run (``return_overlaps=True``); computed when
        None.
    """
    merged = fields_with_crossref(fields, table, districts)
    return remaining_hazard(merged, releases, None, table=merged, overlaps=overlaps)
