"""Crossref by minefield (DESIGN §5): released and cleared land, finds, status.

Pure function of (minefields, releases, items, as-of date) → one row per
field.  The overlay is :mod:`minemap.crossref.overlay`; the status rule is
:mod:`minemap.crossref.status`; fields are processed in chunks, in forked
workers for large inputs (:mod:`minemap.crossref.parallel`).  Areas are
geodesic hectares (:func:`minemap.geo.geometry.area_ha`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minemap.crossref._common import (
    RELEASED,
    _as_of_text,
    _dated_mask,
    _dates,
    _empty,
    _floats,
    _geoms,
    _item_types,
    _join_flags,
    _positions,
    _sliver_settings,
    _text,
    _valid,
)
from minemap.crossref.overlay import (
    _covers_box,
    _last_dates,
    _Merged,
    _pairs,
    date_ranks,
    real_overlap,
)
from minemap.crossref.parallel import run_chunks
from minemap.crossref.status import _classify
from minemap.geo.geometry import area_ha
from minemap.records.schema import CROSSREF_COLUMNS

__all__ = ["Overlaps", "affected_fields", "crossref_minefields"]


class Overlaps(NamedTuple):
    """The releases a crossref counted as each field's released land.

    Attributes
    ----------
    whole
        Per selected field: a release contains it, so all of it is released.
    field, release
        Each other (field, release) pair whose overlap is released land:
        the field's position among the selected fields and the release's
        row position in the ``releases`` frame given.  Releases that only
        touch a field, or overlap it in edge noise, are not listed.
    """

    whole: np.ndarray
    field: np.ndarray
    release: np.ndarray


def _minefield_chunk(s: dict[str, Any], pos: np.ndarray) -> dict[str, np.ndarray]:
    f = s["fields"][pos]
    # Prepared before the query, which then uses them rather than preparing
    # each field for itself; the containment test needs them too.
    shapely.prepare(f)
    try:
        return _chunk(s, pos, f)
    finally:
        # A prepared geometry keeps the indexes its tests built for as long as
        # it lives, which is the whole crossref: dropped chunk by chunk, they
        # are a chunk's memory instead of the input's.
        shapely.destroy_prepared(f)


def _chunk(s: dict[str, Any], pos: np.ndarray, f: np.ndarray) -> dict[str, np.ndarray]:
    n = len(f)
    rel = s["rel"]
    fa = np.nan_to_num(area_ha(f))
    fb = shapely.bounds(f)
    fi, ri, cont = _pairs(f, s["tree"], rel, fb, s["rel_bounds"])
    # Likewise the indexes the containment test built for the releases: a
    # fresh preparation drops them.  Chunks are runs of neighbouring fields
    # (:func:`_spatial_order`), so few releases are tested again later.
    used = rel[np.unique(ri)]
    shapely.destroy_prepared(used)
    shapely.prepare(used)
    cleared = s["cleared"][ri]
    appo_count = s["apportion"][ri]
    full = np.zeros(n, dtype=bool)
    full[fi[cont]] = True
    full_c = np.zeros(n, dtype=bool)
    full_c[fi[cont & cleared]] = True

    # Which pairs need their clipped piece: those of fields not wholly
    # released (for released_ha), cleared ones of fields not wholly cleared
    # (for cleared_ha), and apportioned ones (for the overlap share).
    need = ~cont & (~full[fi] | (cleared & ~full_c[fi]) | (appo_count > 0))
    pieces = np.empty(len(fi), dtype=object)
    idx = np.flatnonzero(need)
    if len(idx):
        # A release lying inside the field is its own piece: no intersection.
        # Only a release whose box the field's box covers can lie inside it.
        inside = _covers_box(fb[fi[idx]], s["rel_bounds"][ri[idx]])
        inside[inside] = shapely.contains_properly(f[fi[idx[inside]]], rel[ri[idx[inside]]])
        pieces[idx[inside]] = rel[ri[idx[inside]]]
        cut = idx[~inside]
        pieces[cut] = shapely.intersection(f[fi[cut]], rel[ri[cut]])
    overlap_ha = np.where(cont, fa[fi], 0.0)
    overlap_ha[idx] = area_ha(pieces[idx])
    # Pieces of releases that merely share an edge with the field have a
    # float-noise area; they are not released land and carry no finds.
    positive = overlap_ha > 0
    positive[idx] = real_overlap(pieces[idx], overlap_ha[idx])
    overlap_ha[~positive] = 0.0

    m_rel = need & positive & ~full[fi]
    rel_m = _Merged(f, fa, full, fi[m_rel], pieces[m_rel], overlap_ha[m_rel])

    # Fields whose every release is a clearance: cleared == released.
    mixed = np.zeros(n, dtype=bool)
    mixed[fi[~cleared & (cont | positive | ~need)]] = True
    clr_ha = np.where(mixed, 0.0, rel_m.ha)
    m_clr = need & positive & cleared & ~full_c[fi] & mixed[fi]
    if mixed.any():
        clr_m = _Merged(f, fa, full_c, fi[m_clr], pieces[m_clr], overlap_ha[m_clr])
        clr_ha[mixed] = clr_m.ha[mixed]

    status = _classify(
        f, fa, rel_m.ha, rel_m.geoms, sliver_m=s["sliver_m"], sliver_share=s["sliver_share"]
    )

    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(s["rel_ha"][ri] > 0, overlap_ha / s["rel_ha"][ri], 0.0)
    appo = np.bincount(
        fi, weights=appo_count * np.minimum(share, 1.0), minlength=n
    ).astype(float)

    last = s["date_text"][
        _last_dates(f, rel, fi, ri, cont | positive, ~need & ~cont, s["date_rank"][ri], n)
    ]
    out = {
        "pos": pos,
        "area_ha": fa,
        "released_ha": np.minimum(rel_m.ha, fa),
        # Cleared land is part of the released land; the two unions can differ
        # in the last digits where one has extra vertices on an edge.
        "cleared_ha": np.minimum(np.minimum(clr_ha, rel_m.ha), fa),
        "apportioned": appo,
        "last": last,
        "status": status,
    }
    if s["keep_overlaps"]:
        out["whole"] = full
        out["pair_field"] = pos[fi[m_rel]]
        out["pair_release"] = s["rel_rows"][ri[m_rel]]
    return out


def _spatial_order(geoms: np.ndarray) -> np.ndarray:
    """Positions of ``geoms`` along a Hilbert curve; empty or missing ones last.

    Neighbouring fields share releases, so chunks of fields taken in this
    order each test mostly their own releases.
    """
    ok = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms))
    order = np.arange(len(geoms))
    if len(ok) > 1:
        distance = gpd.GeoSeries(geoms[ok]).hilbert_distance()
        order = np.concatenate([ok[np.argsort(distance.to_numpy(), kind="stable")],
                                np.setdiff1d(order, ok)])
    return order


def _release_inputs(
    releases: pd.DataFrame | None,
    items: pd.DataFrame | None,
    as_of: str | None,
) -> dict[str, np.ndarray]:
    """Release arrays after the as-of filter, with what each contributes."""
    if _empty(releases):
        rel = pd.DataFrame({"report_id": [], "outcome": [], "date_end": []})
        geoms = np.empty(0, dtype=object)
        rows = np.zeros(0, dtype=np.int64)
    else:
        keep = _dated_mask(releases, "date_end", as_of)
        rel = releases.loc[keep]
        geoms = _geoms(rel)
        rows = np.flatnonzero(keep)
    outcome = np.char.lower(np.char.strip(_text(rel, "outcome").astype(str)))
    # DESIGN §5: the outcome defaults to cleared on import; an empty one here
    # is treated the same way.
    cleared = (outcome == "cleared") | (outcome == "")
    named: dict[str, set] = {"AP": set(), "AT": set()}
    if not _empty(items):
        keep_items = _dated_mask(items, "date", as_of)
        kinds = _item_types(items)[keep_items]
        ids = _text(items.loc[keep_items], "report_id")
        for kind in named:
            named[kind] = set(ids[kinds == kind]) - {""}
    rid = _text(rel, "report_id")
    # A release's AP count stands in for AP points only when no AP point names
    # the release (likewise AT): the points, where recorded, are the finds.
    apportion = np.zeros(len(rel))
    for kind, column in (("AP", "found_ap"), ("AT", "found_at")):
        count = _floats(rel, column)
        unnamed = np.fromiter((r not in named[kind] for r in rid), dtype=bool, count=len(rid))
        apportion += np.where(unnamed & ~np.isnan(count), np.nan_to_num(count), 0.0)
    return {
        "geoms": geoms,
        "cleared": cleared.astype(bool),
        "date": _dates(rel, "date_end"),
        "apportion": apportion,
        "rows": rows,
    }


def _found_in_fields(fields_ll: np.ndarray, items: pd.DataFrame | None, as_of: str | None):
    """Number of AP+AT item points inside (or on the edge of) each field."""
    n = len(fields_ll)
    if _empty(items) or n == 0:
        return np.zeros(n)
    keep = _dated_mask(items, "date", as_of) & np.isin(_item_types(items), ["AP", "AT"])
    pts = _geoms(items)[keep]
    pts = pts[~shapely.is_missing(pts)]
    if len(pts) == 0:
        return np.zeros(n)
    tree = shapely.STRtree(fields_ll)
    _, fi = tree.query(pts, predicate="intersects")
    return np.bincount(fi, minlength=n).astype(float)


def _candidate_releases(fields_ll: np.ndarray, rel_geoms: np.ndarray) -> np.ndarray:
    """Releases whose envelope meets a selected field's envelope."""
    if len(fields_ll) == 0 or len(rel_geoms) == 0:
        return np.zeros(0, dtype=np.int64)
    tree = shapely.STRtree(fields_ll)
    ri, _ = tree.query(rel_geoms)
    return np.unique(ri)


