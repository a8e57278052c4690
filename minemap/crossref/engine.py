"""Cross-reference of minefield records with land release, finds and reports.

Pure functions: frames in, frames out (DESIGN §4 "Crossref").  Nothing here
reads or writes the store, and nothing imports click or folium.

Method (see ``docs/crossref.md`` for the notes and benchmark figures):

* Pairs of (field, release) come from one STRtree over the release polygons,
  queried with the fields (``predicate="intersects"``).
* A release that properly contains a field (a prepared-geometry
  ``contains_properly`` test) releases all of it: no intersection is computed.
* Otherwise the field is clipped by each release (vectorised
  ``shapely.intersection``).  The released part of a field is the **union**
  of its clipped pieces, never their sum, so overlapping releases are not
  double counted.  When the pieces of a field do not overlap each other (their
  interiors are disjoint, tested with a bounding-box filter and
  ``relate_pattern``), the sum of their areas *is* the area of their union and
  no union is computed.  Where a union is needed it is taken per field with a
  vectorised ``union_all`` over a padded array.
* Fields are processed in chunks over ``n_jobs`` forked worker processes.
* Areas are geodesic hectares (:func:`minemap.geo.geometry.area_ha`).
* The hazard status (DESIGN §1) is decided in one place, :func:`_classify`,
  which also backs the public :func:`minefield_status`.  The sliver test
  (negative buffer of ``sliver_m / 2``) runs in each field's UTM zone and only
  for fields whose released part or unreleased remainder is small enough
  (at most ``sliver_share``) to be a sliver at all.
"""

from __future__ import annotations

import datetime as _dt
import multiprocessing
import os
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import Geod, Transformer

from minemap import settings
from minemap._errors import UsageError
from minemap.geo.crs import utm_epsg
from minemap.geo.districts import normalise
from minemap.geo.geometry import area_ha, polygonal
from minemap.records.schema import CROSSREF_COLUMNS, HANDOVER_COLUMNS

__all__ = [
    "DISTRICT_COLUMNS",
    "RECONCILE_COLUMNS",
    "TIMELINE_COLUMNS",
    "affected_fields",
    "crossref_districts",
    "crossref_handovers",
    "crossref_minefields",
    "minefield_status",
    "reconcile_reports",
    "status_timeline",
]

#: Columns of :func:`crossref_districts`.
DISTRICT_COLUMNS: tuple[str, ...] = (
    "district", "minefields", "mines_recorded", "area_ha", "released_ha", "cleared_ha",
    "found_ap", "found_at", "found_uxo", "remaining_est",
    "period_released_ha", "period_cleared_ha", "period_found_ap", "period_found_at",
    "period_found_uxo", "reported_ha", "reported_ap", "reported_at", "reported_uxo",
    "diff_released_ha", "diff_cleared_ha", "diff_ap", "diff_at", "diff_uxo",
)

#: Columns of :func:`reconcile_reports`.
RECONCILE_COLUMNS: tuple[str, ...] = (
    "date_start", "date_end", "district", "released_ha", "cleared_ha",
    "found_ap", "found_at", "found_uxo", "reported_ha", "reported_ap", "reported_at",
    "reported_uxo", "diff_released_ha", "diff_cleared_ha", "diff_ap", "diff_at", "diff_uxo",
    "source_file",
)

#: Columns of :func:`status_timeline`.
TIMELINE_COLUMNS: tuple[str, ...] = ("handover", "record_id", "date", "status", "released_pct")

# Below this many selected fields the cost of forking workers outweighs the gain.
_MIN_PARALLEL = 4000

# A cumulative released area "grows" only by more than float noise of a union.
_GROWTH_REL = 1e-9
_GROWTH_ABS_HA = 1e-8

NOT_STARTED, IN_PROGRESS, RELEASED = "not_started", "in_progress", "released"


# ---------------------------------------------------------------------------
# small helpers


def _as_of_text(as_of: _dt.date | str | None) -> str | None:
    """The as-of date as ISO text (comparable with ISO date strings), or None."""
    if as_of is None or (isinstance(as_of, str) and not as_of.strip()):
        return None
    if isinstance(as_of, _dt.datetime):
        return as_of.date().isoformat()
    if isinstance(as_of, _dt.date):
        return as_of.isoformat()
    text = str(as_of).strip()
    try:
        return _dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise UsageError(f"invalid as-of date {as_of!r}: expected YYYY-MM-DD") from None


def _dates(frame: pd.DataFrame | None, column: str) -> np.ndarray:
    """ISO date texts (first 10 characters) of a column; "" where missing."""
    if frame is None or column not in frame.columns or len(frame) == 0:
        return np.full(0 if frame is None else len(frame), "", dtype=object)
    s = frame[column].astype("string").fillna("").str.strip().str.slice(0, 10)
    return s.to_numpy(dtype=object)


def _dated_mask(frame: pd.DataFrame | None, column: str, as_of: str | None) -> np.ndarray:
    """Rows dated on or before ``as_of`` (all rows when it is None).

    Undated rows are dropped when an as-of date is given: a release without a
    date cannot be shown to have happened by then, and leaving it out is the
    conservative choice (less land counted as released).
    """
    if frame is None:
        return np.zeros(0, dtype=bool)
    if as_of is None:
        return np.ones(len(frame), dtype=bool)
    d = _dates(frame, column)
    return (d != "") & (d <= as_of)


def _empty(frame: pd.DataFrame | None) -> bool:
    return frame is None or len(frame) == 0


def _geoms(frame: pd.DataFrame | None) -> np.ndarray:
    if _empty(frame):
        return np.empty(0, dtype=object)
    return np.asarray(frame.geometry.values, dtype=object)


def _valid(geoms: np.ndarray) -> np.ndarray:
    """Geometries GEOS can overlay: invalid ones repaired to their polygonal part.

    Readers repair fields already (keeping the ``self_intersecting`` flag);
    this guards the overlay against any invalid polygon that reaches it, which
    would otherwise raise a GEOS TopologyException mid-run.
    """
    geoms = np.asarray(geoms, dtype=object).copy()
    present = ~shapely.is_missing(geoms)
    bad = np.flatnonzero(present & ~shapely.is_valid(geoms))
    for i in bad:
        geoms[i] = polygonal(shapely.make_valid(geoms[i]))
    return geoms


