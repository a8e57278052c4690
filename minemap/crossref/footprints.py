"""Handover footprints (DESIGN §5 "By handover") and the sorting of finds by them.

A handover's footprint is the union of its fields, each buffered by
``accuracy_buffer_m`` of ground distance (in the field's own UTM zone).  A
find in the footprint is *inside* when it lies in one of the handover's
fields, *in another handover* when it lies in another handover's field (that
map's hit, not this one's miss), and *outside* otherwise.  The same rule
serves the by-handover table, ``offsets`` (accuracy before and after a
shift) and ``suspects`` (finds beyond every footprint).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from minemap import settings
from minemap._errors import UsageError
from minemap.crossref.ground import buffer_ground


def buffer_setting(accuracy_buffer_m: float | None) -> float:
    """``accuracy_buffer_m`` or the setting, checked."""
    buf = settings.accuracy_buffer_m if accuracy_buffer_m is None else float(accuracy_buffer_m)
    if not buf >= 0:
        raise UsageError(f"accuracy_buffer_m must be >= 0, not {buf}")
    return buf


def present(geoms: np.ndarray) -> np.ndarray:
    """Mask of geometries that are neither missing nor empty."""
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return np.zeros(0, dtype=bool)
    return ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)


def footprint(fields_ll: np.ndarray, buffer_m: float) -> shapely.Geometry:
    """The union of the fields, each buffered by ``buffer_m`` ground metres (lon/lat)."""
    f = np.asarray(fields_ll, dtype=object)
    f = f[present(f)]
    if len(f) == 0:
        return shapely.Polygon()
    return shapely.union_all(buffer_ground(f, buffer_m) if buffer_m > 0 else f)


def in_fields(pts_ll: np.ndarray, fields_ll: np.ndarray, groups: np.ndarray,
              names: list) -> np.ndarray:
    """``(n_points, len(names))`` mask: point lies in (or on the edge of) a field of
    group ``names[k]`` (``groups`` gives each field's group)."""
    pts_ll = np.asarray(pts_ll, dtype=object)
    out = np.zeros((len(pts_ll), len(names)), dtype=bool)
    ok = np.flatnonzero(present(fields_ll))
    if len(pts_ll) == 0 or len(ok) == 0:
        return out
    col = {n: k for k, n in enumerate(names)}
    fcol = np.array([col.get(g, -1) for g in np.asarray(groups, dtype=object)[ok]])
    pi, fi = shapely.STRtree(np.asarray(fields_ll, dtype=object)[ok]).query(
        pts_ll, predicate="intersects")
    keep = fcol[fi] >= 0
    out[pi[keep], fcol[fi[keep]]] = True
    return out


@dataclass(frozen=True)
class Sorted:
    """How the points of one handover's footprint sort (boolean masks over points)."""

    inside: np.ndarray
    other: np.ndarray
    outside: np.ndarray

    @property
    def accuracy_pct(self) -> float:
        """100 × inside / (inside + outside); NaN without finds (DESIGN §5)."""
        n_in, n_out = int(self.inside.sum()), int(self.outside.sum())
        return 100.0 * n_in / (n_in + n_out) if n_in + n_out else float("nan")


def sort_points(pts_ll: np.ndarray, fp: shapely.Geometry, hits: np.ndarray,
                col: int) -> Sorted:
    """Sort points for handover column ``col`` of ``hits`` (see :func:`in_fields`)."""
    pts_ll = np.asarray(pts_ll, dtype=object)
    if len(pts_ll) == 0 or fp.is_empty:
        z = np.zeros(len(pts_ll), dtype=bool)
        return Sorted(z, z.copy(), z.copy())
    shapely.prepare(fp)
    near = shapely.intersects(fp, pts_ll)
    inside = hits[:, col].copy()
    others = np.delete(hits, col, axis=1).any(axis=1) if hits.shape[1] > 1 else \
        np.zeros(len(pts_ll), dtype=bool)
    other = near & ~inside & others
    outside = near & ~inside & ~others
    return Sorted(inside, other, outside)
