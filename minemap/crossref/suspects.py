"""Suspected hazard areas: finds and incidents beyond every map (DESIGN §13).

AP/AT finds and mine incidents that lie outside every recorded field and
farther than ``accuracy_buffer_m`` (ground metres) from all of them are
grouped by density, as DBSCAN does: a point with at least ``min_items``
points (itself included) within ``eps_m`` is a core point; core points
within ``eps_m`` of each other share a group, and other points within
``eps_m`` of a core point join its group.  Pairs come from one STRtree
``dwithin`` query on UTM coordinates; groups are the connected components
of the core points.  Each group becomes the convex hull of its points
buffered by ``suspect_buffer_m`` (50 m), for non-technical survey tasking.
"""

from __future__ import annotations

import datetime as _dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minemap import settings
from minemap._errors import UsageError
from minemap.crossref._common import (
    _as_of_text,
    _dates,
    _floats,
    _geoms,
    _item_types,
    _text,
    _valid,
)
from minemap.crossref.footprints import buffer_setting, present
from minemap.crossref.ground import (
    buffer_ground,
    centre_epsg,
    nearest_ground,
    project_one_zone,
    unproject_utm,
)
from minemap.crossref.handovers import dated_points
from minemap.geo.geometry import area_ha
from minemap.records import schema

__all__ = ["EPS_M", "MIN_ITEMS", "SUSPECT_COLUMNS", "dbscan_labels", "default_params",
           "suspected_areas"]

#: The grouping's defaults (``minemap suspects --eps-m 100 --min-items 3``): the
#: parameters of the store's ``suspects`` layer.
EPS_M = 100.0
MIN_ITEMS = 3

#: Columns of :func:`suspected_areas` (then ``geometry``).
SUSPECT_COLUMNS: tuple[str, ...] = tuple(schema.SUSPECT_TYPES)


def dbscan_labels(xy: np.ndarray, eps: float, min_items: int) -> np.ndarray:
    """DBSCAN group labels of planar points (``-1``: noise).

    Parameters
    ----------
    xy
        ``(n, 2)`` coordinates in metres.
    eps
        Neighbourhood radius (metres); points at exactly ``eps`` are neighbours.
    min_items
        Points (itself included) a core point needs within ``eps``.

    Returns
    -------
    numpy.ndarray
        Labels ``0 … k-1`` numbered by each group's first point, ``-1`` for noise.
    """
    n = len(xy)
    labels = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return labels
    pts = shapely.points(xy)
    a, b = shapely.STRtree(pts).query(pts, predicate="dwithin", distance=eps)
    core = np.bincount(a, minlength=n) >= min_items
    # Connected components of the core points: propagate the smallest index
    # along core-core pairs until nothing changes (vectorised min-label flood).
    cc = core[a] & core[b]
    ea, eb = a[cc], b[cc]
    comp = np.arange(n)
    while True:
        new = comp.copy()
        np.minimum.at(new, ea, comp[eb])
        new = new[new]  # pointer jumping: converges in O(log n) rounds
        if np.array_equal(new, comp):
            break
        comp = new
    # Border points join the group of the first core point near them.
    border = ~core[a] & core[b]
    owner = np.full(n, n, dtype=np.int64)
    np.minimum.at(owner, a[border], comp[b[border]])
    root = np.where(core, comp, np.where(owner < n, owner, -1))
    kept = root >= 0
    _, first = np.unique(root[kept], return_index=True)
    order = np.argsort(np.flatnonzero(kept)[first])
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(len(order))
    labels[kept] = ranks[np.unique(root[kept], return_inverse=True)[1]]
    return labels


