"""Which district holds a record, a release, an item or an incident (DESIGN §12).

With district boundaries, each geometry is placed in the district whose
boundary holds most of it: the largest share of a polygon's area, of a
line's length, or the district containing a point (on a shared boundary,
the first district listed).  A geometry outside every boundary keeps its
own ``district`` attribute; without boundaries every geometry does.  A
geometry placed by the boundaries whose own attribute names another
district is a ``district_mismatch``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from minemap.crossref._common import _canon, _empty, _geoms, _join_flags, _text, _valid
from minemap.geo.geometry import area_ha, to_equal_area

__all__ = ["place", "place_frame"]


def _share(geoms: np.ndarray, d_geoms: np.ndarray, gi: np.ndarray, di: np.ndarray) -> np.ndarray:
    """How much of each geometry ``gi`` lies in district ``di`` (area or length)."""
    cut = shapely.intersection(geoms[gi], d_geoms[di])
    dim = shapely.get_dimensions(geoms[gi])
    out = np.zeros(len(gi))
    poly = dim == 2
    if poly.any():
        out[poly] = area_ha(cut[poly])
    line = dim == 1
    if line.any():
        out[line] = shapely.length(to_equal_area(cut[line]))
    out[dim == 0] = 1.0
    return out


def place(geoms: np.ndarray, own: np.ndarray, districts: pd.DataFrame | None
          ) -> tuple[np.ndarray, np.ndarray]:
    """(district, mismatch) of each geometry.

    Parameters
    ----------
    geoms
        Lon/lat geometries (missing ones keep their attribute).
    own
        Each geometry's own ``district`` attribute (any spelling).
    districts
        District boundaries (``district`` + polygons), or None.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Canonical district names (``""`` where unknown) and the mismatch mask.
    """
    own_c = np.array([_canon(d) for d in own], dtype=object)
    out = own_c.copy()
    mismatch = np.zeros(len(own_c), dtype=bool)
    if _empty(districts) or len(geoms) == 0:
        return out, mismatch
    geoms = np.asarray(geoms, dtype=object)
    d_geoms = _valid(_geoms(districts))
    d_names = np.array([_canon(d) for d in _text(districts, "district")], dtype=object)
    ok = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms))
    gi, di = shapely.STRtree(d_geoms).query(_valid(geoms[ok]), predicate="intersects")
    if len(gi) == 0:
        return out, mismatch
    gi = ok[gi]
    share = _share(geoms, d_geoms, gi, di)
    keep = share > 0
    gi, di, share = gi[keep], di[keep], share[keep]
    # Largest share first, then the first district listed.
    order = np.lexsort((di, -share, gi))
    gi, di = gi[order], di[order]
    first = np.r_[True, gi[1:] != gi[:-1]]
    gi, di = gi[first], di[first]
    out[gi] = d_names[di]
    mismatch[gi] = (own_c[gi] != "") & (own_c[gi] != d_names[di])
    return out, mismatch


def place_frame(frame: pd.DataFrame, districts: pd.DataFrame | None, *,
                flag: bool = False) -> pd.DataFrame:
    """A copy of ``frame`` with ``district`` placed by :func:`place`.

    With ``flag``, ``district_mismatch`` is added to the ``flags`` column of
    rows whose own attribute disagrees with the boundaries.
    """
    if _empty(districts) or _empty(frame):
        return frame
    out = frame.copy()
    placed, mismatch = place(_geoms(out), _text(out, "district"), districts)
    out["district"] = placed
    if flag:
        out["flags"] = _join_flags(_text(out, "flags"), [("district_mismatch", mismatch)])
    return out
