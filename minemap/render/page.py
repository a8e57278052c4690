"""The interactive map (DESIGN §7): a folium map built from the store's frames.

This is the only module of minemap that imports folium.

The page is a folium map with one empty ``FeatureGroup`` per layer, a folium
``LayerControl``, and three pieces of our own: one JSON block holding every
feature (raw values, compact column-wise encoding), ``static/minemap.js``
which builds the layers, popups, tooltips and controls from it, and
``static/minemap.css``.  Leaflet and Leaflet.markercluster are always inlined
from the pip-installed xstatic packages, so a map never fetches code; only
the online basemaps (OpenStreetMap, Esri World Imagery) use the network.

Why our own JS instead of ``folium.GeoJson`` with ``GeoJsonPopup``:

* folium's popups and tooltips insert values as raw HTML; ours set
  ``textContent`` only, so a record id such as ``<img src=x onerror=…>``
  shows as text and never runs;
* folium renders a ``MacroElement``'s output through Jinja a second time, so
  data inside a template would be evaluated (``{{ … }}`` in a record id).
  The data and scripts here are added as raw elements that are never
  templated;
* one style per class and column-wise properties keep 50,000 fields within
  the size budget.

Each field is embedded with its export geometry (that of ``minemap export``),
which the draw-and-export control writes.  It is drawn with that geometry when
it is no larger than the display geometry, else with the display geometry,
simplified for speed but never moving a hazard boundary inward: see
:func:`display_geometry`.  Either way a boundary is drawn at most 0.08 m
(6-decimal rounding) inside the record, and only when the tolerance allows it.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from pyproj import Transformer

from minemap import __version__, settings
from minemap._errors import DataError, Problem, UsageError
from minemap.export.writers import prepare_geometries, to_geojson_dict
from minemap.geo import districts as _districts
from minemap.geo.crs import utm_epsg
from minemap.records.schema import OUTCOMES, STATUSES

__all__ = ["render_map", "save_map", "filter_frames", "display_geometry", "embed_json",
           "LIBRARIES"]

_STATIC = Path(__file__).with_name("static")

#: Remaining-density class limits (mines per hectare) used for fill opacity.
DENSITY_BREAKS: tuple[float, ...] = (0.0, 10.0, 50.0, 200.0)

#: Margin (metres) added to the outward buffer so that rounding displayed
#: coordinates to 6 decimals (at most ~0.08 m on the ground) cannot move the
#: boundary inside the original.
ROUNDING_MARGIN_M = 0.1

#: Libraries inlined into every page, with their licences (stated in the page).
LIBRARIES: tuple[tuple[str, str, str, str], ...] = (
    ("Leaflet", "1.9.3", "BSD-2-Clause", "(c) 2010-2023 Vladimir Agafonkin, (c) 2010-2011 CloudMade"),
    ("Leaflet.markercluster", "1.4.1", "MIT", "(c) 2012 David Leaver, (c) 2012 Smartrak"),
    ("minemap map code (minemap.js, minemap.css)", __version__, "minemap licence",
     "includes our own MGRS, geodesic measure, draw-export and heat-layer code"),
)

_DISTRICT_TOLERANCE_M = 10.0
_COORD_SCALE = 1_000_000  # 6 decimals: ~0.1 m

#: Rounding a vertex to 6 decimals moves it by at most half a unit in each
#: axis: 0.0557 m north-south and at most 0.0557 m east-west, 0.079 m in all.
#: A field is drawn with its export geometry (exact but for that rounding)
#: when the display tolerance allows this much inward movement.
_ROUNDING_M = 0.08


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
    """UTM zone code (EPSG) of each geometry's centre."""
    b = shapely.bounds(geoms)
    lon = (b[:, 0] + b[:, 2]) / 2
    lat = (b[:, 1] + b[:, 3]) / 2
    return utm_epsg(lon, lat)


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
    for k in range(len(df)):
        file, rec = _record_name(df, k, id_col)
        if file == "minefields":
            file = layer
        if missing[k]:
            problems.append(Problem(file, rec, f"{layer}: no geometry to draw"))
        elif shapely.get_type_id(geoms[k]) not in kinds:
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


_POLY = (3, 6)      # shapely type ids: Polygon, MultiPolygon
_LINE = (1, 5)      # LineString, MultiLineString
_POINT = (0,)


# ------------------------------------------------------------------ assets

def _xstatic_dir(module: str) -> Path:
    mod = __import__(f"xstatic.pkg.{module}", fromlist=["BASE_DIR"])
    return Path(mod.BASE_DIR)