def suspected_areas(
    fields: pd.DataFrame,
    items: pd.DataFrame | None,
    incidents: pd.DataFrame | None = None,
    *,
    eps_m: float = EPS_M,
    min_items: int = MIN_ITEMS,
    as_of: _dt.date | str | None = None,
    accuracy_buffer_m: float | None = None,
    buffer_m: float | None = None,
) -> gpd.GeoDataFrame:
    """Suspected hazard areas from finds and incidents beyond every map.

    Parameters
    ----------
    fields
        Minefields of every handover.
    items, incidents
        Found items (AP and AT points form groups; UXO points inside a
        group's polygon are counted) and mine incidents.
    eps_m, min_items
        The grouping's radius (metres) and core size (see module notes).
    as_of
        Keep items and incidents dated ≤ this date.
    accuracy_buffer_m
        Points within this many ground metres of a field are the maps'
        (``settings.accuracy_buffer_m`` when None).
    buffer_m
        Buffer of each group's hull (``settings.suspect_buffer_m``, 50 m).

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`SUSPECT_COLUMNS` and the polygon (EPSG:4326), one row per group,
        most items first.  ``nearest_m`` is ground metres from the group's
        points to the nearest recorded field.
    """
    if not eps_m > 0 or int(min_items) < 1:
        raise UsageError("--eps-m must be > 0 and --min-items at least 1")
    buf = buffer_setting(accuracy_buffer_m)
    grow = float(settings.suspect_buffer_m if buffer_m is None else buffer_m)
    day = _as_of_text(as_of)
    f_all = _valid(_geoms(fields))
    ok = present(f_all)

    i_pos, i_pts = dated_points(items, day, finds=True)
    n_pos, n_pts = dated_points(incidents, day, finds=False)
    pts = np.concatenate([i_pts, n_pts])
    is_inc = np.r_[np.zeros(len(i_pts), bool), np.ones(len(n_pts), bool)]
    far = ~in_footprint(pts, f_all[ok], buf)
    pts, is_inc = pts[far], is_inc[far]
    src = np.r_[i_pos, n_pos][far]
    empty = gpd.GeoDataFrame({c: [] for c in SUSPECT_COLUMNS}, geometry=[], crs="EPSG:4326")
    if len(pts) == 0:
        return empty
    epsg = centre_epsg(pts)
    xy = shapely.get_coordinates(project_one_zone(pts, epsg))
    labels = dbscan_labels(xy, float(eps_m), int(min_items))
    if (labels < 0).all():
        return empty

    kinds, dates, killed, injured = _attributes(items, incidents, src, is_inc)
    k = int(labels.max()) + 1
    hulls_utm = np.array([shapely.convex_hull(shapely.multipoints(xy[labels == g]))
                          for g in range(k)], dtype=object)
    polys = unproject_utm(shapely.buffer(hulls_utm, grow, quad_segs=16), np.full(k, epsg))
    hulls = unproject_utm(hulls_utm, np.full(k, epsg))
    uxo = _uxo_counts(items, day, polys, f_all[ok])
    near_i, near_m = nearest_ground(hulls, f_all[ok], epsg)
    ids, hos = _text(fields, "record_id")[ok], _text(fields, "handover")[ok]
    rows = []
    for g in range(k):
        m = labels == g
        d = sorted(x for x in dates[m] if x)
        rows.append({
            "found_ap": int((kinds[m] == "AP").sum()), "found_at": int((kinds[m] == "AT").sum()),
            "found_uxo": int(uxo[g]), "incidents": int(is_inc[m].sum()),
            "killed": int(killed[m].sum()), "injured": int(injured[m].sum()),
            "first_date": d[0] if d else "", "last_date": d[-1] if d else "",
            "nearest_record_id": ids[near_i[g]] if near_i[g] >= 0 else "",
            "nearest_handover": hos[near_i[g]] if near_i[g] >= 0 else "",
            "nearest_m": float(near_m[g]),
        })
    out = pd.DataFrame(rows)
    out["area_ha"] = area_ha(polys)
    out["geometry"] = polys
    size = out["found_ap"] + out["found_at"] + out["incidents"]
    out = out.iloc[np.lexsort((np.arange(k), -size.to_numpy()))].reset_index(drop=True)
    out.insert(0, "suspect_id", [f"S{i + 1}" for i in range(len(out))])
    return gpd.GeoDataFrame(out[[*SUSPECT_COLUMNS, "geometry"]], geometry="geometry",
                            crs="EPSG:4326")


