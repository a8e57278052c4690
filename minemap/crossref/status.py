"""The hazard status of a field (DESIGN §1), decided in one place.

A part of a field is a *sliver* when it is thin (no part wider than
``sliver_m``: it vanishes under a negative buffer of ``sliver_m / 2`` in the
field's UTM zone) and small (at most ``sliver_share`` of the field).  A field
is ``released`` when its unreleased remainder is a sliver or empty,
``not_started`` when its released part is, and otherwise ``in_progress``.
The sliver test runs only for fields whose part is small enough to be one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import shapely

from minemap import settings
from minemap.crossref._common import IN_PROGRESS, NOT_STARTED, RELEASED, _valid
from minemap.crossref.ground import field_utm_epsg, project_utm
from minemap.geo.geometry import area_ha

__all__ = ["minefield_status"]


def _thin(parts_ll: np.ndarray, epsg: np.ndarray, sliver_m: float) -> np.ndarray:
    """True where no part of a geometry is wider than ``sliver_m`` metres.

    Tested, as DESIGN §1 says, with a negative buffer of ``sliver_m / 2`` in
    the field's UTM zone: a thin part vanishes.  Empty geometries are thin.
    """
    if len(parts_ll) == 0:
        return np.zeros(0, dtype=bool)
    utm = project_utm(np.asarray(parts_ll, dtype=object), epsg)
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
    epsg = field_utm_epsg(fields_ll)

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
