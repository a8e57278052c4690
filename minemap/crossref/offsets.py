"""How far was each map shifted?  Robust rigid-shift estimates (DESIGN §13).

For a handover (or handover × district), the shift ``s`` that best brings the
recorded fields onto the AP/AT finds around them maximises the number of
finds inside the shifted fields.  That score is robust by construction: a
find of an unmapped field nearby counts nothing wherever the fields go,
unless a shift lays a field over it, and a few such finds cannot outvote
the finds of the map's own fields.

The search works in a local azimuthal equidistant plane centred on the
group (x is true east and y true north in ground metres there, to within
a few parts per million over a handover):

1. Coarse: shifts on a 20 m grid over ±``offset_search_m``, each scored by
   the finds inside the fields buffered by 15 m (so no peak falls between
   grid points), on at most 1,500 finds.
2. Fine: shifts on a 2 m grid in a ±24 m window around the best coarse
   shift, scored with the fields themselves.  The shifts with the highest
   score form a plateau (every shift keeping the same finds inside); the
   estimate is its centroid.
3. ``ci95_m``: the same fine step on bootstrap resamples of the finds; the
   radius of the circle around the estimate holding 95 % of theirs (at least
   the grid's resolution, 1 m).

Point-in-polygon tests are vectorised (``shapely.contains_xy`` on a prepared
union), so 5,000 finds and 1,000 fields take about a second.

``datum_suspect`` compares the estimate with the Pulkovo 1942 → WGS 84 datum
shift that pyproj computes, with the group's area of interest, at the
group's centre: the correction a map needs whose SK-42 coordinates were read
as WGS 84 (or, its mirror, WGS 84 coordinates read as SK-42).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from minemap import settings
from minemap._errors import UsageError
from minemap.crossref._common import _as_of_text, _canon, _geoms, _text, _valid
from minemap.crossref.footprints import buffer_setting, footprint, in_fields, present, sort_points
from minemap.crossref.ground import GEOD
from minemap.crossref.handovers import dated_points
from minemap.geo.crs import to_wgs84

__all__ = ["OFFSET_COLUMNS", "Offset", "estimate_offsets", "shift_geometries"]

#: Columns of :func:`estimate_offsets` (``rotation_deg`` only with ``rotation``).
OFFSET_COLUMNS: tuple[str, ...] = (
    "handover", "district", "fields", "finds_used", "dx_m", "dy_m", "shift_m", "ci95_m",
    "rotation_deg", "accuracy_pct_before", "accuracy_pct_after", "datum_dx_m", "datum_dy_m",
    "datum_suspect", "note",
)

_COARSE_STEP = 20.0
_COARSE_BUFFER = 15.0   # ≥ half the coarse grid's diagonal step
_COARSE_FINDS = 1500
_FINE_STEP = 2.0
_FINE_HALF = 24.0
_DATUM_TOLERANCE_M = 10.0
_SK42 = "EPSG:4284"     # Pulkovo 1942 geographic


@lru_cache(maxsize=32)
def _plane(lon0: float, lat0: float) -> tuple[Transformer, Transformer]:
    crs = CRS.from_proj4(f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m")
    return (Transformer.from_crs("EPSG:4326", crs, always_xy=True),
            Transformer.from_crs(crs, "EPSG:4326", always_xy=True))


def _apply_xy(geoms: np.ndarray, t: Transformer) -> np.ndarray:
    return shapely.transform(np.asarray(geoms, dtype=object),
                             lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


@dataclass(frozen=True)
class Offset:
    """A rigid correction of a group of fields, in its local plane.

    Attributes
    ----------
    lon0, lat0
        Centre of the local azimuthal equidistant plane (and of the rotation).
    dx_m, dy_m
        Ground metres towards true east and true north.
    rotation_deg
        Counter-clockwise rotation about the centre, applied before the shift.
    """

    lon0: float
    lat0: float
    dx_m: float
    dy_m: float
    rotation_deg: float = 0.0


def shift_geometries(geoms_ll: np.ndarray, offset: Offset) -> np.ndarray:
    """Lon/lat geometries moved by an :class:`Offset` (rotation, then shift)."""
    fwd, inv = _plane(offset.lon0, offset.lat0)
    plane = _apply_xy(geoms_ll, fwd)
    if offset.rotation_deg:
        c, s = np.cos(np.radians(offset.rotation_deg)), np.sin(np.radians(offset.rotation_deg))
        rot = np.array([[c, -s], [s, c]])
        plane = shapely.transform(plane, lambda xy: xy @ rot.T)
    plane = shapely.transform(plane, lambda xy: xy + np.array([offset.dx_m, offset.dy_m]))
    return _apply_xy(plane, inv)


def _grid(cx: float, cy: float, half: float, step: float) -> np.ndarray:
    k = np.arange(-half, half + step / 2, step)
    gx, gy = np.meshgrid(cx + k, cy + k)
    return np.column_stack([gx.ravel(), gy.ravel()])


def _inside(union: shapely.Geometry, pts: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """(n_points, n_shifts) mask: point − shift lies in ``union``.

    Moving the fields by ``s`` puts a find inside exactly when the find moved
    by ``−s`` lies in the unmoved fields.
    """
    x = pts[:, 0][:, None] - shifts[:, 0][None, :]
    y = pts[:, 1][:, None] - shifts[:, 1][None, :]
    return shapely.contains_xy(union, x.ravel(), y.ravel()).reshape(x.shape)


def _plateau(counts: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Centroid of the best-scoring shifts, per row of ``counts`` (n_sets, n_shifts).

    Where the best shifts form more than one patch, their centroid can fall
    between them, on a worse shift; then the best shift nearest to it is
    taken instead.
    """
    best = counts == counts.max(axis=1, keepdims=True)
    cent = (best @ shifts) / best.sum(axis=1, keepdims=True)
    d2 = ((shifts[None, :, :] - cent[:, None, :]) ** 2).sum(axis=2)
    rows = np.arange(len(cent))
    off = ~best[rows, d2.argmin(axis=1)]
    if off.any():
        cent[off] = shifts[np.where(best[off], d2[off], np.inf).argmin(axis=1)]
    return cent


