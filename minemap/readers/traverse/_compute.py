"""Walking a parsed traverse: turning points, misclosure, Bowditch, mine rows.

A grid traverse (or a magnetic one with a direction correction) is walked in
its plane with each leg's ground distance scaled by the projection's point
scale factor; a true one (or magnetic with a declination) geodesically on
the WGS84 ellipsoid.  A closed traverse's misclosure is measured in ground
metres and distributed by the compass rule, which keeps TP1 where it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

from minemap import settings
from minemap.readers.traverse._spec import GEOD, Ctx, Plane, Ref, Spec


def grid_walk(plane: Plane, x0: float, y0: float, bearings: np.ndarray,
              dists: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plane traverse; returns point coordinates (start included) and leg scales."""
    th = np.radians(bearings)
    s, c = np.sin(th), np.cos(th)
    k = np.full(len(dists), float(plane.scale(np.array([x0]), np.array([y0]))[0]))
    # The first pass, with the reference point's scale factor throughout,
    # places the leg starts within millimetres; the scale factor changes by
    # about 4e-9 per metre here, so taking it at those starts is exact to
    # 1e-11 and a further pass would change nothing measurable.
    x = np.concatenate(([x0], x0 + np.cumsum(dists * k * s)))
    y = np.concatenate(([y0], y0 + np.cumsum(dists * k * c)))
    k = plane.scale(x[:-1], y[:-1])
    x = np.concatenate(([x0], x0 + np.cumsum(dists * k * s)))
    y = np.concatenate(([y0], y0 + np.cumsum(dists * k * c)))
    return x, y, k