def _text(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    return frame[column].astype("string").fillna("").to_numpy(dtype=object)


def _floats(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


def _item_types(items: pd.DataFrame) -> np.ndarray:
    return np.char.upper(np.char.strip(_text(items, "item_type").astype(str)))


def _positions(only: Any, n: int) -> np.ndarray:
    """Positional indices selected by ``only`` (None = all)."""
    if only is None:
        return np.arange(n)
    if isinstance(only, pd.Index):
        raise UsageError("only= takes positional indices or a boolean mask, not index labels")
    arr = np.asarray(only)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise UsageError(f"only= boolean mask has {arr.size} values for {n} fields")
        return np.flatnonzero(arr)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise UsageError("only= must hold positional integer indices or booleans")
    arr = np.unique(arr.astype(np.int64))
    if arr[0] < 0 or arr[-1] >= n:
        raise UsageError(f"only= index out of range for {n} fields")
    return arr


# ---------------------------------------------------------------------------
# UTM sliver test and the status rule


_GEOD = Geod(ellps="WGS84")


@lru_cache(maxsize=64)
def _to_ll_transformer(epsg: int) -> Transformer:
    return Transformer.from_crs(f"EPSG:{epsg}", "EPSG:4326", always_xy=True)


@lru_cache(maxsize=16)
def _to_utm_transformer(epsg: int) -> Transformer:
    return Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True)


_utm_epsg = utm_epsg  # the one UTM-zone rule (minemap.geo.crs)


def _project_utm(geoms: np.ndarray, epsg: np.ndarray) -> np.ndarray:
    """Each geometry projected into the UTM zone given for it."""
    out = np.empty(len(geoms), dtype=object)
    for code in np.unique(epsg):
        sel = np.flatnonzero(epsg == code)
        t = _to_utm_transformer(int(code))
        out[sel] = shapely.transform(
            geoms[sel], lambda xy, t=t: np.column_stack(t.transform(xy[:, 0], xy[:, 1]))
        )
    return out


def _field_utm_epsg(fields_ll: np.ndarray) -> np.ndarray:
    b = shapely.bounds(fields_ll)
    lon = np.nan_to_num((b[:, 0] + b[:, 2]) / 2)
    lat = np.nan_to_num((b[:, 1] + b[:, 3]) / 2)
    return _utm_epsg(lon, lat)


def _thin(parts_ll: np.ndarray, epsg: np.ndarray, sliver_m: float) -> np.ndarray:
    """True where no part of a geometry is wider than ``sliver_m`` metres.

    Tested, as DESIGN §1 says, with a negative buffer of ``sliver_m / 2`` in
    the field's UTM zone: a thin part vanishes.  Empty geometries are thin.
    """
    if len(parts_ll) == 0:
        return np.zeros(0, dtype=bool)
    utm = _project_utm(np.asarray(parts_ll, dtype=object), epsg)
    return shapely.is_empty(shapely.buffer(utm, -sliver_m / 2.0)) | shapely.is_missing(utm)


def _classify(
    fields_ll: np.ndarray,
    area: np.ndarray,
    released: np.ndarray,
    released_geoms: Callable[[np.ndarray], np.ndarray],
    *,
    sliver_m: float,
    sliver_share: float,
) -> np.ndarray:
    """The hazard status of fields (DESIGN §1) — the only place it is decided.

    Parameters
    ----------
    fields_ll
        Field polygons, lon/lat.
    area, released
        Field area and released area (hectares, same area function).
    released_geoms
        Called with positions; returns the released parts (lon/lat) of those
        fields.  Only fields whose released part or remainder is small enough
        to be a sliver need their geometry, so it is fetched lazily.
    sliver_m, sliver_share
        The sliver thresholds.

    Returns
    -------
    numpy.ndarray
        ``not_started`` when the released part is a sliver or empty,
        ``released`` when the unreleased remainder is a sliver or empty, else
        ``in_progress``.  A field whose released part and remainder are both
        slivers (only possible for a degenerate field of ~zero area) is
        ``not_started``: hazard is never closed by default.
    """
    n = len(area)
    status = np.full(n, IN_PROGRESS, dtype=object)
    if n == 0:
        return status
    area = np.nan_to_num(np.asarray(area, dtype=float))
    released = np.clip(np.nan_to_num(np.asarray(released, dtype=float)), 0.0, area)
    remainder = area - released
    small = sliver_share * area
    epsg = _field_utm_epsg(fields_ll)

    rel_empty = released <= 0.0
    rem_empty = (remainder <= 0.0) & ~rel_empty
    rel_cand = np.flatnonzero(~rel_empty & (released <= small))
    rem_cand = np.flatnonzero(~rem_empty & ~rel_empty & (remainder <= small))
    need = np.union1d(rel_cand, rem_cand)
    geoms = np.empty(n, dtype=object)
    if len(need):
        geoms[need] = released_geoms(need)

    rel_sliver = rel_empty.copy()
    if len(rel_cand):
        rel_sliver[rel_cand] = _thin(geoms[rel_cand], epsg[rel_cand], sliver_m)
    rem_sliver = rem_empty.copy()
    if len(rem_cand):
        rest = shapely.difference(fields_ll[rem_cand], geoms[rem_cand])
        rem_sliver[rem_cand] = _thin(rest, epsg[rem_cand], sliver_m)

    status[rem_sliver] = RELEASED
    status[rel_sliver] = NOT_STARTED
    return status


def minefield_status(
    fields: Any,
    released: Any,
    *,
    sliver_m: float | None = None,
    sliver_share: float | None = None,
) -> Any:
    """Hazard status of fields given their released parts (DESIGN §1).

    Parameters
    ----------
    fields
        A field polygon or an array of them (lon/lat, EPSG:4326).
    released
        The released part of each field (lon/lat), ``None`` or empty where
        nothing is released.  It is clipped to the field.
    sliver_m, sliver_share
        Sliver thresholds; ``settings.sliver_m`` / ``settings.sliver_share``
        when None.

    Returns
    -------
    str or numpy.ndarray
        ``"not_started"``, ``"in_progress"`` or ``"released"`` (an array for
        array input).
    """
    scalar = isinstance(fields, shapely.Geometry)
    f = _valid(np.atleast_1d(np.asarray(fields, dtype=object)))
    r = np.atleast_1d(np.asarray(released, dtype=object))
    r = np.where(shapely.is_missing(r), shapely.Polygon(), r)
    r = shapely.intersection(f, _valid(r))
    out = _classify(
        f, area_ha(f), area_ha(r), lambda idx: r[idx],
        sliver_m=settings.sliver_m if sliver_m is None else sliver_m,
        sliver_share=settings.sliver_share if sliver_share is None else sliver_share,
    )
    return str(out[0]) if scalar else out


# ---------------------------------------------------------------------------
# released part of each field: pairs, containment, pieces, per-field union


class _Merged:
    """Per-field union of clipped pieces, with areas; geometries on demand.

    Parameters
    ----------
    fields_ll, field_ha
        Field geometries and areas.
    full
        Fields released whole (a release contains them): their released part
        is the field itself and their pieces are ignored.
    owner, pieces, piece_ha
        Pieces with positive area: owning field position, geometry, area.
    """

    def __init__(
        self,
        fields_ll: np.ndarray,
        field_ha: np.ndarray,
        full: np.ndarray,
        owner: np.ndarray,
        pieces: np.ndarray,
        piece_ha: np.ndarray,
    ) -> None:
        n = len(fields_ll)
        keep = ~full[owner]
        order = np.argsort(owner[keep], kind="stable")
        self.owner = owner[keep][order]
        self.pieces = pieces[keep][order]
        piece_ha = piece_ha[keep][order]
        self.count = np.bincount(self.owner, minlength=n)
        self.start = np.concatenate([[0], np.cumsum(self.count)[:-1]]).astype(np.int64)
        # float: bincount of an empty array is an int array, whatever the weights.
        self.ha = np.bincount(self.owner, weights=piece_ha, minlength=n).astype(float)
        self.ha[full] = field_ha[full]
        self.geom = np.empty(n, dtype=object)
        self.geom[full] = fields_ll[full]
        single = np.flatnonzero(self.count == 1)
        self.geom[single] = self.pieces[self.start[single]]
        self._union_overlapping(fields_ll)

    def _union_overlapping(self, fields_ll: np.ndarray) -> None:
        multi = np.flatnonzero(self.count > 1)
        if len(multi) == 0:
            return
        # Pieces lie inside their field, so if their planar areas add up to
        # more than the field's they must overlap: no test needed.
        deg = np.bincount(self.owner, weights=shapely.area(self.pieces), minlength=len(self.count))
        surely = multi[deg[multi] > shapely.area(fields_ll[multi]) * (1 + 1e-9)]
        maybe = np.setdiff1d(multi, surely)
        need = [surely]
        if len(maybe):
            # Candidate pairs of pieces within a field: every i < j of the group.
            idx = np.flatnonzero(np.isin(self.owner, maybe))
            end = (self.start + self.count)[self.owner[idx]]
            partners = end - idx - 1
            a = np.repeat(idx, partners)
            offs = np.arange(len(a)) - np.repeat(np.cumsum(partners) - partners, partners)
            b = a + 1 + offs
            bx = shapely.bounds(self.pieces)
            boxes = (
                (bx[a, 0] < bx[b, 2]) & (bx[b, 0] < bx[a, 2])
                & (bx[a, 1] < bx[b, 3]) & (bx[b, 1] < bx[a, 3])
            )
            a, b = a[boxes], b[boxes]
            # Interiors meeting in an area: only then does summing double count.
            overlap = shapely.relate_pattern(self.pieces[a], self.pieces[b], "2********")
            need.append(np.unique(self.owner[a[overlap]]))
        need_all = np.unique(np.concatenate(need))
        if len(need_all) == 0:
            return
        self.geom[need_all] = self._union(need_all)
        self.ha[need_all] = area_ha(self.geom[need_all])

    def _union(self, fields: np.ndarray) -> np.ndarray:
        out = np.empty(len(fields), dtype=object)
        counts = self.count[fields]
        # Group by piece count so the padded 2-D array wastes little; the
        # union per row is then one vectorised GEOS call per group.
        for k in np.unique(counts):
            sel = np.flatnonzero(counts == k)
            rows = self.start[fields[sel]][:, None] + np.arange(k)[None, :]
            out[sel] = shapely.union_all(self.pieces[rows], axis=1)
        return out

    def geoms(self, fields: np.ndarray) -> np.ndarray:
        """Released parts of the given field positions (computed if missing)."""
        fields = np.asarray(fields, dtype=np.int64)
        missing = fields[
            shapely.is_missing(self.geom[fields]) & (self.count[fields] > 1)
        ]
        if len(missing):
            self.geom[missing] = self._union(missing)
        out = self.geom[fields].copy()
        out[shapely.is_missing(out)] = shapely.Polygon()
        return out


def _pairs(fields_ll: np.ndarray, tree: shapely.STRtree, rel: np.ndarray) -> tuple:
    """(field pos, release pos, contained) for every intersecting pair."""
    fi, ri = tree.query(fields_ll, predicate="intersects")
    # The releases are prepared, so this costs far less than an intersection
    # and spares the intersection of every field lying inside a release.
    contained = shapely.contains_properly(rel[ri], fields_ll[fi])
    return fi, ri, contained


def _pieces(fields_ll: np.ndarray, rel: np.ndarray, fi: np.ndarray, ri: np.ndarray) -> tuple:
    pieces = shapely.intersection(fields_ll[fi], rel[ri])
    return pieces, area_ha(pieces)


# State shared with forked workers: set before the pool starts, inherited
# copy-on-write, so the geometries are never pickled.
_STATE: dict[str, Any] = {}


def _minefield_chunk(pos: np.ndarray) -> dict[str, np.ndarray]:
    s = _STATE
    f = s["fields"][pos]
    n = len(f)
    rel = s["rel"]
    fa = np.nan_to_num(area_ha(f))
    fi, ri, cont = _pairs(f, s["tree"], rel)
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
        shapely.prepare(f)
        # A release lying inside the field is its own piece: no intersection.
        inside = shapely.contains_properly(f[fi[idx]], rel[ri[idx]])
        pieces[idx[inside]] = rel[ri[idx[inside]]]
        cut = idx[~inside]
        pieces[cut] = shapely.intersection(f[fi[cut]], rel[ri[cut]])
    overlap_ha = np.where(cont, fa[fi], 0.0)
    overlap_ha[idx] = area_ha(pieces[idx])
    positive = overlap_ha > 0

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

    last = _last_dates(f, rel, fi, ri, cont | positive, ~need & ~cont, s["date"][ri], n)
    return {
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


def _last_dates(
    f: np.ndarray,
    rel: np.ndarray,
    fi: np.ndarray,
    ri: np.ndarray,
    known: np.ndarray,
    unknown: np.ndarray,
    dates: np.ndarray,
    n: int,
) -> np.ndarray:
    """Latest ``date_end`` of the releases overlapping each field (not just touching).

    ``known`` pairs are known to overlap.  ``unknown`` pairs (of fields wholly
    released, whose pieces were never computed) are tested only when they
    could raise the field's latest date.
    """
    best = np.full(n, "", dtype=object)
    _max_into(best, fi[known], dates[known])
    u = np.flatnonzero(unknown)
    u = u[dates[u] > best[fi[u]]]
    if len(u):
        # Interiors meeting in an area; merely touching releases do not count.
        hit = shapely.relate_pattern(rel[ri[u]], f[fi[u]], "2********")
        _max_into(best, fi[u[hit]], dates[u[hit]])
    return best


def _max_into(best: np.ndarray, owner: np.ndarray, values: np.ndarray) -> None:
    if len(owner) == 0:
        return
    order = np.lexsort((values, owner))
    last = np.ones(len(order), dtype=bool)
    last[:-1] = owner[order][1:] != owner[order][:-1]
    o, v = owner[order][last], values[order][last]
    better = v > best[o]
    best[o[better]] = v[better]


def _jobs(n_jobs: int | None, n: int) -> int:
    if n_jobs is None:
        try:
            n_jobs = len(os.sched_getaffinity(0))
        except AttributeError:
            n_jobs = os.cpu_count() or 1
    if n_jobs < 1:
        raise UsageError(f"n_jobs must be at least 1, not {n_jobs}")
    if n < _MIN_PARALLEL or "fork" not in multiprocessing.get_all_start_methods():
        # Without fork the geometries would have to be pickled to each
        # worker, which costs more than it saves.
        return 1
    return n_jobs


def _run_chunks(
    func: Callable[[np.ndarray], Any],
    n: int,
    *,
    n_jobs: int | None,
    progress: Callable[[int, int], Any] | None,
    state: dict[str, Any],
) -> list[Any]:
    """Run ``func`` over chunks of ``range(n)``, in forked workers if worth it."""
    jobs = _jobs(n_jobs, n)
    n_chunks = max(1, min(n // 500, jobs * 8)) if jobs > 1 else max(1, min(n // 2000, 20))
    chunks = [c for c in np.array_split(np.arange(n), n_chunks) if len(c)] or [np.arange(0)]
    _STATE.clear()
    _STATE.update(state)
    out: list[Any] = []
    done = 0
    try:
        if jobs == 1:
            for c in chunks:
                out.append(func(c))
                done += len(c)
                if progress is not None:
                    progress(done, n)
        else:
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(jobs) as pool:
                # In order, so that each result is known to belong to its chunk.
                for c, res in zip(chunks, pool.imap(func, chunks)):
                    out.append(res)
                    done += len(c)
                    if progress is not None:
                        progress(done, n)
    finally:
        _STATE.clear()
    return out


def _release_inputs(
    releases: pd.DataFrame | None,
    items: pd.DataFrame | None,
    as_of: str | None,
) -> dict[str, np.ndarray]:
    """Release arrays after the as-of filter, with what each contributes."""
    if _empty(releases):
        rel = pd.DataFrame({"report_id": [], "outcome": [], "date_end": []})
        geoms = np.empty(0, dtype=object)
    else:
        keep = _dated_mask(releases, "date_end", as_of)
        rel = releases.loc[keep]
        geoms = _geoms(rel)
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


def _join_flags(own: np.ndarray, extra: list[tuple[str, np.ndarray]]) -> np.ndarray:
    out = np.empty(len(own), dtype=object)
    for i, text in enumerate(own):
        seen: list[str] = []
        for f in str(text or "").split(";"):
            f = f.strip()
            if f and f not in seen:
                seen.append(f)
        for name, mask in extra:
            if mask[i] and name not in seen:
                seen.append(name)
        out[i] = ";".join(seen)
    return out


def _sliver_settings(sliver_m: float | None, sliver_share: float | None) -> tuple[float, float]:
    m = settings.sliver_m if sliver_m is None else float(sliver_m)
    share = settings.sliver_share if sliver_share is None else float(sliver_share)
    if m < 0 or not 0 <= share <= 1:
        raise UsageError("sliver_m must be >= 0 and sliver_share between 0 and 1")
    return m, share


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
) -> pd.DataFrame:
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

    Returns
    -------
    pandas.DataFrame
        Columns exactly ``schema.CROSSREF_COLUMNS``, one row per selected
        field in the fields' order, indexed like ``fields``.

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
    state = {
        "fields": f_ll,
        "rel": rel,
        "tree": shapely.STRtree(rel),
        "cleared": r["cleared"],
        "date": r["date"],
        "apportion": r["apportion"],
        "rel_ha": rel_ha,
        "sliver_m": m,
        "sliver_share": share,
    }
    parts = _run_chunks(_minefield_chunk, len(pos), n_jobs=n_jobs, progress=progress, state=state)
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
    return out[list(CROSSREF_COLUMNS)]


# ---------------------------------------------------------------------------
# status timeline


def _timeline_chunk(pos: np.ndarray) -> tuple[np.ndarray, list]:
    s = _STATE
    f = s["fields"][pos]
    fa = np.nan_to_num(area_ha(f))
    rel = s["rel"]
    fi, ri, cont = _pairs(f, s["tree"], rel)
    nc = ~cont
    pieces = np.empty(len(fi), dtype=object)
    pha = np.where(cont, fa[fi], 0.0)
    pieces[cont] = f[fi[cont]]
    if nc.any():
        pieces[nc], pha[nc] = _pieces(f, rel, fi[nc], ri[nc])
    hit = pha > 0
    fi, ri, cont, pieces = fi[hit], ri[hit], cont[hit], pieces[hit]
    dates = s["date"][ri]
    order = np.lexsort((dates, fi))
    fi, cont, pieces, dates = fi[order], cont[order], pieces[order], dates[order]

    rows_f: list[int] = list(range(len(f)))
    rows_d: list[str] = [""] * len(f)
    rows_ha: list[float] = [0.0] * len(f)
    rows_g: list[Any] = [shapely.Polygon()] * len(f)
    # Groups of pieces of one field ending on one date.
    bounds = np.flatnonzero(np.r_[True, (fi[1:] != fi[:-1]) | (dates[1:] != dates[:-1])])
    bounds = bounds[bounds < len(fi)]
    ends = np.r_[bounds[1:], len(fi)]
    cum: dict[int, tuple[Any, float]] = {}
    for a, b in zip(bounds, ends):
        k = int(fi[a])
        prev_g, prev_ha = cum.get(k, (None, 0.0))
        if prev_ha >= fa[k] > 0:
            continue  # already wholly released
        if cont[a:b].any():
            g, ha = f[k], fa[k]
        else:
            add = pieces[a:b]
            g = shapely.union_all(add if prev_g is None else np.r_[add, [prev_g]])
            ha = min(float(area_ha(np.array([g]))[0]), fa[k])
        if ha > prev_ha + max(_GROWTH_REL * fa[k], _GROWTH_ABS_HA):
            rows_f.append(k)
            rows_d.append(str(dates[a]))
            rows_ha.append(ha)
            rows_g.append(g)
            cum[k] = (g, ha)
    rf = np.asarray(rows_f, dtype=np.int64)
    rha = np.asarray(rows_ha, dtype=float)
    rg = np.asarray(rows_g, dtype=object)
    status = _classify(
        f[rf], fa[rf], rha, lambda idx: rg[idx],
        sliver_m=s["sliver_m"], sliver_share=s["sliver_share"],
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(fa[rf] > 0, 100.0 * rha / fa[rf], 0.0)
    return pos[rf], [np.asarray(rows_d, dtype=object), status, pct]


def status_timeline(
    fields: pd.DataFrame,
    releases: pd.DataFrame | None,
    *,
    sliver_m: float | None = None,
    sliver_share: float | None = None,
    n_jobs: int | None = None,
    progress: Callable[[int, int], Any] | None = None,
) -> pd.DataFrame:
    """Release history of each field, for the map's timeline slider.

    Parameters
    ----------
    fields, releases
        As for :func:`crossref_minefields`.
    sliver_m, sliver_share
        Sliver thresholds (settings when None).
    n_jobs, progress
        As for :func:`crossref_minefields`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TIMELINE_COLUMNS`.  Each field has a first row with
        date ``""`` (status with no release: ``not_started``), then one row
        per release ``date_end`` at which its released area grows, with the
        status and ``released_pct`` from then on.  Rows are ordered by field
        (fields' order), then date.  Releases without ``date_end`` are left out.
    """
    m, share = _sliver_settings(sliver_m, sliver_share)
    f_ll = _valid(_geoms(fields))
    if _empty(releases):
        rel = np.empty(0, dtype=object)
        dates = np.empty(0, dtype=object)
    else:
        dates = _dates(releases, "date_end")
        dated = dates != ""
        rel = _valid(_geoms(releases)[dated])
        dates = dates[dated]
    rel = np.where(shapely.is_missing(rel), shapely.Polygon(), rel)
    shapely.prepare(rel)
    state = {
        "fields": f_ll, "rel": rel, "tree": shapely.STRtree(rel), "date": dates,
        "sliver_m": m, "sliver_share": share,
    }
    parts = _run_chunks(_timeline_chunk, len(f_ll), n_jobs=n_jobs, progress=progress, state=state)
    if not parts:
        return pd.DataFrame({c: [] for c in TIMELINE_COLUMNS})
    fpos = np.concatenate([p[0] for p in parts])
    date = np.concatenate([p[1][0] for p in parts])
    status = np.concatenate([p[1][1] for p in parts])
    pct = np.concatenate([p[1][2] for p in parts])
    order = np.lexsort((date, fpos))
    out = pd.DataFrame(
        {
            "handover": _text(fields, "handover")[fpos[order]],
            "record_id": _text(fields, "record_id")[fpos[order]],
            "date": date[order],
            "status": status[order],
            "released_pct": pct[order],
        }
    )
    return out[list(TIMELINE_COLUMNS)]


# ---------------------------------------------------------------------------
# incremental refresh


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


# ---------------------------------------------------------------------------
# by handover


def _project_one_zone(geoms: np.ndarray, epsg: int) -> np.ndarray:
    t = _to_utm_transformer(int(epsg))
    return shapely.transform(
        geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1]))
    )


def _inside_outside(
    f_ll: np.ndarray,
    f_utm: np.ndarray,
    footprint: shapely.Geometry,
    pts_ll: np.ndarray,
    pts_utm: np.ndarray,
    epsg: int,
) -> tuple[int, np.ndarray, np.ndarray]:
    """Points in the footprint: count inside a field; ground distances and the
    lon/lat points of the rest."""
    none = np.empty(0, dtype=object)
    if len(pts_ll) == 0:
        return 0, np.zeros(0), none
    shapely.prepare(footprint)
    in_fp = shapely.intersects(footprint, pts_utm)
    p_ll, p_utm = pts_ll[in_fp], pts_utm[in_fp]
    if len(p_ll) == 0:
        return 0, np.zeros(0), none
    # Inside/outside is decided in lon/lat, exactly as by-minefield counts
    # finds; distances are metres in the handover's UTM zone.
    pi, _ = shapely.STRtree(f_ll).query(p_ll, predicate="intersects")
    inside = np.zeros(len(p_ll), dtype=bool)
    inside[pi] = True
    out_utm = p_utm[~inside]
    if len(out_utm) == 0:
        return int(inside.sum()), np.zeros(0), none
    pi, fi = shapely.STRtree(f_utm).query_nearest(out_utm, all_matches=False)
    # The nearest points are found on the UTM grid, then measured on the
    # ellipsoid: ground metres, not grid metres (they differ by the scale
    # factor, up to 0.1 % at a zone's edge).
    line = shapely.shortest_line(out_utm[pi], f_utm[fi])
    ends = shapely.get_coordinates(line).reshape(-1, 2, 2)
    to_ll = _to_ll_transformer(int(epsg))
    lon0, lat0 = to_ll.transform(ends[:, 0, 0], ends[:, 0, 1])
    lon1, lat1 = to_ll.transform(ends[:, 1, 0], ends[:, 1, 1])
    dist = np.empty(len(out_utm))
    dist[pi] = _GEOD.inv(lon0, lat0, lon1, lat1)[2]
    return int(inside.sum()), dist, p_ll[~inside]


def crossref_handovers(
    fields: pd.DataFrame,
    items: pd.DataFrame | None,
    *,
    incidents: pd.DataFrame | None = None,
    handovers: pd.DataFrame | None = None,
    as_of: _dt.date | str | None = None,
    accuracy_buffer_m: float | None = None,
) -> pd.DataFrame:
    """Crossref by handover: how well each handover's maps match the finds.

    Parameters
    ----------
    fields
        Minefields of all handovers.
    items
        Found items; the AP and AT points count as finds.
    incidents
        Mine incident points, or None.
    handovers
        ``handover``, ``handover_date``, or None.
    as_of
        Keep items and incidents dated ≤ this date.
    accuracy_buffer_m
        Footprint buffer around the convex hull of a handover's fields
        (metres, in its UTM zone); ``settings.accuracy_buffer_m`` when None.

    Returns
    -------
    pandas.DataFrame
        The columns of ``schema.HANDOVER_COLUMNS`` in that order, then
        ``found_outside_in_other_handovers`` (outside finds that lie in a
        field of another handover), one row per handover
        present in ``fields`` or ``handovers``, ordered by handover date then
        name.  Shares are percentages; they are NaN when there is nothing to
        share (no finds, no outside finds).
    """
    buf = settings.accuracy_buffer_m if accuracy_buffer_m is None else float(accuracy_buffer_m)
    if buf < 0:
        raise UsageError(f"accuracy_buffer_m must be >= 0, not {buf}")
    day = _as_of_text(as_of)
    f_all = _valid(_geoms(fields))
    f_ho = _text(fields, "handover")
    totals = np.nan_to_num(_floats(fields, "mines_total"))

    def _points(frame: pd.DataFrame | None, finds: bool) -> np.ndarray:
        if _empty(frame):
            return np.empty(0, dtype=object)
        keep = _dated_mask(frame, "date", day)
        if finds:
            keep &= np.isin(_item_types(frame), ["AP", "AT"])
        p = _geoms(frame)[keep]
        return p[~shapely.is_missing(p) & ~shapely.is_empty(p)] if len(p) else p

    finds = _points(items, True)
    incs = _points(incidents, False)

    dates: dict[str, str] = {}
    if not _empty(handovers):
        for h, d in zip(_text(handovers, "handover"), _dates(handovers, "handover_date")):
            dates[str(h)] = str(d)
    names = list(dict.fromkeys([*f_ho.tolist(), *dates]))

    rows = []
    for h in names:
        sel = np.flatnonzero(f_ho == h)
        geoms = f_all[sel]
        geoms = geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)]
        row: dict[str, Any] = {
            "handover": h, "handover_date": dates.get(h, ""),
            "minefields": len(sel), "mines_recorded": int(totals[sel].sum()),
        }
        if len(geoms):
            b = shapely.total_bounds(geoms)
            epsg = int(_utm_epsg(np.array([(b[0] + b[2]) / 2]), np.array([(b[1] + b[3]) / 2]))[0])
            g_utm = _project_one_zone(geoms, epsg)
            hull = shapely.convex_hull(shapely.MultiPoint(shapely.get_coordinates(g_utm)))
            fp = shapely.buffer(hull, buf, quad_segs=32)
            inside, dist, out_pts = _inside_outside(
                geoms, g_utm, fp, finds,
                _project_one_zone(finds, epsg) if len(finds) else finds, epsg,
            )
            inc_in, inc_d, _ = _inside_outside(
                geoms, g_utm, fp, incs, _project_one_zone(incs, epsg) if len(incs) else incs,
                epsg,
            )
        else:
            inside, dist, inc_in, inc_d = 0, np.zeros(0), 0, np.zeros(0)
            out_pts = np.empty(0, dtype=object)
        # Outside finds that lie in another handover's recorded field: a
        # multi-district handover's footprint can take in other maps' fields,
        # and a reader should see how many of its "misses" those explain.
        other = f_all[(f_ho != h) & ~shapely.is_missing(f_all)]
        if len(out_pts) and len(other):
            hit, _ = shapely.STRtree(other).query(out_pts, predicate="intersects")
            row["found_outside_in_other_handovers"] = len(np.unique(hit))
        else:
            row["found_outside_in_other_handovers"] = 0
        outside = len(dist)
        row["found_inside"] = inside
        row["found_outside"] = outside
        row["accuracy_pct"] = 100.0 * inside / (inside + outside) if inside + outside else np.nan
        for d in (25, 50, 100):
            row[f"outside_within_{d}m_pct"] = (
                100.0 * float(np.mean(dist <= d)) if outside else np.nan
            )
        row["outside_median_m"] = float(np.median(dist)) if outside else np.nan
        row["incidents_inside"] = inc_in
        row["incidents_outside"] = len(inc_d)
        rows.append(row)
    out = pd.DataFrame(rows, columns=[*HANDOVER_COLUMNS, "found_outside_in_other_handovers"])
    if len(out):
        out = out.sort_values(["handover_date", "handover"], kind="stable").reset_index(drop=True)
    for c in ("minefields", "mines_recorded", "found_inside", "found_outside",
              "incidents_inside", "incidents_outside", "found_outside_in_other_handovers"):
        out[c] = out[c].astype(np.int64)
    return out


