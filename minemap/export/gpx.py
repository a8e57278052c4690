"""GPX 1.1 for field GPS units, written with gpxpy.

Fields become waypoints ``<record_id>-TP<n>`` (``<handover>:<record_id>-TP<n>``
where an id repeats across handovers, because GPS units overwrite waypoints
that share a name) numbered in the record's own order
(:func:`minemap.export.vertices.turning_points`), and a route along them.
Mine rows become routes; items and incidents waypoints.
"""

from __future__ import annotations

from typing import IO, Any

import geopandas
import gpxpy.gpx
import shapely

from minemap._errors import Problem
from minemap.export.common import _attribute_columns, _column_values, _ids, _text, _xml_text
from minemap.export.vertices import turning_points

_FIELD_LAYERS = ("minefields", "crossref")


def _summary(row: dict[str, Any], layer: str) -> str:
    keys = ("handover", "district", "mines_ap", "mines_at", "mines_total", "status",
            "remaining_est", "outcome", "item_type", "date", "date_end", "mines", "mine_type")
    parts = [f"{k} {_text(row[k])}" for k in keys if k in row and row[k] not in (None, "")]
    return _xml_text(f"{layer}: " + "; ".join(parts) if parts else layer)


def _wpt(lon: float, lat: float, precision: int, name: str, desc: str | None,
         kind: str | None) -> gpxpy.gpx.GPXWaypoint:
    return gpxpy.gpx.GPXWaypoint(round(float(lat), precision), round(float(lon), precision),
                                 name=_xml_text(name), description=desc, type=kind)


def _rtept(lon: float, lat: float, precision: int, name: str) -> gpxpy.gpx.GPXRoutePoint:
    return gpxpy.gpx.GPXRoutePoint(round(float(lat), precision), round(float(lon), precision),
                                   name=_xml_text(name))


def _route(name: str, desc: str, points: list) -> gpxpy.gpx.GPXRoute:
    rte = gpxpy.gpx.GPXRoute(name=_xml_text(name), description=desc)
    rte.points.extend(points)
    return rte


def _shared_ids(ids: list[str], handovers: list) -> set[str]:
    seen: dict[str, set] = {}
    for rid, h in zip(ids, handovers):
        seen.setdefault(rid, set()).add(h)
    return {r for r, hs in seen.items() if len(hs) > 1}


def _write_gpx(fh: IO[str], frame: geopandas.GeoDataFrame, layer: str, precision: int,
               vertices: geopandas.GeoDataFrame | None, file: str) -> list[str]:
    warnings: list[str] = []
    gpx = gpxpy.gpx.GPX()
    gpx.creator = "minemap"
    gpx.name = _xml_text(layer)
    gpx.description = ("Turning points (waypoints <id>-TP<n>, in the record's order) and "
                       "perimeters (routes). Coordinates WGS84.")
    cols = _attribute_columns(frame, drop_raw=True)
    values = {c: _column_values(frame[c], c) for c in cols}
    ids = list(_ids(frame, layer))
    hands = values.get("handover", [None] * len(frame))
    shared = _shared_ids(ids, hands)
    for r in sorted(shared):
        warnings.append(str(Problem(file, r, f"layer {layer}: the id appears in several"
                                    " handovers; its waypoints are named <handover>:<id>-TPn",
                                    "warning")))

    def name_of(i: int) -> str:
        return f"{hands[i]}:{ids[i]}" if ids[i] in shared else ids[i]

    descs = [_summary({c: values[c][i] for c in cols}, layer) for i in range(len(frame))]
    if layer in _FIELD_LAYERS:
        warnings += _field_points(gpx, frame, vertices, precision, name_of, descs, layer, file)
    else:
        _other_points(gpx, frame, precision, name_of, descs, layer,
                      values.get("row") if layer == "mine_rows" else None)
    fh.write(gpx.to_xml(version="1.1"))
    fh.write("\n")
    return warnings


def _field_points(gpx, frame, vertices, precision, name_of, descs, layer, file) -> list[str]:
    """Waypoints and one route per field part, in the record's order."""
    tps, notes = turning_points(frame, vertices)
    index = {}
    for i, (rid, h) in enumerate(zip(frame["record_id"].astype(str),
                                     frame["handover"] if "handover" in frame
                                     else [None] * len(frame))):
        index[(rid, "" if h is None or h != h else str(h))] = i
    xy = shapely.get_coordinates(tps.geometry.values) if len(tps) else []
    routes: dict[tuple, list] = {}
    for j, row in enumerate(tps.itertuples(index=False)):
        i = index[(row.record_id, row.handover)]
        base = name_of(i)
        name = f"{base}-{row.label}"
        x, y = xy[j]
        gpx.waypoints.append(_wpt(x, y, precision, name, descs[i], row.point_type))
        if row.point_type != "reference":
            routes.setdefault((i, row.part), []).append(_rtept(x, y, precision, name))
    parts_of: dict[int, int] = {}
    for i, _ in routes:
        parts_of[i] = parts_of.get(i, 0) + 1
    for (i, part), pts in routes.items():
        pts.append(_rtept(pts[0].longitude, pts[0].latitude, precision, pts[0].name))
        rname = name_of(i) if parts_of[i] == 1 else f"{name_of(i)} part {part}"
        gpx.routes.append(_route(rname, descs[i], pts))
    warnings = [str(Problem(file, r, f"layer {layer}: hole(s) not exported to GPX", "warning"))
                for r in notes["holes"]]
    if notes["from_ring"]:
        shown = ", ".join(notes["from_ring"][:5]) + (" …" if len(notes["from_ring"]) > 5
                                                      else "")
        warnings.append(
            f"{file}: layer {layer}: the store has no vertices (the record's own turning-point "
            f"order) for {len(notes['from_ring'])} field(s) ({shown}); their turning points "
            f"are numbered along the stored ring: check TP numbers against the paper record")
    return warnings


def _other_points(gpx, frame, precision, name_of, descs, layer, rows) -> None:
    for i, g in enumerate(frame.geometry.values):
        if g is None or g.is_empty:
            continue
        base = name_of(i)
        if rows is not None and rows[i] is not None:
            base = f"{base}-R{rows[i]}"
        if g.geom_type in ("LineString", "MultiLineString", "LinearRing"):
            for k, part in enumerate(shapely.get_parts(g)):
                pts = [_rtept(x, y, precision, f"{base}-{j + 1}")
                       for j, (x, y) in enumerate(shapely.get_coordinates(part))]
                gpx.routes.append(_route(base if k == 0 else f"{base} part {k + 1}",
                                         descs[i], pts))
        elif g.geom_type in ("Polygon", "MultiPolygon"):
            # Releases and districts: their outlines, as routes.
            for k, part in enumerate(shapely.get_parts(g)):
                pts = [_rtept(x, y, precision, f"{base}-{j + 1}")
                       for j, (x, y) in enumerate(shapely.get_coordinates(part.exterior))]
                gpx.routes.append(_route(base if k == 0 else f"{base} part {k + 1}",
                                         descs[i], pts))
        else:
            pts = shapely.get_coordinates(g)
            for j, (x, y) in enumerate(pts):
                name = base if len(pts) == 1 else f"{base}-{j + 1}"
                gpx.waypoints.append(_wpt(x, y, precision, name, descs[i], layer))