def true_walk(lon0: float, lat0: float, bearings: np.ndarray,
              dists: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Geodesic traverse; returns point positions, the start included."""
    lons, lats = [lon0], [lat0]
    for b, d in zip(bearings.tolist(), dists.tolist()):
        lon, lat, _ = GEOD.fwd(lons[-1], lats[-1], b, d)
        lons.append(lon)
        lats.append(lat)
    return np.array(lons), np.array(lats)


def bowditch(x: np.ndarray, y: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray,
                                                                         np.ndarray]:
    """Compass-rule adjustment of a closed loop.

    ``x``/``y`` hold TP1 … TPn and then the computed closing point, which
    should coincide with TP1; ``lengths`` the n perimeter legs.  Each point
    moves against the misclosure in proportion to the distance walked from
    TP1, so TP1 stays and the closing point lands on it.
    """
    ex, ey = x[-1] - x[0], y[-1] - y[0]
    cum = np.concatenate(([0.0], np.cumsum(lengths)))
    f = cum[:-1] / cum[-1]
    return x[:-1] - ex * f, y[:-1] - ey * f


@dataclass
class Out:
    """One computed record: its minefield row, polygon, vertices and mine rows."""

    record: dict
    polygon: shapely.Polygon
    vertices: list[tuple[dict, tuple[float, float]]]      # (columns, (lon, lat))
    rows: list[tuple[dict, shapely.LineString]]


@dataclass
class _Walk:
    lon: np.ndarray             # adjusted vertices, WGS84
    lat: np.ndarray
    raw_x: np.ndarray           # unadjusted vertices, source CRS
    raw_y: np.ndarray
    misclosure_m: float


def compute(spec: Spec, ctx: Ctx) -> Out | None:
    """Walk a record; None if its misclosure is refused (reported in ``ctx``)."""
    ref = spec.ref
    assert ref is not None
    bearings, plane_mode, declination = _bearings(spec, ctx)
    walk = _walk(spec, ref, bearings, plane_mode)
    flags: list[str] = []
    mis_m, ratio = walk.misclosure_m, math.nan
    if spec.closed:
        ratio = _check_misclosure(spec, mis_m, ctx)
        if ratio is None:
            return None
    else:
        flags.append("unclosed")
        ctx.warn(spec.name, f"not closed: the polygon is closed straight from "
                 f"{spec.legs[-1].label} back to TP1")
    polygon = shapely.Polygon(np.column_stack([walk.lon, walk.lat]))
    vertices, positions = _vertices(spec, ref, walk)
    rows = _mine_rows(spec, ref, positions, plane_mode, declination)
    total = sum(r["mines"] for r, _ in rows)
    if spec.rows and total != spec.mines_total:
        flags.append("row_count_mismatch")
        ctx.warn(spec.name, f"the rows hold {total} mines but the record says "
                 f"{spec.mines_total}")
    record = {
        "record_id": spec.record_id, "handover": spec.handover, "district": spec.district,
        "mines_ap": spec.mines_ap, "mines_at": spec.mines_at, "mines_total": spec.mines_total,
        "mine_types": spec.mine_types, "laid_date": spec.laid_date,
        "reliability": spec.reliability, "area_ha": math.nan, "flags": ";".join(flags),
        "source_file": ctx.file, "source_crs": ref.source_crs,
        "transformation": ref.transformation, "raw": spec.raw,
        "misclosure_m": mis_m, "misclosure_ratio": ratio, "declination_deg": declination,
    }
    return Out(record, polygon, vertices, rows)


def _bearings(spec: Spec, ctx: Ctx) -> tuple[np.ndarray, bool, float]:
    """Leg bearings from the walk's north, whether it is a plane walk, the declination."""
    ref = spec.ref
    bearings = np.array([leg.bearing for leg in spec.legs])
    declination = math.nan
    plane_mode = spec.north == "grid"
    if spec.north == "magnetic":
        if spec.correction is not None:
            plane_mode = True
            bearings = bearings + spec.correction
            conv = ref.plane.convergence(ref.x, ref.y)
            if spec.declination is not None:
                declination = spec.declination
                implied = spec.correction + conv
                if abs(implied - spec.declination) > 0.5:
                    ctx.warn(spec.name, f"direction_correction implies a declination of "
                             f"{implied:.2f}° but declination_deg is {spec.declination:.2f}°; "
                             "the traverse uses direction_correction")
        else:
            declination = spec.declination if spec.declination is not None else math.nan
            bearings = bearings + declination
    return np.mod(bearings, 360.0), plane_mode, declination


def _walk(spec: Spec, ref: Ref, bearings: np.ndarray, plane_mode: bool) -> _Walk:
    dists = np.array([leg.distance for leg in spec.legs])
    closed = spec.closed
    n_vert = len(spec.legs) - 1 if closed else len(spec.legs)
    mis_m = math.nan
    if plane_mode:
        px, py, k = grid_walk(ref.plane, ref.x, ref.y, bearings, dists)
        ux, uy = px[1:n_vert + 1], py[1:n_vert + 1]
        if closed:
            # Ground metres: the plane misclosure over the scale factor there.
            mis_m = float(math.hypot(px[-1] - px[1], py[-1] - py[1]) / k[-1])
            ax, ay = bowditch(px[1:], py[1:], dists[1:])
        else:
            ax, ay = ux, uy
        lon, lat = ref.plane.to_wgs.transformer.transform(ax, ay)
        if ref.source_is_plane:
            raw_x, raw_y = ux, uy
        else:
            wl, wb = ref.plane.to_wgs.transformer.transform(ux, uy)
            raw_x, raw_y = wgs_to_source(ref, wl, wb)
    else:
        plon, plat = true_walk(ref.lon, ref.lat, bearings, dists)
        ulon, ulat = plon[1:n_vert + 1], plat[1:n_vert + 1]
        if closed:
            mis_m = float(GEOD.inv(plon[-1], plat[-1], plon[1], plat[1])[2])
            # Adjusting linearly in lon/lat: over a minefield the map from
            # lon/lat to a local plane is affine to ~1e-4, so the correction
            # (itself under 1:200 of the perimeter) errs by micrometres.
            lon, lat = bowditch(plon[1:], plat[1:], dists[1:])
        else:
            lon, lat = ulon, ulat
        raw_x, raw_y = wgs_to_source(ref, ulon, ulat)
    return _Walk(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float),
                 np.asarray(raw_x, dtype=float), np.asarray(raw_y, dtype=float), mis_m)