# ---------------------------------------------------------------------------
# by district and weekly-report reconciliation


def _canon(name: Any) -> str:
    text = str(name or "").strip()
    return normalise(text) or text


def _district_lists(reports: pd.DataFrame) -> list[list[str]]:
    out = []
    for v in reports["districts"] if "districts" in reports.columns else [""] * len(reports):
        if isinstance(v, (list, tuple, np.ndarray)):
            names = [str(x) for x in v]
        else:
            names = str(v if v is not None and v == v else "").replace(",", ";").split(";")
        out.append(list(dict.fromkeys(_canon(n) for n in names if str(n).strip())))
    return out


def _point_districts(
    frame: pd.DataFrame | None, districts: pd.DataFrame | None
) -> np.ndarray:
    """District of each point: the boundary containing it, else its own attribute."""
    if _empty(frame):
        return np.empty(0, dtype=object)
    own = np.array([_canon(d) for d in _text(frame, "district")], dtype=object)
    if _empty(districts):
        return own
    d_geoms = _valid(_geoms(districts))
    d_names = np.array([_canon(d) for d in _text(districts, "district")], dtype=object)
    pts = _geoms(frame)
    ok = np.flatnonzero(~shapely.is_missing(pts))
    pi, di = shapely.STRtree(d_geoms).query(pts[ok], predicate="intersects")
    # A point on a shared boundary takes the first district listed.
    first = np.full(len(ok), -1)
    for p, d in zip(pi[::-1], di[::-1]):
        first[p] = d if first[p] < 0 or d < first[p] else first[p]
    out = np.full(len(pts), "", dtype=object)
    hit = first >= 0
    out[ok[hit]] = d_names[first[hit]]
    # Points outside every boundary keep their own attribute.
    miss = out == ""
    out[miss] = own[miss]
    return out


