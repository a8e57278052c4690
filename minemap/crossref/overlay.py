"""The released part of each field: the per-field union of clipped releases.

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
"""

from __future__ import annotations

import numpy as np
import shapely

from minemap.geo.geometry import area_ha, to_equal_area

# A clipped piece narrower than this on average (metres) is the float noise of
# an edge a release shares with a field: the edges are transformed from the
# same metres, but a straight chord in degrees between different end points
# bows away from its neighbour by micrometres to millimetres, so "touching"
# releases overlap fields in hair-thin strips.  They are not released land.
_NOISE_WIDTH_M = 0.01
# Only pieces under this area (hectares) can be that noise: above it a strip
# of 1 cm would be more than 10 km long.
_NOISE_MAX_HA = 0.01


def real_overlap(pieces: np.ndarray, piece_ha: np.ndarray) -> np.ndarray:
    """Mask of pieces that are released land, not the noise of a shared edge."""
    piece_ha = np.nan_to_num(np.asarray(piece_ha, dtype=float))
    real = piece_ha > 0
    small = np.flatnonzero(real & (piece_ha < _NOISE_MAX_HA))
    if len(small):
        # Mean width = 2 × area / perimeter, in metres on the equal-area plane.
        length = shapely.length(to_equal_area(pieces[small]))
        with np.errstate(divide="ignore", invalid="ignore"):
            width = np.where(length > 0, 2.0 * piece_ha[small] * 1e4 / length, 0.0)
        real[small] = width >= _NOISE_WIDTH_M
    return real


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
        return union_runs(self.pieces, self.start[fields], self.count[fields])

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


def union_runs(geoms: np.ndarray, start: np.ndarray, count: np.ndarray) -> np.ndarray:
    """The union of each run ``geoms[start[i] : start[i] + count[i]]`` (``count`` ≥ 1)."""
    out = np.empty(len(start), dtype=object)
    # Group by run length so the padded 2-D array wastes nothing; the union
    # per row is then one vectorised GEOS call per group.
    for k in np.unique(count):
        sel = np.flatnonzero(count == k)
        rows = start[sel][:, None] + np.arange(k)[None, :]
        out[sel] = geoms[rows[:, 0]] if k == 1 else shapely.union_all(geoms[rows], axis=1)
    return out


def _pairs(
    fields_ll: np.ndarray,
    tree: shapely.STRtree,
    rel: np.ndarray,
    field_bounds: np.ndarray | None = None,
    rel_bounds: np.ndarray | None = None,
) -> tuple:
    """(field pos, release pos, contained) for every intersecting pair.

    ``field_bounds`` and ``rel_bounds`` are ``shapely.bounds`` of the two
    arrays, when the caller has them already.
    """
    fi, ri = tree.query(fields_ll, predicate="intersects")
    # The releases are prepared, so this costs far less than an intersection
    # and spares the intersection of every field lying inside a release.  A
    # release can contain a field only if its box covers the field's box, and
    # that holds for a fifth of the pairs: GEOS is asked about those alone.
    contained = np.zeros(len(fi), dtype=bool)
    if len(fi):
        fb = shapely.bounds(fields_ll) if field_bounds is None else field_bounds
        rb = shapely.bounds(rel[ri]) if rel_bounds is None else rel_bounds[ri]
        k = np.flatnonzero(_covers_box(rb, fb[fi]))
        contained[k] = shapely.contains_properly(rel[ri[k]], fields_ll[fi[k]])
    return fi, ri, contained


def _covers_box(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """Rows where box ``outer`` covers box ``inner`` (bounds arrays, n × 4)."""
    return (
        (outer[:, 0] <= inner[:, 0]) & (outer[:, 1] <= inner[:, 1])
        & (outer[:, 2] >= inner[:, 2]) & (outer[:, 3] >= inner[:, 3])
    )


def _pieces(fields_ll: np.ndarray, rel: np.ndarray, fi: np.ndarray, ri: np.ndarray) -> tuple:
    pieces = shapely.intersection(fields_ll[fi], rel[ri])
    return pieces, area_ha(pieces)


def _last_dates(
    f: np.ndarray,
    rel: np.ndarray,
    fi: np.ndarray,
    ri: np.ndarray,
    known: np.ndarray,
    unknown: np.ndarray,
    ranks: np.ndarray,
    n: int,
) -> np.ndarray:
    """Latest ``date_end`` of the releases overlapping each field (not just touching).

    ``known`` pairs are known to overlap.  ``unknown`` pairs (of fields wholly
    released, whose pieces were never computed) are tested only when they
    could raise the field's latest date.  ``ranks`` are the pairs' dates as
    integers in date order, 0 for no date (see :func:`date_ranks`); so is the
    result, one per field.
    """
    best = np.zeros(n, dtype=np.int64)
    np.maximum.at(best, fi[known], ranks[known])
    u = np.flatnonzero(unknown)
    u = u[ranks[u] > best[fi[u]]]
    if len(u):
        # Interiors meeting in an area; merely touching releases do not count.
        hit = shapely.relate_pattern(rel[ri[u]], f[fi[u]], "2********")
        np.maximum.at(best, fi[u[hit]], ranks[u[hit]])
    return best


def date_ranks(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ISO date texts as integer ranks (0 = no date) and the texts by rank.

    Comparing ranks is comparing the texts, at integer speed: the latest date
    of a field is then a ``maximum.at`` instead of a sort of strings.
    """
    # Fixed-width text sorts far faster than Python strings; the order is the
    # same (code point by code point).  Texts are at most 10 characters.
    texts, ranks = np.unique(
        np.concatenate([[""], np.asarray(dates, dtype="U10")]), return_inverse=True
    )
    return ranks[1:].astype(np.int64), texts.astype(object)