def _strip_sourcemap(js: str) -> str:
    return re.sub(r"//# sourceMappingURL=\S+\s*$", "", js.rstrip()) + "\n"


def _inline_css_images(css: str, base: Path) -> str:
    def repl(m: re.Match) -> str:
        ref = m.group(1).strip("'\"")
        if ref.startswith(("data:", "#")):
            return m.group(0)
        f = base / ref
        if not f.is_file():
            return m.group(0)
        return f"url(data:image/png;base64,{base64.b64encode(f.read_bytes()).decode()})"
    return re.sub(r"url\(([^)]+)\)", repl, css)


def _script(js: str, name: str) -> str:
    # A library that contained these could break out of, or comment out, its
    # <script> element; none does, and we refuse rather than guess.
    low = js.lower()
    if "</script" in low or "<!--" in low:
        raise RuntimeError(f"cannot inline {name}: it contains </script or <!--")
    return f"<script>/* {name} */\n{js}</script>\n"


def _style(css: str, name: str) -> str:
    if "</style" in css.lower():
        raise RuntimeError(f"cannot inline {name}: it contains </style")
    return f"<style>/* {name} */\n{css}</style>\n"


def _assets_html() -> str:
    leaflet = _xstatic_dir("leaflet")
    cluster = _xstatic_dir("leaflet_markercluster")
    notes = "\n".join(f"  {n} {v} ({lic}) {c}" for n, v, lic, c in LIBRARIES)
    parts = [
        "<!-- minemap map. Inlined libraries and their licences:\n"
        f"{notes}\n-->\n",
        _style(_inline_css_images((leaflet / "leaflet.css").read_text(), leaflet), "Leaflet 1.9.3 (BSD-2-Clause)"),
        _style((cluster / "MarkerCluster.css").read_text()
               + (cluster / "MarkerCluster.Default.css").read_text(),
               "Leaflet.markercluster 1.4.1 (MIT)"),
        _style((_STATIC / "minemap.css").read_text(), "minemap"),
        _script(_strip_sourcemap((leaflet / "leaflet.js").read_text()), "Leaflet 1.9.3 (BSD-2-Clause)"),
        _script(_strip_sourcemap((cluster / "leaflet.markercluster.js").read_text()),
                "Leaflet.markercluster 1.4.1 (MIT)"),
        _script((_STATIC / "minemap.js").read_text(), "minemap"),
    ]
    return "".join(parts)