def _release_ha_by_district(
    rel_geoms: np.ndarray,
    rel_cleared: np.ndarray,
    rel_district: np.ndarray,
    names: list[str],
    districts: pd.DataFrame | None,
) -> dict[str, tuple[float, float]]:
    """(released_ha, cleared_ha) of the union of the given releases per district.

    With boundaries, each district gets the union of the releases meeting it
    clipped to its boundary; without them, releases are grouped by their own
    ``district`` attribute.
    """
    out: dict[str, tuple[float, float]] = {}
    if _empty(districts):
        for name in names:
            sel = rel_district == name
            u = shapely.union_all(rel_geoms[sel]) if sel.any() else shapely.Polygon()
            uc = shapely.union_all(rel_geoms[sel & rel_cleared]) if (sel & rel_cleared).any() \
                else shapely.Polygon()
            out[name] = tuple(float(x) for x in area_ha(np.array([u, uc], dtype=object)))
        return out
    d_geoms = _valid(_geoms(districts))
    d_names = np.array([_canon(d) for d in _text(districts, "district")], dtype=object)
    tree = shapely.STRtree(rel_geoms) if len(rel_geoms) else None
    for name in names:
        polys = d_geoms[d_names == name]
        if tree is None or len(polys) == 0:
            out[name] = (0.0, 0.0) if len(polys) else (np.nan, np.nan)
            continue
        dpoly = shapely.union_all(polys)
        cand = tree.query(dpoly, predicate="intersects")
        u = shapely.intersection(shapely.union_all(rel_geoms[cand]), dpoly)
        cc = cand[rel_cleared[cand]]
        uc = shapely.intersection(shapely.union_all(rel_geoms[cc]), dpoly) if len(cc) \
            else shapely.Polygon()
        out[name] = tuple(float(x) for x in area_ha(np.array([u, uc], dtype=object)))
    return out