def _coarse(fields: np.ndarray, pts: np.ndarray, search: float, rng) -> np.ndarray:
    grown = shapely.union_all(shapely.buffer(fields, _COARSE_BUFFER, quad_segs=4))
    shapely.prepare(grown)
    sub = pts if len(pts) <= _COARSE_FINDS else pts[rng.choice(len(pts), _COARSE_FINDS,
                                                                 replace=False)]
    shifts = _grid(0.0, 0.0, search, _COARSE_STEP)
    count = _inside(grown, sub, shifts).sum(axis=0)
    best = np.flatnonzero(count == count.max())
    if len(best) == 1:
        return shifts[best[0]]
    # Ties: the shift whose neighbourhood scores best, then the smallest.
    side = int(round(np.sqrt(len(shifts))))
    c2 = count.reshape(side, side).astype(float)
    pad = np.pad(c2, 1)
    smooth = sum(pad[1 + i:1 + i + side, 1 + j:1 + j + side]
                 for i in (-1, 0, 1) for j in (-1, 0, 1)).ravel()
    key = np.lexsort((np.hypot(*shifts[best].T), -smooth[best]))
    return shifts[best[key[0]]]


def _fine(fields: np.ndarray, pts: np.ndarray, start: np.ndarray, n_boot: int, rng):
    """(estimate, bootstrap estimates) of the fine step."""
    union = shapely.union_all(fields)
    shapely.prepare(union)
    centre = start
    for _ in range(3):
        shifts = _grid(centre[0], centre[1], _FINE_HALF, _FINE_STEP)
        # Only finds that some shift of the window can put inside matter.
        moved = shapely.points(pts - centre)
        near = shapely.dwithin(union, moved, _FINE_HALF * np.sqrt(2) + _FINE_STEP)
        mask = _inside(union, pts[near], shifts)
        est = _plateau(mask.sum(axis=0)[None, :], shifts)[0]
        if np.all(np.abs(est - centre) <= _FINE_HALF - 2 * _FINE_STEP):
            break
        centre = np.round(est / _FINE_STEP) * _FINE_STEP  # the plateau runs off the window
    count = mask.sum(axis=0)
    p = pts[near]
    if shapely.contains_xy(union, p[:, 0] - est[0], p[:, 1] - est[1]).sum() < count.max():
        # The plateau's centre falls on a worse shift between grid points (an
        # edge the 2 m grid stepped over): take the best grid shift nearest it.
        best = np.flatnonzero(count == count.max())
        est = shifts[best[np.argmin(np.hypot(*(shifts[best] - est).T))]]
    if n_boot <= 0 or not near.any():
        return est, np.empty((0, 2))
    n = len(pts)
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot)[:, near].astype(np.float32)
    boot = _plateau(weights @ mask.astype(np.float32), shifts)
    return est, boot


