"""Turning points in the record's own order, and the TP coordinate table.

One rule for GPX waypoints, ``export --layer vertices`` and printed sheets
(DESIGN §12): a field's turning points come from the store's ``vertices``
layer (the traverse's legs, or the source file's ring order and starting
vertex for GIS sources) when it has rows for that field, and from the stored
ring otherwise, which is then said in a warning.  Orienting rings for RFC 7946
is a GeoJSON concern and never renumbers them.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas
import mgrs as _mgrs
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from minemap.geo.crs import utm_crs

#: Columns of :func:`turning_points`, besides ``geometry``.
TP_COLUMNS: tuple[str, ...] = (
    "record_id", "handover", "vertex", "label", "point_type", "part", "tp_source",
)

#: ``tp_source`` of points taken from the ``vertices`` layer / from the stored ring.
FROM_RECORD = "record"
FROM_RING = "stored_ring"


def _field_key(record_id: object, handover: object) -> tuple[str, str]:
    return (str(record_id), "" if handover is None or handover != handover else str(handover))


def turning_points(
    fields: geopandas.GeoDataFrame,
    vertices: geopandas.GeoDataFrame | None = None,
) -> tuple[geopandas.GeoDataFrame, dict[str, list[str]]]:
    """The turning points of every field, in the record's order.

    Parameters
    ----------
    fields
        Polygon frame with ``record_id`` (and ``handover``), EPSG:4326.
    vertices
        The store's ``vertices`` layer (``schema.VERTEX_COLUMNS``), or None.

    Returns
    -------
    points : GeoDataFrame
        :data:`TP_COLUMNS` plus point geometry, field by field in the order
        of `fields`.  ``vertex`` is the record's order (0 for the reference
        point).  Fields without vertex rows get their stored exterior rings,
        labelled ``TP1``… across parts, with ``tp_source`` ``stored_ring``.
    notes : dict
        ``{"from_ring": [ids], "holes": [ids]}``: fields numbered along the
        stored ring, and fields whose holes have no turning points.
    """
    lookup = _vertex_rows(vertices)
    rows: list[dict] = []
    geoms: list[shapely.Point] = []
    notes: dict[str, list[str]] = {"from_ring": [], "holes": []}
    hand = fields["handover"].tolist() if "handover" in fields else [None] * len(fields)
    for rid, h, g in zip(fields["record_id"].tolist(), hand, fields.geometry.values):
        key = _field_key(rid, h)
        if key in lookup:
            pts = lookup[key]
            parts = _part_of(g, [(x, y) for *_, x, y in pts])
            for (vertex, label, ptype, x, y), part in zip(pts, parts):
                rows.append({"record_id": str(rid), "handover": key[1], "vertex": vertex,
                             "label": label, "point_type": ptype, "part": part,
                             "tp_source": FROM_RECORD})
                geoms.append(shapely.Point(x, y))
            continue
        if g is None or g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        notes["from_ring"].append(str(rid))
        n = 0
        for k, part in enumerate(shapely.get_parts(g), start=1):
            if len(part.interiors):
                notes["holes"].append(str(rid))
            for x, y in shapely.get_coordinates(part.exterior)[:-1]:
                n += 1
                rows.append({"record_id": str(rid), "handover": key[1], "vertex": n,
                             "label": f"TP{n}", "point_type": "turning", "part": k,
                             "tp_source": FROM_RING})
                geoms.append(shapely.Point(x, y))
    notes["holes"] = list(dict.fromkeys(notes["holes"]))
    frame = pd.DataFrame(rows, columns=list(TP_COLUMNS))
    frame["vertex"] = frame["vertex"].astype("int64")
    frame["part"] = frame["part"].astype("int64")
    return geopandas.GeoDataFrame(frame, geometry=geoms or None, crs="EPSG:4326"), notes


def _part_of(geom: shapely.Geometry | None, xy: list[tuple[float, float]]) -> list[int]:
    """For each point, the 1-based part of a multi-part field whose outline it is on.

    The vertices layer numbers a record's corners across its parts; a route
    must not jump from one part to the next, so each corner goes with the
    part whose exterior it lies on (the nearest).  A reference point, off
    every outline, goes with its nearest part and is not on any route.
    """
    if geom is None or geom.is_empty or geom.geom_type != "MultiPolygon" or not xy:
        return [1] * len(xy)
    rings = shapely.get_exterior_ring(shapely.get_parts(geom))
    points = shapely.points(np.asarray(xy, dtype=float))
    dist = shapely.distance(points[:, None], rings[None, :])
    return (np.argmin(dist, axis=1) + 1).tolist()


def _vertex_rows(vertices: geopandas.GeoDataFrame | None) -> dict[tuple, list[tuple]]:
    """``{(record_id, handover): [(vertex, label, point_type, lon, lat), …]}`` sorted."""
    if vertices is None or len(vertices) == 0:
        return {}
    v = vertices
    if v.crs is not None and not v.crs.equals("EPSG:4326"):
        v = v.to_crs("EPSG:4326")
    xy = shapely.get_coordinates(v.geometry.values)
    if len(xy) != len(v):
        from minemap._errors import DataError

        raise DataError("vertices: every vertex must be a single point")
    n = len(v)
    rec = v["record_id"].astype(str).tolist()
    hand = v["handover"].tolist() if "handover" in v else [None] * n
    order = v["vertex"].astype("int64").tolist() if "vertex" in v else list(range(1, n + 1))
    labels = v["label"].tolist() if "label" in v else [None] * n
    ptypes = v["point_type"].tolist() if "point_type" in v else ["turning"] * n
    out: dict[tuple, list[tuple]] = {}
    for i in range(n):
        out.setdefault(_field_key(rec[i], hand[i]), []).append(
            (order[i], labels[i], ptypes[i] or "turning", float(xy[i, 0]), float(xy[i, 1])))
    for pts in out.values():
        pts.sort(key=lambda p: p[0])
        # A source without labels: TP1… in the record's order (a reference
        # point, if any, keeps RP).
        tp = 0
        for j, (vertex, label, ptype, x, y) in enumerate(pts):
            if ptype != "reference":
                tp += 1
            if not isinstance(label, str) or not label:
                pts[j] = (vertex, "RP" if ptype == "reference" else f"TP{tp}", ptype, x, y)
    return out


def mgrs_strings(lon: Sequence[float], lat: Sequence[float], digits: int = 5) -> list[str]:
    """MGRS references (``digits`` per axis: 5 is 1 m) of WGS84 points."""
    m = _mgrs.MGRS()
    return [m.toMGRS(float(b), float(a), MGRSPrecision=digits) for a, b in zip(lon, lat)]


def utm_coordinates(lon: np.ndarray, lat: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Each point's own UTM zone (the one zone rule, :func:`~minemap.geo.crs.utm_crs`)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    zones = [""] * len(lon)
    east = np.full(len(lon), np.nan)
    north = np.full(len(lon), np.nan)
    crss = [utm_crs(x, y) for x, y in zip(lon, lat)]
    for code in sorted({c.to_epsg() for c in crss}):
        idx = np.array([i for i, c in enumerate(crss) if c.to_epsg() == code])
        tr = Transformer.from_crs("EPSG:4326", f"EPSG:{code}", always_xy=True)
        east[idx], north[idx] = tr.transform(lon[idx], lat[idx])
        name = f"{code % 100}{'N' if code < 32700 else 'S'}"
        for i in idx:
            zones[i] = name
    return zones, east, north


def tp_table(points: geopandas.GeoDataFrame, *, projection=None) -> pd.DataFrame:
    """The turning-point coordinate table: lat/lon, MGRS, UTM and a chosen CRS.

    Parameters
    ----------
    points
        From :func:`turning_points` (or the ``vertices`` layer).
    projection
        A :class:`minemap.export.projection.Projection`, or None: adds
        ``crs_easting`` and ``crs_northing`` in that CRS.

    Returns
    -------
    DataFrame
        The point columns, then ``lat``, ``lon``, ``mgrs``, ``utm_zone``,
        ``utm_easting``, ``utm_northing`` (and ``crs_easting``, ``crs_northing``),
        full precision
        (rounding is the writer's job, :mod:`minemap.export.rounding`).
    """
    xy = shapely.get_coordinates(points.geometry.values) if len(points) else np.zeros((0, 2))
    table = pd.DataFrame(points.drop(columns=points.geometry.name)).reset_index(drop=True)
    table["lat"] = xy[:, 1]
    table["lon"] = xy[:, 0]
    table["mgrs"] = mgrs_strings(xy[:, 0], xy[:, 1])
    zones, east, north = utm_coordinates(xy[:, 0], xy[:, 1])
    table["utm_zone"] = zones
    table["utm_easting"] = east
    table["utm_northing"] = north
    if projection is not None:
        table["crs_easting"], table["crs_northing"] = projection.forward(xy[:, 0], xy[:, 1])
    return table