def _report_frame(reports: pd.DataFrame | None, as_of: str | None) -> pd.DataFrame:
    if _empty(reports):
        return pd.DataFrame(columns=["date_start", "date_end", "districts"])
    keep = _dated_mask(reports, "date_end", as_of)
    return reports.loc[keep]


def _in_periods(dates: np.ndarray, periods: list[tuple[str, str]]) -> np.ndarray:
    inside = np.zeros(len(dates), dtype=bool)
    for a, b in periods:
        inside |= (dates != "") & (dates >= a) & (dates <= b)
    return inside


def _prep_releases(releases: pd.DataFrame | None, as_of: str | None) -> dict[str, np.ndarray]:
    if _empty(releases):
        e = np.empty(0, dtype=object)
        return {"geoms": e, "cleared": np.zeros(0, bool), "date": e, "district": e}
    keep = _dated_mask(releases, "date_end", as_of)
    rel = releases.loc[keep]
    g = _valid(_geoms(rel))
    g = np.where(shapely.is_missing(g), shapely.Polygon(), g)
    outcome = np.char.lower(np.char.strip(_text(rel, "outcome").astype(str)))
    return {
        "geoms": g,
        "cleared": (outcome == "cleared") | (outcome == ""),
        "date": _dates(rel, "date_end"),
        "district": np.array([_canon(d) for d in _text(rel, "district")], dtype=object),
    }