def in_footprint(pts_ll: np.ndarray, fields_ll: np.ndarray, buffer_m: float) -> np.ndarray:
    """Mask of points in the footprint of all the fields (each buffered by ``buffer_m``).

    The same set as :func:`~minemap.crossref.footprints.footprint`'s union,
    tested without building it: only the fields within reach of a point (a
    bounding test in degrees, wide enough at the points' latitudes) are
    buffered on the ground, and a point is in the footprint when it is in
    one of their buffers.
    """
    pts_ll = np.asarray(pts_ll, dtype=object)
    out = np.zeros(len(pts_ll), dtype=bool)
    if len(pts_ll) == 0 or len(fields_ll) == 0:
        return out
    fields_ll = np.asarray(fields_ll, dtype=object)
    tree = shapely.STRtree(fields_ll)
    # Most finds lie in a field: they are in, without any buffer.
    out[np.unique(tree.query(pts_ll, predicate="intersects")[0])] = True
    rest = np.flatnonzero(~out)
    if buffer_m > 0 and len(rest):
        lat = float(np.abs(shapely.get_coordinates(pts_ll[rest])[:, 1]).max())
        # Degrees of longitude per ground metre are largest at the highest
        # latitude; with a margin for the fields' own extent in latitude.
        reach = 1.05 * buffer_m / (111_000.0 * np.cos(np.radians(min(lat + 1.0, 89.0))))
        pi, fi = tree.query(pts_ll[rest], predicate="dwithin", distance=reach)
        near = np.unique(fi)
        grown = np.empty(len(fields_ll), dtype=object)
        grown[near] = buffer_ground(fields_ll[near], buffer_m)
        out[rest[pi[shapely.intersects(grown[fi], pts_ll[rest][pi])]]] = True
    return out


def default_params() -> dict[str, float | int]:
    """The parameters of :func:`suspected_areas` with every default, as now set.

    The store's ``suspects`` layer is computed with these and tagged with
    them; it answers a request only while they still hold (a changed
    ``settings.accuracy_buffer_m`` makes it stale).
    """
    return {"eps_m": float(EPS_M), "min_items": int(MIN_ITEMS),
            "accuracy_buffer_m": buffer_setting(None),
            "suspect_buffer_m": float(settings.suspect_buffer_m)}


def _attributes(items, incidents, src: np.ndarray, is_inc: np.ndarray) -> tuple:
    """(kind, date, killed, injured) of each point: ``AP``/``AT`` or ``INC``."""
    n = len(src)
    kinds = np.full(n, "INC", dtype=object)
    dates = np.full(n, "", dtype=object)
    killed, injured = np.zeros(n), np.zeros(n)
    if (~is_inc).any():
        it = items.iloc[src[~is_inc]]
        kinds[~is_inc] = _item_types(it)
        dates[~is_inc] = _dates(it, "date")
    if is_inc.any():
        inc = incidents.iloc[src[is_inc]]
        dates[is_inc] = _dates(inc, "date")
        killed[is_inc] = np.nan_to_num(_floats(inc, "killed"))
        injured[is_inc] = np.nan_to_num(_floats(inc, "injured"))
    return kinds, dates, killed, injured


def _uxo_counts(items, day, polys: np.ndarray, fields_ll: np.ndarray) -> np.ndarray:
    """UXO points in each polygon and outside every field."""
    out = np.zeros(len(polys), dtype=np.int64)
    if items is None or len(items) == 0:
        return out
    pos, pts = dated_points(items, day, finds=False)
    pts = pts[_item_types(items.iloc[pos]) == "UXO"]
    if len(pts) == 0:
        return out
    if len(fields_ll):
        hit, _ = shapely.STRtree(fields_ll).query(pts, predicate="intersects")
        pts = np.delete(pts, np.unique(hit))
    _, gi = shapely.STRtree(polys).query(pts, predicate="intersects")
    np.add.at(out, gi, 1)
    return out