class _Raw(Element):
    """An element rendered verbatim (never through Jinja)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        return self._text


class _MinemapLayers(MacroElement):
    """Adds the inlined libraries, the data block and the init call."""

    def __init__(self, data: dict[str, Any], groups: dict[str, str]) -> None:
        super().__init__()
        self._name = "MinemapLayers"
        self.data = data
        self.groups = groups

    def render(self, **kwargs: Any) -> None:
        figure = self.get_root()
        map_name = self._parent.get_name()
        data_id = f"minemap-data-{self.get_name()}"
        figure.header.add_child(_Raw(_assets_html()), name="minemap_assets")
        figure.html.add_child(
            _Raw(f'<script type="application/json" id="{data_id}">{embed_json(self.data)}</script>'),
            name=data_id,
        )
        groups = ", ".join(f"{json.dumps(k)}: {v}" for k, v in self.groups.items())
        prefix = " · ".join(f"{n} ({lic})" for n, _, lic, _ in LIBRARIES[:2]) + " · minemap"
        figure.script.add_child(_Raw(
            f"{map_name}.attributionControl.setPrefix({json.dumps(html.escape(prefix))});\n"
            f"minemapInit({map_name}, {{{groups}}}, {json.dumps(data_id)});\n"
        ), name=self.get_name())


# ---------------------------------------------------------------- basemaps

def _basemaps(m: folium.Map, basemap: str | None, offline: bool) -> None:
    if basemap is None:
        basemap = "none" if offline else "osm+esri"
    key = str(basemap).strip()
    low = key.lower()
    if low in ("none", ""):
        return
    if low in ("osm", "esri", "osm+esri"):
        if offline:
            raise UsageError(f"--basemap {key}: an offline map cannot use an online basemap; "
                             "give a local tile folder path/{z}/{x}/{y}.png or none")
        if "osm" in low:
            folium.TileLayer("OpenStreetMap", name="OpenStreetMap", control=True).add_to(m)
        if "esri" in low:
            folium.TileLayer("Esri.WorldImagery", name="Imagery (Esri World Imagery)",
                             control=True).add_to(m)
        return
    if re.match(r"^(https?:)?//", key):
        if offline:
            raise UsageError(f"--basemap {key}: an offline map cannot use a remote tile server")
        folium.TileLayer(key, name="Basemap", attr="Basemap tiles", control=True).add_to(m)
        return
    url = key if "{z}" in key else key.rstrip("/\\") + "/{z}/{x}/{y}.png"
    if os.path.isabs(url):
        url = "file://" + quote(Path(url).as_posix(), safe="/{}:")
    folium.TileLayer(url, name="Local basemap", attr="Local tiles", control=True,
                     max_native_zoom=19, max_zoom=22).add_to(m)


# -------------------------------------------------------------------- API

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


def _canonical(values: pd.Series) -> pd.Series:
    return values.map(lambda v: _districts.normalise(v) if isinstance(v, str) and v else None)


def filter_frames(
    frames: dict[str, Any],
    *,
    district: str | None = None,
    handover: str | None = None,
    status: str | None = None,
    mine_positions: bool = True,
) -> dict[str, Any]:
    """Keep part of the map's frames (``minemap map --district/--handover/--status``).

    Parameters
    ----------
    frames
        The frames of :func:`minemap.api.map_frames` (``minefields``,
        ``releases``, ``items``, ``rows``, ``mine_positions``, ``incidents``,
        ``districts``, ``timeline``); not modified.
    district
        Any spelling of a district name (:func:`minemap.geo.districts.normalise`):
        keeps the minefields, releases, items and incidents of that district.
    handover
        Keeps the minefields of that handover.
    status
        ``not_started``, ``in_progress`` or ``released``: keeps those fields.
    mine_positions
        False leaves out the estimated mine positions.

    Returns
    -------
    dict
        The same keys.  Mine rows, mine positions and the timeline keep only
        the rows of the minefields kept; district outlines are all kept.

    Raises
    ------
    UsageError
        An unknown district, handover or status.
    """
    out = dict(frames)
    fields = out["minefields"]
    keep = np.ones(len(fields), dtype=bool)
    canon = None
    if district is not None:
        canon = _districts.normalise(district)
        if canon is None:
            raise UsageError(f"--district {district!r}: unknown; choose one of "
                             f"{', '.join(_districts.CANONICAL)}")
        keep &= (_canonical(fields["district"]) == canon).to_numpy()
    if handover is not None:
        known = sorted(set(fields["handover"].astype(str)))
        if handover not in known:
            raise UsageError(f"--handover {handover!r}: unknown; choose one of "
                             f"{', '.join(known) or '(none)'}")
        keep &= (fields["handover"].astype(str) == handover).to_numpy()
    if status is not None:
        if status not in STATUSES:
            raise UsageError(f"--status {status!r}: choose one of {', '.join(STATUSES)}")
        keep &= (fields["status"] == status).to_numpy()
    filtered = not keep.all()
    if filtered:
        fields = fields[keep].reset_index(drop=True)
        out["minefields"] = fields
        kept = set(zip(fields["handover"].astype(str), fields["record_id"].astype(str)))

        def mine(df: Any) -> Any:
            if df is None or len(df) == 0:
                return df
            pairs = zip(df["handover"].astype(str), df["record_id"].astype(str))
            return df[np.fromiter((p in kept for p in pairs), dtype=bool, count=len(df))]

        out["timeline"] = mine(out.get("timeline"))
        rows = mine(out.get("rows"))
        out["rows"] = rows
        if out.get("mine_positions") is not None and mine_positions:
            # Positions carry no handover: recompute them from the rows kept.
            from minemap.readers.traverse import mine_positions as _positions

            out["mine_positions"] = _positions(rows) if rows is not None and len(rows) else None
    if canon is not None:
        for name in ("releases", "items", "incidents"):
            df = out.get(name)
            if df is not None and len(df) and "district" in df.columns:
                out[name] = df[(_canonical(df["district"]) == canon).to_numpy()]
    if not mine_positions:
        out["mine_positions"] = None
    return out


def _breaks(values: np.ndarray) -> list[float]:
    v = values[np.isfinite(values) & (values > 0)]
    if len(v) == 0:
        return [0.0]
    qs = np.unique(np.round(np.quantile(v, [0.2, 0.4, 0.6, 0.8]), 0))
    return [float(x) for x in qs] or [0.0]


def render_map(
    minefields: Any,
    *,
    releases: Any = None,
    items: Any = None,
    rows: Any = None,
    mine_positions: Any = None,
    incidents: Any = None,
    districts: Any = None,
    timeline: pd.DataFrame | None = None,
    offline: bool = False,
    basemap: str | None = None,
    title: str = "minemap",
    display_tolerance_m: float | None = None,
    choropleth: bool = False,
) -> folium.Map:
    """Build the interactive map (DESIGN §7).

    Parameters
    ----------
    minefields
        GeoDataFrame (EPSG:4326) of recorded minefields with the crossref
        columns (``status``, ``released_pct``, ``remaining_est`` …) and
        ``revision``.  Every column but ``raw`` is embedded and exported by
        the draw-and-export control.
    releases, items, rows, mine_positions, incidents, districts
        Optional GeoDataFrames of the other layers (see ``minemap.records.schema``);
        ``mine_positions`` has ``record_id, row, n, mine_type``.  The district
        choropleth sums ``remaining_est`` of the minefields per district.
    timeline
        DataFrame ``handover, record_id, date, status, released_pct``: each
        field's state from each date on.  A field without rows keeps its
        current status throughout; a field with rows is ``not_started``
        before its first one.  The slider steps by week from the earliest to
        the latest date and starts at the latest (the current state).
    offline
        No network at all: no online basemap (a local tile folder may be
        given with ``basemap``).  Libraries are inlined in both modes.
    basemap
        ``None`` (OpenStreetMap and Esri imagery online, nothing offline),
        ``"none"``, ``"osm"``, ``"esri"``, a local tile folder or template
        ``"path/{z}/{x}/{y}.png"``, or (online only) a tile URL template.
    title
        Shown on the map and as the page title.
    display_tolerance_m
        Display simplification in metres (``settings.display_tolerance_m`` if
        None).  A field is drawn with its recorded geometry (rounded to 6
        decimals, ≤ 0.08 m) when that has no more vertices than the
        simplified one and the tolerance is ≥ 0.08 m; otherwise with the
        simplified outward geometry, which contains the record.
    choropleth
        Show the district choropleth of remaining mines when the map opens
        (it needs ``districts``, and is in the layer control either way).

    Returns
    -------
    folium.Map
        Displays in Jupyter; write it with :func:`save_map`.

    Raises
    ------
    DataError
        A record without drawable geometry, an unknown status or outcome, or
        missing columns; the message names the file and the record.
    UsageError
        An online basemap asked for an offline map.
    """
    tol = settings.display_tolerance_m if display_tolerance_m is None else float(display_tolerance_m)
    if not math.isfinite(tol) or tol < 0:
        raise UsageError(f"display_tolerance_m must be a non-negative number, not {tol}")
    warnings: list[str] = []

    fields = _as_wgs84(minefields, "minefields")
    if fields is None:
        raise UsageError("render_map needs a minefields frame")
    _require(fields, "minefields", ("record_id", "handover", "status"))
    problems = _check_geometry(fields, "minefields", "record_id", _POLY)
    problems += _check_values(fields, "minefields", "record_id", "status", STATUSES)
    layers: dict[str, Any] = {}
    for name, gdf, id_col, kinds in (
        ("releases", releases, "report_id", _POLY), ("items", items, "item_id", _POINT),
        ("rows", rows, "record_id", _LINE), ("positions", mine_positions, "record_id", _POINT),
        ("incidents", incidents, "incident_id", _POINT), ("districts", districts, "district", _POLY),
    ):
        gdf = _as_wgs84(gdf, name)
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
    cen = shapely.point_on_surface(geoms)
    fd["centroid"] = _points_xy(cen)
    data: dict[str, Any] = {
        "title": str(title),
        "statuses": list(STATUSES),
        "review_ratio": settings.misclosure_highlight,
        "density_breaks": list(DENSITY_BREAKS),
        "fields": fd,
    }
    if len(fields):
        b = shapely.total_bounds(np.concatenate([shown, exported]))
        data["bounds"] = [round(float(x), 6) for x in b]

    if "releases" in layers:
        g = layers["releases"]
        rd = _layer_data(g)
        rd["geom"] = [_polygon_parts(x) for x in
                      display_geometry(g.geometry.values, tolerance_m=tol, outward=False)]
        data["releases"] = rd
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
        g = layers["districts"]
        d = _layer_data(g)
        d["geom"] = [_polygon_parts(x) for x in display_geometry(
            g.geometry.values, tolerance_m=max(tol, _DISTRICT_TOLERANCE_M), outward=False)]
        key = lambda n: _districts.normalise(n) or str(n)  # noqa: E731
        rem = pd.to_numeric(fields.get("remaining_est", pd.Series(0.0, index=fields.index)),
                            errors="coerce").fillna(0.0)
        fdist = fields["district"].map(key) if "district" in fields.columns else pd.Series("", index=fields.index)
        by = rem.groupby(fdist).sum()
        cnt = fdist.value_counts()
        names = g["district"].map(key)
        d["remaining"] = [round(float(by.get(n, 0.0)), 1) for n in names]
        d["count"] = [int(cnt.get(n, 0)) for n in names]
        d["breaks"] = _breaks(np.asarray(d["remaining"], dtype=float))
        data["districts"] = d

    tl, tl_warn = _timeline(timeline, fields)
    warnings += tl_warn
    if tl is not None:
        data["timeline"] = tl

    # ------------------------------------------------------------ folium
    m = folium.Map(location=[40.0, 46.9], zoom_start=9, tiles=None, prefer_canvas=True,
                   control_scale=True)
    # Libraries are inlined by _MinemapLayers; folium's CDN links (Leaflet,
    # jQuery, Bootstrap, Font Awesome, awesome-markers) are not needed.
    m.default_js = []
    m.default_css = []
    _basemaps(m, basemap, offline)

    counts = fields["status"].value_counts()
    groups: dict[str, folium.FeatureGroup] = {}

    def group(key: str, label: str, show: bool = True) -> None:
        # Leaflet writes layer-control labels as HTML: escape them.
        fg = folium.FeatureGroup(name=html.escape(label), show=show)
        fg.add_to(m)
        groups[key] = fg

    if "districts" in data:
        # Off unless asked for: under the fields its fill would tint their
        # status colours.
        group("choropleth", "Districts: remaining mines (choropleth)", show=bool(choropleth))
    if "releases" in data:
        oc = layers["releases"]["outcome"].value_counts()
        for o in OUTCOMES:
            group(f"releases_{o}", f"Land release: {o} ({int(oc.get(o, 0))})")
    for s in STATUSES:
        group(f"fields_{s}", f"Minefields: {s.replace('_', ' ')} ({int(counts.get(s, 0))})")
    group("review", "Minefields for review (self-intersecting, misclosure)", show=False)
    if "rows" in data:
        group("rows", "Mine rows")
    if "positions" in data:
        group("positions", "Estimated mine positions")
    if "items" in data:
        group("items", f"Found items ({len(layers['items'])})")
    if "incidents" in data:
        group("incidents", f"Incidents ({len(layers['incidents'])})")
    if "districts" in data:
        group("districts", "Districts: outlines and labels")
    group("heat", "Remaining mine density (heat)", show=False)

    _MinemapLayers(data, {k: g.get_name() for k, g in groups.items()}).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    m._minemap = {"offline": bool(offline), "warnings": warnings, "title": str(title)}
    return m


_REMOTE = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*?\b(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", re.I)


def remote_references(page: str) -> list[str]:
    """``<script src>``/``<link href>`` (and img/iframe) that point at the network."""
    return [m.group(0) for m in _REMOTE.finditer(page)]


def save_map(m: folium.Map, path: str | os.PathLike, *, overwrite: bool = False) -> list[str]:
    """Write the map as one HTML file.

    Parameters
    ----------
    m
        A map from :func:`render_map`.
    path
        Output ``.html`` file.
    overwrite
        Replace an existing file.

    Returns
    -------
    list of str
        Warnings: size above ``settings.html_budget_mb``, timeline records not
        found, remote references in an offline map.

    Raises
    ------
    UsageError
        If ``path`` exists and ``overwrite`` is false, or its folder does not
        exist.
    """
    path = Path(path)
    parent = path.parent
    if not parent.is_dir():
        raise UsageError(f"output directory does not exist: {parent}")
    if path.exists() and not overwrite:
        raise UsageError(f"{path}: already exists (use --overwrite to replace it)")
    meta = getattr(m, "_minemap", {})
    warnings = list(meta.get("warnings", []))
    page = m.get_root().render()
    data = page.encode("utf-8")
    size_mb = len(data) / 1e6
    if size_mb > settings.html_budget_mb:
        warnings.append(
            f"{path.name} is {size_mb:.1f} MB, above html_budget_mb={settings.html_budget_mb:g}: "
            "raise --display-tolerance (e.g. 5), filter the fields with --district, --handover "
            "or --status, or leave out mine positions with --no-mine-positions (in Python: "
            "display_tolerance_m=, filter_frames(), mine_positions=None)")
    if meta.get("offline"):
        remote = remote_references(page)
        if remote:
            warnings.append(f"{path.name}: offline map still references the network: "
                            + "; ".join(remote[:3]))
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a map is not
        if not overwrite and path.exists():
            raise UsageError(f"{path}: already exists (use --overwrite to replace it)")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return warnings