def _prep_items(items: pd.DataFrame | None, districts, as_of: str | None) -> dict[str, np.ndarray]:
    if _empty(items):
        e = np.empty(0, dtype=object)
        return {"type": e, "date": e, "district": e}
    keep = _dated_mask(items, "date", as_of)
    it = items.loc[keep]
    return {
        "type": _item_types(it).astype(object),
        "date": _dates(it, "date"),
        "district": _point_districts(it, districts),
    }


def _count_items(it: dict[str, np.ndarray], mask: np.ndarray) -> tuple[int, int, int]:
    return tuple(int(((it["type"] == t) & mask).sum()) for t in ("AP", "AT", "UXO"))


def reconcile_reports(
    releases: pd.DataFrame | None,
    items: pd.DataFrame | None,
    reports: pd.DataFrame | None,
    *,
    districts: pd.DataFrame | None = None,
    as_of: _dt.date | str | None = None,
) -> pd.DataFrame:
    """Weekly-report figures beside the polygon figures of the same periods.

    Parameters
    ----------
    releases, items
        Land-release polygons and found items.
    reports
        Weekly report periods (``schema.REPORT_COLUMNS``; ``districts``
        ";"-joined or a list).
    districts
        District boundaries; without them releases and items are placed by
        their own ``district`` attribute.
    as_of
        Keep releases with ``date_end`` ≤ D and items and reports dated ≤ D.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RECONCILE_COLUMNS`.  For each report (in date order):
        one row per district it names, then a total row with ``district``
        ``""``.  ``released_ha`` (all outcomes) and ``cleared_ha`` (outcome
        cleared) are the areas of the union of the releases whose ``date_end``
        lies in the period, in that district (total row: in the districts the
        report names, or anywhere if it names none).  Item counts are of items
        dated in the period.  Reports give totals, not per-district figures, so
        the ``reported_*`` and ``diff_*`` (polygon − reported) columns are
        filled on the total row only and NaN elsewhere.
    """
    day = _as_of_text(as_of)
    reps = _report_frame(reports, day)
    rel = _prep_releases(releases, day)
    it = _prep_items(items, districts, day)
    rel_d = rel["district"]
    rows = []
    starts, ends = _dates(reps, "date_start"), _dates(reps, "date_end")
    lists = _district_lists(reps) if len(reps) else []
    order = sorted(range(len(reps)), key=lambda i: (ends[i], starts[i]))
    for i in order:
        a, b = starts[i], ends[i]
        r_in = _in_periods(rel["date"], [(a, b)])
        i_in = _in_periods(it["date"], [(a, b)])
        names = lists[i]
        per = _release_ha_by_district(
            rel["geoms"][r_in], rel["cleared"][r_in], rel_d[r_in], names, districts
        )
        base = {"date_start": a, "date_end": b, "source_file": _text(reps, "source_file")[i]}
        for name in names:
            ap, at, uxo = _count_items(it, i_in & (it["district"] == name))
            rows.append({**base, "district": name, "released_ha": per[name][0],
                         "cleared_ha": per[name][1], "found_ap": ap, "found_at": at,
                         "found_uxo": uxo})
        # With boundaries the total is clipped to the named districts below;
        # without, releases are chosen by their own district attribute.
        by_attr = bool(names) and _empty(districts)
        r_tot = r_in & (np.isin(rel_d, names) if by_attr else True)
        i_tot = i_in & (np.isin(it["district"], names) if names else True)
        g = rel["geoms"][r_tot]
        c = rel["cleared"][r_tot]
        u = shapely.union_all(g) if len(g) else shapely.Polygon()
        uc = shapely.union_all(g[c]) if c.any() else shapely.Polygon()
        if names and not _empty(districts):
            d_names = np.array([_canon(d) for d in _text(districts, "district")], dtype=object)
            dpoly = shapely.union_all(_valid(_geoms(districts))[np.isin(d_names, names)])
            u, uc = shapely.intersection(u, dpoly), shapely.intersection(uc, dpoly)
        ha = area_ha(np.array([u, uc], dtype=object))
        ap, at, uxo = _count_items(it, i_tot)
        rep = {
            "reported_ha": _floats(reps, "cleared_ha")[i],
            "reported_ap": _floats(reps, "found_ap")[i],
            "reported_at": _floats(reps, "found_at")[i],
            "reported_uxo": _floats(reps, "found_uxo")[i],
        }
        rows.append({**base, "district": "", "released_ha": float(ha[0]),
                     "cleared_ha": float(ha[1]), "found_ap": ap, "found_at": at,
                     "found_uxo": uxo, **rep})
    out = pd.DataFrame(rows, columns=list(RECONCILE_COLUMNS))
    out["diff_released_ha"] = out["released_ha"] - out["reported_ha"]
    out["diff_cleared_ha"] = out["cleared_ha"] - out["reported_ha"]
    for t in ("ap", "at", "uxo"):
        out[f"diff_{t}"] = out[f"found_{t}"] - out[f"reported_{t}"]
    for c in ("released_ha", "cleared_ha", "reported_ha", "reported_ap", "reported_at",
              "reported_uxo", "diff_released_ha", "diff_cleared_ha", "diff_ap", "diff_at",
              "diff_uxo"):
        out[c] = out[c].astype(float)
    return out.reset_index(drop=True)


