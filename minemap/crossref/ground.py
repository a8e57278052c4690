"""Metres on the ground: UTM projection per field, buffers and geodesic distances.

Every distance the crossref reports is a ground distance: shapes are buffered
in each field's own UTM zone (scale within 0.04 % of 1 here), nearest points
are found on that grid and the distance between them is measured on the
WGS84 ellipsoid with :class:`pyproj.Geod`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from pyproj import Geod, Transformer

from minemap.geo.crs import utm_epsg

GEOD = Geod(ellps="WGS84")


@lru_cache(maxsize=64)
def _to_ll_transformer(epsg: int) -> Transformer:
    return Transformer.from_crs(f"EPSG:{epsg}", "EPSG:4326", always_xy=True)


@lru_cache(maxsize=16)
def _to_utm_transformer(epsg: int) -> Transformer:
    return Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True)


def _xy(t: Transformer):
    return lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1]))


def project_utm(geoms: np.ndarray, epsg: np.ndarray) -> np.ndarray:
    """Each lon/lat geometry projected into the UTM zone given for it."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.empty(len(geoms), dtype=object)
    for code in np.unique(epsg):
        sel = np.flatnonzero(epsg == code)
        out[sel] = shapely.transform(geoms[sel], _xy(_to_utm_transformer(int(code))))
    return out


def unproject_utm(geoms: np.ndarray, epsg: np.ndarray) -> np.ndarray:
    """Inverse of :func:`project_utm`: UTM geometries back to lon/lat."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.empty(len(geoms), dtype=object)
    for code in np.unique(epsg):
        sel = np.flatnonzero(epsg == code)
        out[sel] = shapely.transform(geoms[sel], _xy(_to_ll_transformer(int(code))))
    return out


def project_one_zone(geoms: np.ndarray, epsg: int) -> np.ndarray:
    """Lon/lat geometries projected into one UTM zone."""
    return shapely.transform(np.asarray(geoms, dtype=object), _xy(_to_utm_transformer(int(epsg))))


def field_utm_epsg(fields_ll: np.ndarray) -> np.ndarray:
    """The UTM zone of each geometry's bounding-box centre."""
    b = shapely.bounds(np.asarray(fields_ll, dtype=object))
    lon = np.nan_to_num((b[:, 0] + b[:, 2]) / 2)
    lat = np.nan_to_num((b[:, 1] + b[:, 3]) / 2)
    return utm_epsg(lon, lat)


def centre_epsg(geoms_ll: np.ndarray) -> int:
    """The UTM zone of the centre of a set of geometries."""
    b = shapely.total_bounds(np.asarray(geoms_ll, dtype=object))
    return int(utm_epsg(np.array([(b[0] + b[2]) / 2]), np.array([(b[1] + b[3]) / 2]))[0])


def buffer_ground(geoms_ll: np.ndarray, metres: float) -> np.ndarray:
    """Lon/lat geometries buffered by ``metres`` on the ground.

    Each is buffered in its own UTM zone and brought back to lon/lat, so the
    buffer is the same width everywhere (a buffer in degrees would be 30 %
    narrower east-west than north-south at this latitude).
    """
    geoms_ll = np.asarray(geoms_ll, dtype=object)
    if len(geoms_ll) == 0:
        return geoms_ll
    epsg = field_utm_epsg(geoms_ll)
    grown = shapely.buffer(project_utm(geoms_ll, epsg), metres, quad_segs=16)
    return unproject_utm(grown, epsg)


def nearest_ground(
    pts_ll: np.ndarray, geoms_ll: np.ndarray, epsg: int
) -> tuple[np.ndarray, np.ndarray]:
    """(index of the nearest geometry, ground metres to it) for each point.

    Nearest points are found on the UTM grid of zone ``epsg``, then measured
    on the ellipsoid: ground metres, not grid metres (they differ by the
    scale factor, up to 0.1 % at a zone's edge).  Points inside a geometry
    are 0 m away.
    """
    pts_ll = np.asarray(pts_ll, dtype=object)
    idx = np.full(len(pts_ll), -1, dtype=np.int64)
    dist = np.full(len(pts_ll), np.nan)
    if len(pts_ll) == 0 or len(geoms_ll) == 0:
        return idx, dist
    p_utm = project_one_zone(pts_ll, epsg)
    g_utm = project_one_zone(geoms_ll, epsg)
    pi, gi = shapely.STRtree(g_utm).query_nearest(p_utm, all_matches=False)
    idx[pi] = gi
    line = shapely.shortest_line(p_utm[pi], g_utm[gi])
    ends = shapely.get_coordinates(line).reshape(-1, 2, 2)
    to_ll = _to_ll_transformer(int(epsg))
    lon0, lat0 = to_ll.transform(ends[:, 0, 0], ends[:, 0, 1])
    lon1, lat1 = to_ll.transform(ends[:, 1, 0], ends[:, 1, 1])
    dist[pi] = GEOD.inv(lon0, lat0, lon1, lat1)[2]
    return idx, dist


def ground_distance(pts_ll: np.ndarray, geoms_ll: np.ndarray, epsg: int) -> np.ndarray:
    """Ground metres from each point to the nearest of ``geoms_ll`` (see
    :func:`nearest_ground`)."""
    return nearest_ground(pts_ll, geoms_ll, epsg)[1]