def _check_misclosure(spec: Spec, mis_m: float, ctx: Ctx) -> float | None:
    """The closure ratio, reported; None when it exceeds the tolerance unaccepted."""
    perimeter = float(np.array([leg.distance for leg in spec.legs[1:]]).sum())
    ratio = perimeter / mis_m if mis_m > 0 else math.inf
    shown = f"1:{ratio:.0f}" if math.isfinite(ratio) else "exact"
    message = f"misclosure {mis_m:.2f} m ({shown}) over a perimeter of {perimeter:.1f} m"
    tolerance = settings.misclosure_tolerance
    if ratio >= tolerance:
        ctx.warn(spec.name, message)
    elif ctx.accept:
        ctx.warn(spec.name, message + f", beyond 1:{tolerance}, accepted")
    else:
        ctx.error(spec.name, message + f" exceeds the tolerance 1:{tolerance}; check the "
                  "legs, or accept it with --accept-misclosure")
        return None
    return ratio


def _vertices(spec: Spec, ref: Ref, walk: _Walk
              ) -> tuple[list[tuple[dict, tuple[float, float]]],
                         dict[str, tuple[float, float]]]:
    """The vertex rows (RP first) and each point label's position."""
    vertices = [(
        {"record_id": spec.record_id, "handover": spec.handover, "vertex": 0, "label": "RP",
         "point_type": "reference", "raw_x": ref.raw_x, "raw_y": ref.raw_y},
        (ref.lon, ref.lat))]
    positions = {"RP": (ref.lon, ref.lat)}
    for i in range(len(walk.lon)):
        leg = spec.legs[i]
        xy = (float(walk.lon[i]), float(walk.lat[i]))
        vertices.append((
            {"record_id": spec.record_id, "handover": spec.handover, "vertex": i + 1,
             "label": leg.label, "point_type": leg.point_type,
             "raw_x": float(walk.raw_x[i]), "raw_y": float(walk.raw_y[i])}, xy))
        positions[leg.label] = xy
    return vertices, positions


def _mine_rows(spec: Spec, ref: Ref, positions: dict[str, tuple[float, float]],
               plane_mode: bool, declination: float) -> list[tuple[dict, shapely.LineString]]:
    """Each mine row as a line from its start point, walked as the legs are."""
    rows = []
    for j, row in enumerate(spec.rows, start=1):
        slon, slat = positions[row.start]
        rb = row.bearing
        if spec.north == "magnetic":
            rb += spec.correction if spec.correction is not None else declination
        rb %= 360.0
        if plane_mode:
            sx, sy = ref.plane.to_wgs.transformer.transform(slon, slat, direction="INVERSE")
            ex, ey, _ = grid_walk(ref.plane, sx, sy, np.array([rb]), np.array([row.distance]))
            elon, elat = ref.plane.to_wgs.transformer.transform(ex[-1], ey[-1])
        else:
            elon, elat, _ = GEOD.fwd(slon, slat, rb, row.distance)
        spacing = row.spacing
        if spacing is None:
            spacing = row.distance / (row.mines - 1) if row.mines > 1 else math.nan
        rows.append((
            {"record_id": spec.record_id, "handover": spec.handover, "row": j,
             "mines": row.mines, "mine_type": row.mine_type, "spacing_m": spacing},
            shapely.LineString([(slon, slat), (elon, elat)])))
    return rows


def wgs_to_source(ref: Ref, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 positions in the reference point's source CRS (the raw coordinates)."""
    if ref.source_crs == "EPSG:4326":
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    x, y = ref.source.transformer.transform(lon, lat, direction="INVERSE")
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)