def _datum_correction(lon: float, lat: float, aoi) -> tuple[float, float]:
    """Ground (east, north) metres from where SK-42 coordinates read as WGS 84
    put a point to where it is."""
    t = to_wgs84(_SK42, aoi=aoi).transformer
    lon42, lat42 = t.transform(lon, lat, direction="INVERSE")
    az, _, dist = GEOD.inv(lon42, lat42, lon, lat)
    return dist * np.sin(np.radians(az)), dist * np.cos(np.radians(az))


def _groups(fields: pd.DataFrame, by: str, handover: str | None) -> list[tuple[str, str, np.ndarray]]:
    ho = _text(fields, "handover")
    dist = np.array([_canon(d) for d in _text(fields, "district")], dtype=object)
    names = list(dict.fromkeys(ho.tolist()))
    if handover is not None:
        if handover not in names:
            raise UsageError(f"--handover {handover!r}: unknown; choose one of "
                             f"{', '.join(sorted(names)) or '(none)'}")
        names = [handover]
    out = []
    for h in names:
        sel = ho == h
        if by == "handover":
            out.append((h, "", np.flatnonzero(sel)))
            continue
        for d in sorted(set(dist[sel].tolist())):
            out.append((h, d, np.flatnonzero(sel & (dist == d))))
    return out


def _accuracy(own: np.ndarray, others: np.ndarray, finds: np.ndarray, buf: float) -> float:
    geoms = np.concatenate([own, others])
    groups = np.r_[np.zeros(len(own), dtype=int), np.ones(len(others), dtype=int)]
    hits = in_fields(finds, geoms, groups, [0, 1])
    return sort_points(finds, footprint(own, buf), hits, 0).accuracy_pct


def _estimate(own_ll, other_ll, finds_ll, *, buf, search, min_finds, rotation, n_boot, seed):
    """One group's row (without its names) and its :class:`Offset` (or None)."""
    b = shapely.total_bounds(own_ll)
    lon0, lat0 = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
    hits = in_fields(finds_ll, np.concatenate([own_ll, other_ll]),
                     np.r_[np.zeros(len(own_ll), int), np.ones(len(other_ll), int)], [0, 1])
    s = sort_points(finds_ll, footprint(own_ll, buf), hits, 0)
    used = s.inside | s.outside
    row: dict[str, Any] = {"fields": len(own_ll), "finds_used": int(used.sum()),
                           "accuracy_pct_before": s.accuracy_pct}
    dx, dy = _datum_correction(lon0, lat0, (b[0], b[1], b[2], b[3]))
    row.update(datum_dx_m=dx, datum_dy_m=dy)
    if used.sum() < min_finds:
        row["note"] = f"{int(used.sum())} finds near the fields; {min_finds} needed: no estimate"
        return row, None
    fwd, _ = _plane(lon0, lat0)
    fields = _apply_xy(own_ll, fwd)
    pts = shapely.get_coordinates(_apply_xy(finds_ll[used], fwd))
    rng = np.random.default_rng(seed)
    angles = np.arange(-2.0, 2.0 + 1e-9, 0.25) if rotation else np.zeros(1)
    best = None
    for a in angles:
        # Rotating the fields by a about the centre is rotating the finds by -a.
        c, si = np.cos(np.radians(-a)), np.sin(np.radians(-a))
        p = pts @ np.array([[c, si], [-si, c]])
        start = _coarse(fields, p, search, rng)
        union = shapely.union_all(fields)
        shapely.prepare(union)
        score = int(shapely.contains_xy(union, p[:, 0] - start[0], p[:, 1] - start[1]).sum())
        if best is None or score > best[0] or (score == best[0] and abs(a) < abs(best[1])):
            best = (score, a, p, start)
    _, angle, p, start = best
    est, boot = _fine(fields, p, start, n_boot, rng)
    # Rotating the finds by -a then shifting the fields by s is, for the
    # fields, a rotation by a then the shift s rotated by a.
    c, si = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    rot = np.array([[c, -si], [si, c]])
    shift = rot @ est
    spread = np.hypot(*(boot - est).T) if len(boot) else np.zeros(1)
    ci95 = max(float(np.percentile(spread, 95)), _FINE_STEP / 2)
    offset = Offset(lon0, lat0, float(shift[0]), float(shift[1]), float(angle))
    moved = shift_geometries(own_ll, offset)
    d_true = np.array([dx, dy])
    miss = min(np.hypot(*(shift - d_true)), np.hypot(*(shift + d_true)))
    row.update(
        dx_m=float(shift[0]), dy_m=float(shift[1]), shift_m=float(np.hypot(*shift)),
        ci95_m=ci95, rotation_deg=float(angle),
        accuracy_pct_after=_accuracy(moved, other_ll, finds_ll, buf),
        datum_suspect=bool(miss <= max(ci95, _DATUM_TOLERANCE_M)),
        note="",
    )
    return row, offset