def crossref_districts(
    fields: pd.DataFrame,
    table: pd.DataFrame,
    releases: pd.DataFrame | None,
    items: pd.DataFrame | None,
    *,
    reports: pd.DataFrame | None = None,
    districts: pd.DataFrame | None = None,
    as_of: _dt.date | str | None = None,
) -> pd.DataFrame:
    """Crossref by district, with the weekly reports' figures beside.

    Parameters
    ----------
    fields
        Minefields (used to place fields without a ``district`` when
        boundaries are given, by a point on the surface of each field).
    table
        The by-minefield table of the same fields and as-of date
        (:func:`crossref_minefields`).
    releases, items, reports
        Land release, finds and weekly report periods.
    districts
        District boundaries or None (then the ``district`` attributes are used).
    as_of
        Keep releases, items and reports dated ≤ this date.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DISTRICT_COLUMNS`, one row per district (sorted), then a
        total row (``district`` ``""``); fields, releases or items without a
        district are grouped under ``"(unknown)"``.

        * ``minefields``, ``mines_recorded``, ``area_ha``, ``released_ha``,
          ``cleared_ha``, ``remaining_est``: sums over the district's rows of
          ``table`` (fields of overlapping handovers each count).
        * ``found_ap``/``found_at``/``found_uxo``: items in the district,
          inside or outside fields.
        * ``period_*``: the same measures limited to the reported periods (the
          union of the as-of-filtered report periods): union of the releases
          (inside or outside fields) whose ``date_end`` lies in a period, and
          items dated in a period.
        * ``reported_*``: sums of the reports naming only this district; NaN
          when any report naming it also names others, since report totals
          cannot be split between districts.  The total row has the sums of
          all reports.  ``diff_*`` = polygon (period) − reported.
    """
    day = _as_of_text(as_of)
    unknown = "(unknown)"
    tab = table.copy()
    tab_d = np.array([_canon(d) for d in _text(tab, "district")], dtype=object)
    if not _empty(districts) and (tab_d == "").any():
        key = pd.MultiIndex.from_arrays([_text(fields, "handover"), _text(fields, "record_id")])
        pos = key.get_indexer(
            pd.MultiIndex.from_arrays([_text(tab, "handover"), _text(tab, "record_id")])
        )
        miss = np.flatnonzero((tab_d == "") & (pos >= 0))
        pts = shapely.point_on_surface(_valid(_geoms(fields))[pos[miss]])
        tab_d[miss] = _point_districts(
            pd.DataFrame({"district": [""] * len(miss), "geometry": pts}), districts
        )
    tab_d[tab_d == ""] = unknown

    rel = _prep_releases(releases, day)
    rel_d = rel["district"].copy()
    it = _prep_items(items, districts, day)
    it_d = it["district"].copy()
    it_d[it_d == ""] = unknown

    reps = _report_frame(reports, day)
    periods = list(zip(_dates(reps, "date_start"), _dates(reps, "date_end")))
    lists = _district_lists(reps) if len(reps) else []

    names = set(tab_d.tolist()) | set(it_d.tolist())
    names |= {d if d else unknown for d in rel_d.tolist()}
    for ds in lists:
        names |= set(ds)
    if not _empty(districts):
        names |= {_canon(d) for d in _text(districts, "district")}
    names_sorted = sorted(n for n in names if n != unknown) + ([unknown] if unknown in names else [])

    r_in = _in_periods(rel["date"], periods)
    i_in = _in_periods(it["date"], periods)
    rel_d_named = np.where(rel_d == "", unknown, rel_d)
    per = _release_ha_by_district(
        rel["geoms"][r_in], rel["cleared"][r_in], rel_d_named[r_in],
        [n for n in names_sorted if n != unknown] if not _empty(districts) else names_sorted,
        districts,
    )
    if not _empty(districts) and unknown in names_sorted:
        # Without a boundary to clip to, unplaced releases are left out here.
        per[unknown] = (np.nan, np.nan)

    rep_ha = _floats(reps, "cleared_ha") if len(reps) else np.zeros(0)
    rep_n = {t: _floats(reps, f"found_{t}") if len(reps) else np.zeros(0) for t in ("ap", "at", "uxo")}

    rows = []
    for name in names_sorted:
        sel = tab_d == name
        ap, at, uxo = _count_items(it, it_d == name)
        pap, pat, puxo = _count_items(it, (it_d == name) & i_in)
        mentions = [j for j, ds in enumerate(lists) if name in ds]
        alone = bool(mentions) and all(len(lists[j]) == 1 for j in mentions)
        row = {
            "district": name,
            "minefields": int(sel.sum()),
            "mines_recorded": int(np.nan_to_num(_floats(tab.loc[sel], "mines_total")).sum()),
            "area_ha": float(np.nansum(_floats(tab.loc[sel], "area_ha"))),
            "released_ha": float(np.nansum(_floats(tab.loc[sel], "released_ha"))),
            "cleared_ha": float(np.nansum(_floats(tab.loc[sel], "cleared_ha"))),
            "found_ap": ap, "found_at": at, "found_uxo": uxo,
            "remaining_est": float(np.nansum(_floats(tab.loc[sel], "remaining_est"))),
            "period_released_ha": per.get(name, (0.0, 0.0))[0],
            "period_cleared_ha": per.get(name, (0.0, 0.0))[1],
            "period_found_ap": pap, "period_found_at": pat, "period_found_uxo": puxo,
            "reported_ha": float(rep_ha[mentions].sum()) if alone else np.nan,
            "reported_ap": float(rep_n["ap"][mentions].sum()) if alone else np.nan,
            "reported_at": float(rep_n["at"][mentions].sum()) if alone else np.nan,
            "reported_uxo": float(rep_n["uxo"][mentions].sum()) if alone else np.nan,
        }
        rows.append(row)

    # Total row: polygon figures over every district, reports summed.  The
    # reports give one figure per period, so the polygons are measured the
    # same way: the union of each period's releases, summed over periods
    # (a union over all periods would differ wherever weeks overlap).
    tha = np.zeros(2)
    for a, b in periods:
        m = (rel["date"] != "") & (rel["date"] >= a) & (rel["date"] <= b)
        g = rel["geoms"][m]
        c = rel["cleared"][m]
        u = shapely.union_all(g) if len(g) else shapely.Polygon()
        uc = shapely.union_all(g[c]) if c.any() else shapely.Polygon()
        tha += area_ha(np.array([u, uc], dtype=object))
    tap, tat, tuxo = _count_items(it, np.ones(len(it_d), dtype=bool))
    pap, pat, puxo = _count_items(it, i_in)
    rows.append({
        "district": "",
        "minefields": len(tab),
        "mines_recorded": int(np.nan_to_num(_floats(tab, "mines_total")).sum()),
        "area_ha": float(np.nansum(_floats(tab, "area_ha"))),
        "released_ha": float(np.nansum(_floats(tab, "released_ha"))),
        "cleared_ha": float(np.nansum(_floats(tab, "cleared_ha"))),
        "found_ap": tap, "found_at": tat, "found_uxo": tuxo,
        "remaining_est": float(np.nansum(_floats(tab, "remaining_est"))),
        "period_released_ha": float(tha[0]), "period_cleared_ha": float(tha[1]),
        "period_found_ap": pap, "period_found_at": pat, "period_found_uxo": puxo,
        "reported_ha": float(rep_ha.sum()) if len(reps) else np.nan,
        "reported_ap": float(rep_n["ap"].sum()) if len(reps) else np.nan,
        "reported_at": float(rep_n["at"].sum()) if len(reps) else np.nan,
        "reported_uxo": float(rep_n["uxo"].sum()) if len(reps) else np.nan,
    })
    out = pd.DataFrame(rows)
    out["diff_released_ha"] = out["period_released_ha"] - out["reported_ha"]
    out["diff_cleared_ha"] = out["period_cleared_ha"] - out["reported_ha"]
    for t in ("ap", "at", "uxo"):
        out[f"diff_{t}"] = out[f"period_found_{t}"] - out[f"reported_{t}"]
    return out[list(DISTRICT_COLUMNS)]

