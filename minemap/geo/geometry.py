"""Geometry helpers: orientation, geodesic areas, repair.

Areas are geodesic hectares on the WGS84 ellipsoid (DESIGN §2).  They are
computed in a Lambert azimuthal equal-area projection centred on the data,
which is vectorised and agrees with ``pyproj.Geod.geometry_area_perimeter``
on correctly oriented polygons to far better than 0.1 % for fields of any
realistic size (tested).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer

from minemap import settings
from minemap.geo.crs import utm_crs


def orient(geoms: np.ndarray | shapely.Geometry) -> np.ndarray:
    """Orient polygons RFC 7946 style: exterior CCW, holes CW."""
    return shapely.orient_polygons(geoms, exterior_cw=False)


@lru_cache(maxsize=8)
def _laea(lon0: float, lat0: float) -> Transformer:
    crs = CRS.from_proj4(f"+proj=laea +lat_0={lat0} +lon_0={lon0} +ellps=WGS84 +units=m")
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def _laea_for(geoms: np.ndarray) -> Transformer:
    # Centred on the area of interest, not on the data, so a field's area
    # does not depend on which other fields were read with it.
    west, south, east, north = settings.aoi
    return _laea((west + east) / 2, (south + north) / 2)


def to_equal_area(geoms: np.ndarray) -> np.ndarray:
    """Project WGS84 lon/lat geometries to an equal-area plane in metres."""
    geoms = np.asarray(geoms, dtype=object)
    t = _laea_for(geoms)
    return shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def area_ha(geoms: np.ndarray) -> np.ndarray:
    """Geodesic areas in hectares of WGS84 lon/lat geometries.

    Parameters
    ----------
    geoms
        Array of shapely geometries in EPSG:4326 (lon, lat).  Missing
        geometries give NaN.

    Returns
    -------
    numpy.ndarray
        Hectares; 0 for non-polygonal or empty geometries.
    """
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return np.zeros(0)
    return shapely.area(to_equal_area(geoms)) / 10_000.0


def to_utm(geoms: np.ndarray) -> tuple[np.ndarray, CRS]:
    """Project lon/lat geometries into the UTM zone of their common centre."""
    geoms = np.asarray(geoms, dtype=object)
    b = shapely.total_bounds(geoms)
    crs = utm_crs((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)
    t = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    out = shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
    return out, crs


def polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygonal part of a geometry (after ``make_valid``), or empty."""
    if geom is None:
        return shapely.Polygon()
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    if geom.geom_type == "GeometryCollection":
        polys = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
        if not polys:
            return shapely.Polygon()
        return shapely.union_all(polys)
    return shapely.Polygon()