def crossref_minefields(
    fields: pd.DataFrame,
    releases: pd.DataFrame | None,
    items: pd.DataFrame | None,
    *,
    as_of: _dt.date | str | None = None,
    sliver_m: float | None = None,
    sliver_share: float | None = None,
    only: Any = None,
    n_jobs: int | None = None,
    progress: Callable[[int, int], Any] | None = None,
    return_overlaps: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, Overlaps]:
    """Crossref by minefield (DESIGN §5).

    Parameters
    ----------
    fields
        Minefields (``schema.MINEFIELD_COLUMNS`` + geometry, EPSG:4326).
    releases
        Land-release polygons (``schema.RELEASE_COLUMNS`` + geometry), or None.
    items
        Found items (``schema.ITEM_COLUMNS`` + point geometry), or None.
    as_of
        Keep releases with ``date_end`` ≤ this date and items dated ≤ it.
    sliver_m, sliver_share
        Sliver thresholds of the status rule (settings when None).
    only
        Positional indices or a boolean mask of the fields to compute (for an
        incremental refresh, e.g. :func:`affected_fields`); all when None.
    n_jobs
        Worker processes (default: the usable CPUs).  Small inputs, and
        platforms without ``fork``, run in-process.
    progress
        Called as ``progress(n_done, n_total)`` as chunks of fields finish.
    return_overlaps
        Also return which releases the crossref counted as each field's
        released land (:class:`Overlaps`), for
        :mod:`minemap.crossref.remaining` to subtract exactly those.

    Returns
    -------
    pandas.DataFrame or (pandas.DataFrame, Overlaps)
        Columns exactly ``schema.CROSSREF_COLUMNS``, one row per selected
        field in the fields' order, indexed like ``fields``; with
        ``return_overlaps``, also the :class:`Overlaps`.

    Notes
    -----
    A release's ``found_ap`` is apportioned to each field it overlaps, by
    overlap area / release area, when no AP item point (dated ≤ as-of) names
    its ``report_id``; ``found_at`` likewise with AT points.  Fields that get
    a positive apportioned count are flagged ``apportioned``.
    """
    m, share = _sliver_settings(sliver_m, sliver_share)
    day = _as_of_text(as_of)
    pos = _positions(only, len(fields))
    sub = fields.iloc[pos]
    f_ll = _valid(_geoms(sub))

    r = _release_inputs(releases, items, day)
    cand = _candidate_releases(f_ll, r["geoms"]) if len(pos) < len(fields) else None
    if cand is not None:
        r = {k: v[cand] for k, v in r.items()}
    rel = _valid(r["geoms"])
    rel = np.where(shapely.is_missing(rel), shapely.Polygon(), rel)
    rel_ha = np.zeros(len(rel))
    ap = r["apportion"] > 0
    if ap.any():
        rel_ha[ap] = area_ha(rel[ap])
    shapely.prepare(rel)
    rank, text = date_ranks(r["date"])
    state = {
        "fields": f_ll,
        "rel": rel,
        "tree": shapely.STRtree(rel),
        "rel_bounds": shapely.bounds(rel),
        "cleared": r["cleared"],
        "date_rank": rank,
        "date_text": text,
        "apportion": r["apportion"],
        "rel_ha": rel_ha,
        "sliver_m": m,
        "sliver_share": share,
        "keep_overlaps": return_overlaps,
        "rel_rows": r["rows"],
    }
    parts = run_chunks(_minefield_chunk, len(pos), state=state, n_jobs=n_jobs,
                       progress=progress, order=_spatial_order(f_ll))
    n = len(pos)
    cols: dict[str, np.ndarray] = {}
    for key, dtype in (
        ("area_ha", float), ("released_ha", float), ("cleared_ha", float),
        ("apportioned", float), ("last", object), ("status", object),
    ):
        cols[key] = np.empty(n, dtype=dtype)
        for p in parts:
            cols[key][p["pos"]] = p[key]

    found = _found_in_fields(f_ll, items, day) + cols["apportioned"]
    area = cols["area_ha"]
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_pct = np.where(area > 0, 100.0 * cols["released_ha"] / area, 0.0)
        clr_pct = np.where(area > 0, 100.0 * cols["cleared_ha"] / area, 0.0)
    total = _floats(sub, "mines_total")
    total = np.nan_to_num(total)
    status = cols["status"]
    remaining = np.where(
        status == RELEASED, 0.0,
        np.maximum(total - found, total * (1.0 - rel_pct / 100.0)),
    )
    flags = _join_flags(
        _text(sub, "flags"),
        [
            ("found_exceeds_recorded", found > total),
            ("released_far_below_recorded", (status == RELEASED) & (found < total / 2.0)),
            ("apportioned", cols["apportioned"] > 0),
        ],
    )
    out = pd.DataFrame(
        {
            "record_id": _text(sub, "record_id"),
            "handover": _text(sub, "handover"),
            "district": _text(sub, "district"),
            "mines_total": total.astype(np.int64),
            "area_ha": area,
            "released_ha": cols["released_ha"],
            "released_pct": rel_pct,
            "cleared_ha": cols["cleared_ha"],
            "cleared_pct": clr_pct,
            "found_mines": found,
            "remaining_est": remaining,
            "status": status,
            "last_release_date": cols["last"],
            "flags": flags,
        },
        index=sub.index,
    )
    out = out[list(CROSSREF_COLUMNS)]
    if not return_overlaps:
        return out
    whole = np.zeros(n, dtype=bool)
    for p in parts:
        whole[p["pos"]] = p["whole"]
    return out, Overlaps(whole, np.concatenate([p["pair_field"] for p in parts]),
                         np.concatenate([p["pair_release"] for p in parts]))


def affected_fields(fields: pd.DataFrame, geoms: Any) -> np.ndarray:
    """Positions of fields that intersect any of ``geoms``.

    Parameters
    ----------
    fields
        Minefields (GeoDataFrame, EPSG:4326).
    geoms
        Geometries that changed: release polygons and item points, at their
        old and new positions.  For an item whose ``report_id`` changed, or
        a release whose counts changed, pass the release polygon too: its
        apportioned counts move with it.  None entries are ignored.

    Returns
    -------
    numpy.ndarray
        Sorted unique positional indices into ``fields``.
    """
    g = np.asarray(
        list(geoms.values) if isinstance(geoms, pd.Series) else list(geoms), dtype=object
    ).ravel()
    g = g[~shapely.is_missing(g)] if len(g) else g
    f = _geoms(fields)
    if len(g) == 0 or len(f) == 0:
        return np.zeros(0, dtype=np.int64)
    tree = shapely.STRtree(_valid(f))
    _, fi = tree.query(_valid(g), predicate="intersects")
    return np.unique(fi).astype(np.int64)
