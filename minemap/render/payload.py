"""The map's payload: every feature of the page as one compact, escaped JSON object.

The page's own JS (``static/*.js``) builds every layer from this object.
Values are raw (as ``minemap export`` writes them), column-wise with
repeated strings through a dictionary, geometry as delta-encoded integer
micro-degrees; :func:`embed_json` makes the JSON safe inside ``<script>``.

Each field is embedded with its export geometry (that of ``minemap export``),
which the draw-and-export control writes.  It is drawn with that geometry when
it is no larger than the display geometry, else with the display geometry,
simplified for speed but never moving a hazard boundary inward: see
:func:`display_geometry`.  Either way a boundary is drawn at most 0.08 m
(6-decimal rounding) inside the record, and only when the tolerance allows it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from minemap import settings, styles
from minemap._errors import DataError, Problem, UsageError
from minemap.export import prepare_geometries, to_geojson_dict
from minemap.geo import districts as _districts
from minemap.geo.crs import utm_epsg
from minemap.records.schema import OUTCOMES, STATUSES

__all__ = ["embed_json", "display_geometry", "palette", "build_payload", "DENSITY_BREAKS"]

#: Remaining-density class limits (mines per hectare) used for fill opacity.
DENSITY_BREAKS: tuple[float, ...] = (0.0, 10.0, 50.0, 200.0)

#: Margin (metres) added to the outward buffer so that rounding displayed
#: coordinates to 6 decimals (at most ~0.08 m on the ground) cannot move the
#: boundary inside the original.
ROUNDING_MARGIN_M = 0.1

#: Colours only the web map uses, beside :mod:`minemap.styles`: the district
#: choropleth (a blue-grey ramp, no hue shared with the status colours), the
#: heat ramp (blue to purple: neither red nor green, so never read as a status),
#: the ink of drawn and measured lines, and the count's colour on each cluster
#: bubble (dark on the light greys, white on the dark one).
CHOROPLETH = ("#f1f3f6", "#d5dbe4", "#aab6c8", "#7d8fab", "#51658a")
HEAT = ("#c6dbef", "#6baed6", "#2171b5", "#54278f")
INK = "#222222"
CLUSTER_TEXT = ("#222222", "#222222", "#ffffff")

_DISTRICT_TOLERANCE_M = 10.0
_COORD_SCALE = 1_000_000  # 6 decimals: ~0.1 m

#: Rounding a vertex to 6 decimals moves it by at most half a unit in each
#: axis: 0.0557 m north-south and at most 0.0557 m east-west, 0.079 m in all.
#: A field is drawn with its export geometry (exact but for that rounding)
#: when the display tolerance allows this much inward movement.
_ROUNDING_M = 0.08


def palette() -> dict[str, Any]:
    """Every colour the map uses, for the JS: :mod:`minemap.styles` plus the map-only ramps."""
    return {
        "status": dict(styles.STATUS), "outcome": dict(styles.OUTCOME), "item": dict(styles.ITEM),
        "cluster": list(styles.CLUSTER), "cluster_text": list(CLUSTER_TEXT),
        "incident": dict(styles.INCIDENT), "suspect": dict(styles.SUSPECT),
        "remaining": dict(styles.REMAINING), "district": dict(styles.DISTRICT),
        "mine_row": dict(styles.MINE_ROW), "review": styles.REVIEW, "shifted": styles.SHIFTED,
        "choropleth": list(CHOROPLETH), "heat": list(HEAT), "ink": INK,
    }


# --------------------------------------------------------------------- JSON

_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                 "\u2028": "\\u2028", "\u2029": "\\u2029"}
_JSON_ESCAPE_RE = re.compile("[<>&\u2028\u2029]")


def embed_json(obj: Any) -> str:
    """JSON for a ``<script>`` block: raw values, but nothing can end the block.

    ``<``, ``>`` and ``&`` are written as ``\\u003c``, ``\\u003e`` and
    ``\\u0026`` (valid JSON escapes), so ``</script>`` or ``<!--`` in a value
    can never close or alter the script element; ``JSON.parse`` restores the
    raw value.
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _JSON_ESCAPE_RE.sub(lambda m: _JSON_ESCAPES[m.group(0)], text)