def estimate_offsets(
    fields: pd.DataFrame,
    items: pd.DataFrame | None,
    *,
    by: str = "handover",
    handover: str | None = None,
    rotation: bool = False,
    as_of: _dt.date | str | None = None,
    accuracy_buffer_m: float | None = None,
    search_m: float | None = None,
    min_finds: int | None = None,
    n_boot: int | None = None,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict[tuple[str, str], Offset]]:
    """Systematic shift of each handover's map (DESIGN §13).

    Parameters
    ----------
    fields, items
        Minefields of all handovers; found items (AP and AT points are used).
    by
        ``"handover"`` or ``"district"`` (one estimate per handover ×
        district, by the fields' ``district``).
    handover
        Only this handover.
    rotation
        Also search a rotation (±2° in 0.25° steps) about the group's centre.
    as_of
        Keep items dated ≤ this date.
    accuracy_buffer_m, search_m, min_finds, n_boot
        Settings when None (``accuracy_buffer_m``, ``offset_search_m``,
        ``offset_min_finds``, ``offset_bootstrap``).
    seed
        Seed of the subsample and the bootstrap: the same inputs give the
        same numbers.

    Returns
    -------
    (pandas.DataFrame, dict)
        The table (:data:`OFFSET_COLUMNS`, without ``rotation_deg`` unless
        ``rotation``) and the :class:`Offset` of each group that has an
        estimate, keyed by ``(handover, district)``.  ``finds_used`` are the
        AP/AT finds in the group's footprint that are not in another group's
        field; with fewer than ``min_finds`` the estimate columns are NaN and
        ``note`` says so.
    """
    if by not in ("handover", "district"):
        raise UsageError(f"--by {by}: choose handover or district")
    buf = buffer_setting(accuracy_buffer_m)
    search = float(settings.offset_search_m if search_m is None else search_m)
    need = int(settings.offset_min_finds if min_finds is None else min_finds)
    boots = int(settings.offset_bootstrap if n_boot is None else n_boot)
    if search <= 0 or need < 1 or boots < 0:
        raise UsageError("search_m must be > 0, min_finds >= 1 and n_boot >= 0")
    _, finds = dated_points(items, _as_of_text(as_of), finds=True)
    f_all = _valid(_geoms(fields))
    ok = present(f_all)
    rows, offsets = [], {}
    for h, d, sel in _groups(fields, by, handover):
        mine = np.zeros(len(f_all), dtype=bool)
        mine[sel] = True
        own, other = f_all[mine & ok], f_all[~mine & ok]
        if len(own) == 0:
            continue
        row, off = _estimate(own, other, finds, buf=buf, search=search, min_finds=need,
                             rotation=rotation, n_boot=boots, seed=seed)
        rows.append({"handover": h, "district": d, **row})
        if off is not None:
            offsets[(h, d)] = off
    cols = [c for c in OFFSET_COLUMNS if rotation or c != "rotation_deg"]
    out = pd.DataFrame(rows, columns=cols)
    out["datum_suspect"] = out["datum_suspect"].astype("boolean")
    out["note"] = out["note"].fillna("").astype(str)
    for c in ("dx_m", "dy_m", "shift_m", "ci95_m", "accuracy_pct_after"):
        out[c] = out[c].astype(float)
    return out, offsets