# ----------------------------------------------------------------- geometry

def _zones(geoms: np.ndarray) -> np.ndarray:
    """EPSG code of the UTM zone of each geometry's centre (the one rule: geo.crs.utm_epsg)."""
    b = shapely.bounds(geoms)
    return np.asarray(utm_epsg((b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2), dtype=int)


def _project(geoms: np.ndarray, t: Transformer) -> np.ndarray:
    return shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def _round6(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(geoms, lambda xy: np.round(xy * _COORD_SCALE) / _COORD_SCALE)


def display_geometry(geoms: Iterable[shapely.Geometry], *, tolerance_m: float,
                     outward: bool = True) -> np.ndarray:
    """Simplified lon/lat geometries for display, rounded to 6 decimals.

    With ``outward=True`` (hazard polygons) the result contains the original:
    every original point lies inside the displayed polygon, so a boundary is
    never moved inward.  In the field's UTM zone the polygon is buffered
    outward by ``d = (tolerance_m + 0.1 m) / cos(22.5°)`` (round joins of 8
    segments per circle, whose chords lie at least ``d·cos(22.5°)`` out), then
    simplified by Douglas-Peucker with ``tolerance_m``, which moves the
    boundary by at most ``tolerance_m``; the remaining 0.1 m absorbs rounding
    to 6 decimals (≤ 0.08 m).  The displayed boundary thus lies between 0.1 m
    and about ``2·tolerance_m + 0.2 m`` outside the original.  The result is
    checked after rounding; a field that fails the check (none is known to)
    is shown unsimplified, buffered by the margin only.

    With ``outward=False`` (release polygons, districts) it is a plain
    topology-preserving simplification in UTM.

    Parameters
    ----------
    geoms
        Polygonal (or, with ``outward=False``, any) geometries in EPSG:4326.
    tolerance_m
        Simplification tolerance in metres (``settings.display_tolerance_m``).
    outward
        Whether the displayed geometry must contain the original.

    Returns
    -------
    numpy.ndarray
        Geometries in EPSG:4326, coordinates rounded to 6 decimals.
    """
    geoms = np.asarray(list(geoms) if not isinstance(geoms, np.ndarray) else geoms, dtype=object)
    out = np.empty(len(geoms), dtype=object)
    if len(geoms) == 0:
        return out
    tol = max(float(tolerance_m), 0.0)
    zones = _zones(geoms)
    for code in np.unique(zones):
        sel = np.flatnonzero(zones == code)
        fwd = Transformer.from_crs("EPSG:4326", f"EPSG:{code}", always_xy=True)
        inv = Transformer.from_crs(f"EPSG:{code}", "EPSG:4326", always_xy=True)
        orig = _project(geoms[sel], fwd)
        if outward:
            bad = ~shapely.is_valid(orig)
            if bad.any():
                orig[bad] = shapely.make_valid(orig[bad])
            d = (tol + ROUNDING_MARGIN_M) / math.cos(math.pi / 8)
            shown = shapely.buffer(orig, d, quad_segs=2)
            if tol > 0:
                shown = shapely.simplify(shown, tol, preserve_topology=True)
            lonlat = _round6(_project(shown, inv))
            # Verify after rounding, in the same plane, that nothing of the
            # original is left outside; fall back field by field.
            back = shapely.make_valid(_project(lonlat, fwd))
            ok = shapely.covers(back, orig)
            if not ok.all():
                safe = shapely.buffer(orig[~ok], ROUNDING_MARGIN_M * 2, quad_segs=8)
                lonlat[~ok] = _round6(_project(safe, inv))
        else:
            shown = shapely.simplify(orig, tol, preserve_topology=True) if tol > 0 else orig
            lonlat = _round6(_project(shown, inv))
        out[sel] = lonlat
    return out


def _ring_ints(coords: np.ndarray) -> list[int]:
    """Delta-encoded integer coordinates (1e-6 degrees): x0, y0, dx1, dy1, …"""
    q = np.round(np.asarray(coords)[:, :2] * _COORD_SCALE).astype(np.int64)
    d = np.vstack([q[:1], np.diff(q, axis=0)])
    return d.ravel().tolist()


def _polygon_parts(geom: shapely.Geometry) -> list[list[list[int]]]:
    parts = []
    for poly in shapely.get_parts(geom):
        if poly.geom_type != "Polygon" or poly.is_empty:
            continue
        # The closing vertex repeats the first; Leaflet closes rings itself.
        rings = [_ring_ints(np.asarray(poly.exterior.coords)[:-1])]
        rings += [_ring_ints(np.asarray(r.coords)[:-1]) for r in poly.interiors]
        parts.append(rings)
    return parts


def _line_parts(geom: shapely.Geometry) -> list[list[int]]:
    return [_ring_ints(np.asarray(g.coords)) for g in shapely.get_parts(geom)
            if g.geom_type == "LineString" and not g.is_empty]


def _points_xy(geoms: np.ndarray) -> list[int]:
    xy = shapely.get_coordinates(geoms)
    return np.round(xy * _COORD_SCALE).astype(np.int64).ravel().tolist()


# ------------------------------------------------------------------ columns

def _json_value(v: Any, ndigits: int = 4) -> Any:
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        if not math.isfinite(float(v)):
            return None
        f = round(float(v), ndigits)
        return int(f) if f.is_integer() and abs(f) < 2**53 else f
    if isinstance(v, (pd.Timestamp,)):
        return v.date().isoformat() if v == v.normalize() else v.isoformat()
    if v is pd.NaT:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return str(v)


def _encode_columns(df: pd.DataFrame, columns: Iterable[str]) -> dict[str, Any]:
    """Column-wise properties; repeated strings go through a dictionary."""
    columns = list(columns)
    return _encode_lists(columns, [[_json_value(v) for v in df[c].tolist()] for c in columns],
                         len(df))


def _encode_lists(names: list[str], values: list[list[Any]], n: int) -> dict[str, Any]:
    cols: dict[str, Any] = {}
    order = []
    for name, vals in zip(names, values):
        order.append(str(name))
        strings = [v for v in vals if v is not None]
        if strings and all(isinstance(v, str) for v in strings):
            uniq = list(dict.fromkeys(strings))
            if len(uniq) * 2 <= n:
                index = {u: k for k, u in enumerate(uniq)}
                cols[str(name)] = {"d": uniq, "i": [-1 if v is None else index[v] for v in vals]}
                continue
        cols[str(name)] = {"v": vals}
    return {"order": order, "cols": cols}


# ------------------------------------------------------------------- checks

def _as_wgs84(gdf: Any, layer: str) -> Any:
    if gdf is None:
        return None
    if not hasattr(gdf, "geometry"):
        raise UsageError(f"{layer}: expected a GeoDataFrame with a geometry column")
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    return gdf.reset_index(drop=True)


def _record_name(df: pd.DataFrame, k: int, id_col: str) -> tuple[str, str]:
    src = df["source_file"].iloc[k] if "source_file" in df.columns else None
    file = str(src) if isinstance(src, str) and src else "minefields"
    rid = df[id_col].iloc[k] if id_col in df.columns else None
    rec = str(rid) if rid is not None and rid == rid else f"feature {k + 1}"
    return file, rec


def _check_geometry(df: Any, layer: str, id_col: str, kinds: tuple[str, ...]) -> list[Problem]:
    problems = []
    geoms = np.asarray(df.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    wrong = ~missing & ~np.isin(shapely.get_type_id(geoms), kinds)
    # Names only for the rows at fault: looking them up costs more than the check.
    for k in np.flatnonzero(missing | wrong):
        file, rec = _record_name(df, int(k), id_col)
        if file == "minefields":
            file = layer
        if missing[k]:
            problems.append(Problem(file, rec, f"{layer}: no geometry to draw"))
        else:
            problems.append(Problem(file, rec, f"{layer}: geometry is a {geoms[k].geom_type}"))
    if len(geoms):
        b = shapely.total_bounds(geoms[~missing]) if (~missing).any() else None
        if b is not None and (abs(b[1]) > 90 or abs(b[3]) > 90 or abs(b[0]) > 360 or abs(b[2]) > 360):
            problems.append(Problem(layer, None, "coordinates are not longitude/latitude "
                                    "(set the frame's CRS)"))
    return problems


def _check_values(df: pd.DataFrame, layer: str, id_col: str, column: str,
                  allowed: tuple[str, ...]) -> list[Problem]:
    problems = []
    for k, v in enumerate(df[column].tolist()):
        if v not in allowed:
            file, rec = _record_name(df, k, id_col)
            if file == "minefields":
                file = layer
            problems.append(Problem(file, rec, f"{column} {v!r} is not one of {', '.join(allowed)}"))
    return problems


def _require(df: pd.DataFrame, layer: str, columns: Iterable[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(f"{layer}: missing column(s) {', '.join(missing)}")






def _layer_data(gdf: Any, exclude: tuple[str, ...] = ("geometry", "raw")) -> dict[str, Any]:
    cols = [c for c in gdf.columns if c not in exclude and c != gdf.geometry.name]
    out = _encode_columns(gdf, cols)
    out["n"] = len(gdf)
    return out


def _field_data(fields: Any, geoms: np.ndarray) -> tuple[dict[str, Any], np.ndarray, list[str]]:
    """Embedded minefield properties and export geometry, as ``minemap export`` writes them.

    Properties are every column but the geometry and ``raw`` (the record as
    received, which would about double a large page), with the values of
    :func:`minemap.export.to_geojson_dict`; the export geometry is
    :func:`minemap.export.prepare_geometries` at 6 decimals (valid, exterior
    rings counter-clockwise, holes clockwise), encoded under ``"orig"``.
    """
    cols = [c for c in fields.columns if c != fields.geometry.name and c != "raw"]
    n = len(fields)
    bare = gpd.GeoDataFrame(fields[cols].reset_index(drop=True),
                            geometry=gpd.GeoSeries([None] * n, crs="EPSG:4326"))
    feats = to_geojson_dict(bare, layer="minefields")["features"] if n else []
    values = [[f["properties"][c] for f in feats] for c in cols]
    fd = _encode_lists(cols, values, n)
    fd["n"] = n
    ids = [str(v) for v in fields["record_id"].tolist()]
    exported, warnings = prepare_geometries(geoms, precision=6, ids=ids,
                                                    file="minefields", layer="minefields")
    exported = np.asarray(exported, dtype=object)
    fd["orig"] = [_polygon_parts(g) for g in exported]
    return fd, exported, warnings


def _timeline(timeline: pd.DataFrame | None, fields: Any) -> tuple[dict | None, list[str]]:
    warnings: list[str] = []
    if timeline is None or len(timeline) == 0:
        return None, warnings
    _require(timeline, "timeline", ("handover", "record_id", "date", "status", "released_pct"))
    index: dict[tuple[str, str], list[int]] = {}
    for k, (h, r) in enumerate(zip(fields["handover"].astype(str), fields["record_id"].astype(str))):
        index.setdefault((h, r), []).append(k)
    dates = pd.to_datetime(timeline["date"], errors="coerce")
    problems = []
    for k in np.flatnonzero(dates.isna().to_numpy()):
        problems.append(Problem("timeline", str(timeline["record_id"].iloc[k]),
                                f"date {timeline['date'].iloc[k]!r} is not a date"))
    problems += _check_values(timeline.reset_index(drop=True), "timeline", "record_id", "status", STATUSES)
    if problems:
        raise DataError(str(problems[0]) + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
                        problems)
    days = dates.dt.normalize()
    start = days.min()
    order = np.argsort(days.to_numpy(), kind="stable")
    f, d, s, p = [], [], [], []
    unknown = set()
    hs = timeline["handover"].astype(str).to_numpy()
    rs = timeline["record_id"].astype(str).to_numpy()
    sts = timeline["status"].to_numpy()
    pcts = pd.to_numeric(timeline["released_pct"], errors="coerce").to_numpy()
    for k in order:
        targets = index.get((hs[k], rs[k]))
        if not targets:
            unknown.add((hs[k], rs[k]))
            continue
        for t in targets:
            f.append(int(t))
            d.append(int((days.iloc[k] - start).days))
            s.append(STATUSES.index(sts[k]))
            p.append(_json_value(pcts[k], 2) if np.isfinite(pcts[k]) else 0)
    if unknown:
        ex = sorted(unknown)[:3]
        warnings.append(f"timeline: {len(unknown)} record(s) not among the minefields, ignored "
                        f"(e.g. {', '.join(f'{h}/{r}' for h, r in ex)})")
    if not f:
        return None, warnings
    end_day = int((days.max() - start).days)
    return {"start": start.date().isoformat(), "end_day": end_day, "f": f, "d": d, "s": s, "p": p}, warnings




def _breaks(values: np.ndarray) -> list[float]:
    v = values[np.isfinite(values) & (values > 0)]
    if len(v) == 0:
        return [0.0]
    qs = np.unique(np.round(np.quantile(v, [0.2, 0.4, 0.6, 0.8]), 0))
    return [float(x) for x in qs] or [0.0]




_POLY = (3, 6)      # shapely type ids: Polygon, MultiPolygon
_LINE = (1, 5)      # LineString, MultiLineString
_POINT = (0,)

#: Optional layers: (payload key, id column, geometry kinds, drawn outward).
#: ``remaining``, ``suspects`` and ``shifted`` are hazard polygons other
#: modules compute (DESIGN §12, §13); outward display never shrinks them.
LAYERS: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("releases", "report_id", _POLY), ("items", "item_id", _POINT), ("rows", "record_id", _LINE),
    ("positions", "record_id", _POINT), ("incidents", "incident_id", _POINT),
    ("districts", "district", _POLY), ("remaining", "record_id", _POLY),
    ("suspects", "suspect_id", _POLY), ("shifted", "record_id", _POLY),
)
_OUTWARD = {"remaining": True, "suspects": True, "shifted": False}


def check_layers(minefields: Any, others: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The frames in EPSG:4326, checked; a :class:`DataError` names the first bad record."""
    fields = _as_wgs84(minefields, "minefields")
    if fields is None:
        raise UsageError("render_map needs a minefields frame")
    _require(fields, "minefields", ("record_id", "handover", "status"))
    problems = _check_geometry(fields, "minefields", "record_id", _POLY)
    problems += _check_values(fields, "minefields", "record_id", "status", STATUSES)
    layers: dict[str, Any] = {}
    for name, id_col, kinds in LAYERS:
        gdf = _as_wgs84(others.get(name), name)
        if gdf is None or len(gdf) == 0:
            continue
        problems += _check_geometry(gdf, name, id_col, kinds)
        if name == "releases":
            _require(gdf, name, ("outcome",))
            problems += _check_values(gdf, name, "report_id", "outcome", OUTCOMES)
        if name == "districts":
            _require(gdf, name, ("district",))
        layers[name] = gdf
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise DataError(f"{errors[0]}{more}", problems)
    return fields, layers


def _days(df: pd.DataFrame, columns: tuple[str, ...], start: str) -> list[int | None]:
    """Days from ``start`` of each row's first non-empty date column (None: undated)."""
    when = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    for c in columns:
        if c in df.columns:
            when = when.fillna(pd.to_datetime(df[c].replace("", None), errors="coerce"))
    days = (when.dt.normalize() - pd.Timestamp(start)).dt.days
    return [None if pd.isna(v) else int(v) for v in days]


def _district_data(g: Any, fields: Any, tol: float) -> dict[str, Any]:
    d = _layer_data(g)
    d["geom"] = [_polygon_parts(x) for x in display_geometry(
        g.geometry.values, tolerance_m=max(tol, _DISTRICT_TOLERANCE_M), outward=False)]
    key = lambda n: _districts.normalise(n) or str(n)  # noqa: E731
    rem = pd.to_numeric(fields.get("remaining_est", pd.Series(0.0, index=fields.index)),
                        errors="coerce").fillna(0.0)
    fdist = (fields["district"].map(key) if "district" in fields.columns
             else pd.Series("", index=fields.index))
    by = rem.groupby(fdist).sum()
    cnt = fdist.value_counts()
    names = g["district"].map(key)
    d["remaining"] = [round(float(by.get(n, 0.0)), 1) for n in names]
    d["count"] = [int(cnt.get(n, 0)) for n in names]
    d["breaks"] = _breaks(np.asarray(d["remaining"], dtype=float))
    return d


def build_payload(fields: Any, layers: dict[str, Any], *, timeline: pd.DataFrame | None,
                  tolerance_m: float, title: str) -> tuple[dict[str, Any], list[str]]:
    """The JSON object of a page, and warnings.

    Parameters
    ----------
    fields, layers
        From :func:`check_layers`.
    timeline
        ``handover, record_id, date, status, released_pct`` (see ``render_map``).
    tolerance_m
        Display simplification in metres.
    title
        The map's title.
    """
    tol = tolerance_m
    warnings: list[str] = []
    geoms = np.asarray(fields.geometry.values, dtype=object)
    shown = display_geometry(geoms, tolerance_m=tol, outward=True)
    fd, exported, export_warnings = _field_data(fields, geoms)
    if len(export_warnings) > 3:
        # One line, not one per field: large maps of flagged records have many.
        export_warnings = [f"{len(export_warnings)} minefields have invalid geometry, repaired "
                           "with make_valid for the in-map export as `minemap export` does "
                           "(e.g. " + "; ".join(export_warnings[:2]) + ")"]
    warnings += export_warnings
    # A field is drawn with its export geometry when that is no larger than
    # the display geometry and the tolerance covers the 6-decimal rounding:
    # it is then embedded once ("geom" null) and drawn exactly as exported.
    share = (tol >= _ROUNDING_M) & ~shapely.is_empty(exported) & (
        shapely.get_num_coordinates(exported) <= shapely.get_num_coordinates(shown))
    fd["geom"] = [None if share[k] else _polygon_parts(g) for k, g in enumerate(shown)]
    fd["centroid"] = _points_xy(shapely.point_on_surface(geoms))
    data: dict[str, Any] = {
        "title": str(title), "statuses": list(STATUSES), "review_ratio": settings.misclosure_highlight,
        "density_breaks": list(DENSITY_BREAKS), "palette": palette(), "fields": fd,
    }
    if len(fields):
        b = shapely.total_bounds(np.concatenate([shown, exported]))
        data["bounds"] = [round(float(x), 6) for x in b]

    for name in ("releases", "remaining", "suspects", "shifted"):
        if name in layers:
            g = layers[name]
            d = _layer_data(g)
            d["geom"] = [_polygon_parts(x) for x in display_geometry(
                g.geometry.values, tolerance_m=tol, outward=_OUTWARD.get(name, False))]
            data[name] = d
    for name in ("items", "positions", "incidents"):
        if name in layers:
            g = layers[name]
            d = _layer_data(g)
            d["xy"] = _points_xy(np.asarray(g.geometry.values, dtype=object))
            data[name] = d
    if "rows" in layers:
        g = layers["rows"]
        d = _layer_data(g)
        d["geom"] = [_line_parts(x) for x in _round6(np.asarray(g.geometry.values, dtype=object))]
        data["rows"] = d
    if "districts" in layers:
        data["districts"] = _district_data(layers["districts"], fields, tol)

    tl, tl_warn = _timeline(timeline, fields)
    warnings += tl_warn
    if tl is not None:
        data["timeline"] = tl
        # The timeline hides what is dated after its position (DESIGN §5 "As-of").
        for name, cols in (("releases", ("date_end", "date")), ("items", ("date",)),
                           ("incidents", ("date",))):
            if name in data:
                data[name]["day"] = _days(layers[name], cols, tl["start"])
    return data, warnings
