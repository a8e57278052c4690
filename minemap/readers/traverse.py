"""Traverse (survey) minefield records → polygons, vertices and mine rows.

A traverse record gives a reference point and then walks the perimeter leg by
leg, each leg a bearing and a horizontal ground distance (DESIGN §2, §6; the
file formats are described in ``docs/traverse.md``).  This module reads such
records from YAML or CSV, computes where the turning points are, adjusts a
closed traverse by the Bowditch (compass) rule and returns GeoDataFrames in
the record schema (:mod:`minemap.records.schema`) together with every problem found.

How a leg is computed depends on the north reference:

grid
    A plane traverse in the projected CRS of the reference point (its UTM
    zone for lat/lon and MGRS reference points).  Each ground distance is
    multiplied by the projection's point scale factor at the leg's start.
magnetic with ``direction_correction``
    The correction turns magnetic bearings into grid bearings; then as grid.
true
    Geodesic direct problem on the WGS84 ellipsoid (``pyproj.Geod.fwd``).
magnetic otherwise
    ``declination_deg`` from the record, or IGRF-14 at ``laid_date`` (else
    the handover date), turns magnetic bearings into true ones; then as true.

A file with any refused record is refused whole: the frames come back empty
and ``problems`` lists every error of every record, not just the first.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Geod, Proj, Transformer
from pyproj.exceptions import CRSError

from minemap import settings
from minemap._errors import Problem, UsageError
from minemap.geo import angles, magnetic
from minemap.geo.crs import Transformation, is_sk42, to_wgs84, utm_epsg
from minemap.geo.dates import model_date, parse_date
from minemap.geo.districts import normalise
from minemap.geo.geometry import area_ha, orient, polygonal
from minemap.readers import provenance
from minemap.readers.result import ReadResult, Source
from minemap.readers.safe_yaml import LineMap, gc_paused
from minemap.readers.traverse_text import (
    LEG_FIELDS,
    REF_FIELDS,
    ROW_FIELDS,
    csv_items,
    yaml_items,
)
from minemap.records import rules
from minemap.records import schema as sc

__all__ = ["TraverseResult", "is_traverse_file", "read_traverse", "mine_positions"]

_GEOD = Geod(ellps="WGS84")

_RECORD_FIELDS = {
    "record_id", "handover", "district", "laid_date", "mines", "mines_ap", "mines_at",
    "mines_total", "mine_types", "reliability", "reference_point", "angle_unit", "north",
    "closed", "declination_deg", "direction_correction", "legs", "rows",
    # Sample data says so on the record itself (kept in its raw text, which a
    # list file's header comment is not): sheets print SYNTHETIC from it.
    "synthetic",
}
_NORTHS = ("grid", "true", "magnetic")
_MISSING = {"", "~", "null", "none"}
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")


#: What :func:`read_traverse` returns: the one reader result type, with frames
#: ``minefields`` (EPSG:4326 polygons, ``.records``), ``vertices`` (the
#: reference point, vertex 0 ``RP``, and every polygon vertex, adjusted, with
#: its unadjusted position in the source CRS in ``raw_x``/``raw_y``) and
#: ``mine_rows`` (``.rows``), every problem (one warning per closed record
#: reporting its misclosure) and the file's provenance.
TraverseResult = ReadResult


# --------------------------------------------------------------------------
# Reading YAML and CSV into plain dictionaries of strings.


_Map = LineMap


# --------------------------------------------------------------------------
# Parsing one record into a specification.


@dataclass
class _Plane:
    """A projected CRS used for plane traverses, with its cached helpers."""

    crs: CRS
    name: str
    to_wgs: Transformation
    to_geog: Transformer       # plane → its own geodetic CRS, for scale factors
    proj: Proj

    def scale(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        lon, lat = self.to_geog.transform(x, y)
        # A conformal projection: meridional and parallel scales are equal.
        return np.asarray(self.proj.get_factors(lon, lat).meridional_scale, dtype=float)

    def convergence(self, x: float, y: float) -> float:
        lon, lat = self.to_geog.transform(x, y)
        return magnetic.grid_convergence(self.crs, lon, lat)


@lru_cache(maxsize=128)
def _plane(crs_name: str, aoi: tuple[float, float, float, float]) -> _Plane:
    crs = CRS.from_user_input(crs_name)
    return _Plane(
        crs=crs,
        name=crs_name,
        to_wgs=_to_wgs84(crs_name, aoi),
        to_geog=Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True),
        proj=Proj(crs),
    )


@lru_cache(maxsize=128)
def _to_wgs84(crs_name: str, aoi: tuple[float, float, float, float]) -> Transformation:
    # minemap.geo.crs.to_wgs84 caches the transformation but serialises the CRS
    # to WKT on every call (~1 ms); records name their CRS by string.
    return to_wgs84(crs_name, aoi=aoi)


@lru_cache(maxsize=256)
def _district(name: str) -> str:
    return normalise(name) or ""


@lru_cache(maxsize=256)
def _user_crs(text: str) -> tuple[CRS, str]:
    # Cached: parsing and naming a CRS costs ~1 ms, and a file has thousands
    # of records in the same CRS.
    try:
        if text.strip().isdigit():
            crs = CRS.from_epsg(int(text))
        else:
            crs = CRS.from_user_input(text)
    except CRSError:
        raise UsageError(f"unknown CRS {text!r}") from None
    auth = crs.to_authority(min_confidence=90)
    return crs, (f"{auth[0]}:{auth[1]}" if auth else crs.name)


@dataclass
class _Ref:
    source_crs: str
    transformation: str
    raw_x: float
    raw_y: float
    lon: float
    lat: float
    plane: _Plane
    x: float                    # in the plane CRS
    y: float
    source: Transformation      # source CRS → WGS84 (inverse gives raw positions)
    source_is_plane: bool


@dataclass
class _Leg:
    bearing: float              # degrees from the traverse's north (grid or true)
    distance: float
    point_type: str
    label: str | None
    line: int | None


@dataclass
class _Row:
    start: str
    bearing: float
    distance: float
    mines: int
    mine_type: str
    spacing: float | None
    line: int | None


@dataclass
class _Spec:
    record_id: str
    name: str                   # how problems name the record
    handover: str
    district: str
    mines_ap: int
    mines_at: int
    mines_total: int
    mine_types: str
    laid_date: str
    laid: dt.date | None
    reliability: str
    raw: str
    ref: _Ref | None = None
    unit: str = "deg"
    north: str = "grid"
    closed: bool = True
    declination: float | None = None
    correction: float | None = None     # direction correction in degrees
    model_date: dt.date | None = None   # IGRF date when the declination is modelled
    legs_raw: list = field(default_factory=list)
    rows_raw: list = field(default_factory=list)
    legs: list[_Leg] = field(default_factory=list)
    rows: list[_Row] = field(default_factory=list)


class _Ctx:
    def __init__(self, name: str, handover: str | None, handover_date: dt.date | None,
                 aoi: tuple[float, float, float, float], accept: bool) -> None:
        self.file = name
        self.handover = handover
        self.handover_date = handover_date
        self.aoi = aoi
        self.accept = accept
        self.problems: list[Problem] = []

    def error(self, record: str | None, message: str, leg: int | None = None,
              line: int | None = None) -> None:
        if line is not None:
            message += f" (line {line})"
        self.problems.append(Problem(self.file, record, message, "error", leg))

    def warn(self, record: str | None, message: str, leg: int | None = None,
             line: int | None = None) -> None:
        if line is not None:
            message += f" (line {line})"
        self.problems.append(Problem(self.file, record, message, "warning", leg))


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in _MISSING)


def _number(value: object, what: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        number = float(value)
    else:
        raise ValueError(f"{what} {value!r} is not a number")
    if not math.isfinite(number):
        raise ValueError(f"{what} {value!r} is not a finite number")
    return number


def _count(value: object, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        n = value
    elif isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        n = int(value)
    else:
        raise ValueError(f"{what} {value!r} is not a whole number")
    if n < 0:
        raise ValueError(f"{what} {value!r} is negative")
    if n > 10_000_000:
        raise ValueError(f"{what} {value!r} is too large (more than 10,000,000)")
    return n


def _boolean(value: object, what: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "y", "1", "on"):
        return True
    if text in ("false", "no", "n", "0", "off"):
        return False
    raise ValueError(f"{what} {value!r} is not true or false")


def _attribute_frame(items: list[tuple[object, str]], ctx: _Ctx
                     ) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The records' attributes in the contract's columns, for the shared rules."""
    cols = ("record_id", "handover", "district", "mines_ap", "mines_at", "mines_total",
            "mine_types", "laid_date", "reliability")
    rows, names, where = [], [], []
    for index, (data, _) in enumerate(items, start=1):
        row = dict.fromkeys(cols)
        line = getattr(data, "line", None)
        where.append(f" (line {line})" if line is not None else "")
        if not isinstance(data, dict):
            rows.append(row)
            names.append(f"#{index}")
            continue
        for c in cols:
            val = data.get(c)
            row[c] = None if _missing(val) else val
        rid = data.get("record_id")
        if isinstance(rid, list | dict):
            # A list or mapping is no id; its text would pass for one.
            ctx.error(f"#{index}", "record_id must be a single value, not a list or mapping",
                      line=line)
            row["record_id"] = None
        mines = data.get("mines")
        if isinstance(mines, dict):
            for k in ("ap", "at", "total"):
                if not _missing(mines.get(k)):
                    row[f"mines_{k}"] = mines[k]
        elif not _missing(mines):
            row["mines_total"] = mines
        types = row["mine_types"]
        if isinstance(types, list):
            row["mine_types"] = [t for t in types if not _missing(t)]
        names.append(str(row["record_id"]).strip() if row["record_id"] is not None
                     else f"#{index}")
        rows.append(row)
    return pd.DataFrame(rows, columns=list(cols), dtype=object), names, where


def _parse_record(data: object, raw: str, index: int, ctx: _Ctx, attrs: dict) -> _Spec | None:
    line = getattr(data, "line", None)
    if not isinstance(data, dict):
        ctx.error(f"#{index}", "a record must be a mapping of fields", line=line)
        return None
    name = attrs["name"]
    n_err = sum(p.severity == "error" for p in ctx.problems)
    for key, ln in getattr(data, "dups", []):
        ctx.error(name, f"field {key!r} given twice", line=ln)
    for key in data.keys() - _RECORD_FIELDS:
        ctx.warn(name, f"unknown field {key!r} ignored", line=line)
    if isinstance(data.get("mines"), dict):
        for key in data["mines"].keys() - {"ap", "at", "total"}:
            ctx.warn(name, f"unknown field mines.{key} ignored", line=line)
    laid_text = attrs["laid_date"]
    laid = model_date(laid_text) if laid_text else None
    spec = _Spec(
        record_id=name, name=name, handover=attrs["handover"], district=attrs["district"],
        mines_ap=int(attrs["mines_ap"]), mines_at=int(attrs["mines_at"]),
        mines_total=int(attrs["mines_total"]), mine_types=attrs["mine_types"],
        laid_date=laid_text, laid=laid, reliability=attrs["reliability"], raw=raw,
    )

    # Angle unit and north reference.
    unit = None
    try:
        if _missing(data.get("angle_unit")):
            ctx.error(name, "missing angle_unit (deg, mil6400 or mil6000)", line=line)
        else:
            unit = angles.check_unit(data["angle_unit"])
            spec.unit = unit
    except angles.AngleError as exc:
        ctx.error(name, str(exc), line=line)
    north = str(data.get("north", "")).strip().lower()
    if _missing(data.get("north")):
        ctx.error(name, "missing north (grid, true or magnetic)", line=line)
        north = ""
    elif north not in _NORTHS:
        ctx.error(name, f"unknown north reference {data['north']!r} (use grid, true or "
                  "magnetic)", line=line)
        north = ""
    spec.north = north
    try:
        spec.closed = True if _missing(data.get("closed")) else _boolean(data["closed"],
                                                                         "closed")
    except ValueError as exc:
        ctx.error(name, str(exc), line=line)
    if not _missing(data.get("synthetic")):
        try:
            _boolean(data["synthetic"], "synthetic")
        except ValueError as exc:
            ctx.warn(name, f"{exc}; ignored", line=line)

    dec, corr = data.get("declination_deg"), data.get("direction_correction")
    if north != "magnetic":
        for key, val in (("declination_deg", dec), ("direction_correction", corr)):
            if not _missing(val) and north:
                ctx.warn(name, f"{key} ignored: north is {north}", line=line)
    else:
        if not _missing(dec):
            try:
                spec.declination = _number(dec, "declination_deg")
                if abs(spec.declination) > 180:
                    raise ValueError(f"declination_deg {dec!r} is outside ±180")
            except ValueError as exc:
                ctx.error(name, str(exc), line=line)
        if not _missing(corr) and unit:
            try:
                spec.correction = angles.to_degrees(corr, unit, signed=True)
            except angles.AngleError as exc:
                ctx.error(name, f"direction_correction: {exc}", line=line)
        if _missing(dec) and _missing(corr):
            date = laid or ctx.handover_date
            if date is None:
                ctx.error(name, "magnetic north needs declination_deg, direction_correction, "
                          "laid_date or a handover date", line=line)
            else:
                try:
                    magnetic.check_date(date)
                    spec.model_date = date
                    if laid is None:
                        ctx.warn(name, f"no laid_date: declination modelled at the handover "
                                 f"date {date.isoformat()}", line=line)
                except magnetic.ModelRangeError as exc:
                    ctx.error(name, str(exc), line=line)

    spec.ref = _parse_ref(data.get("reference_point"), name, line, ctx)

    # Legs.
    legs = data.get("legs")
    if not isinstance(legs, list) or not legs:
        ctx.error(name, "no legs", line=line)
        legs = []
    labels: dict[str, int] = {}
    n_turning = 0
    n_inter = 0
    for i, leg in enumerate(legs, start=1):
        lline = getattr(leg, "line", line)
        if not isinstance(leg, dict):
            ctx.error(name, "a leg must be a mapping with bearing and distance_m", i, lline)
            continue
        for key, ln in getattr(leg, "dups", []):
            ctx.error(name, f"field {key!r} given twice", i, ln)
        for key in leg.keys() - LEG_FIELDS:
            ctx.warn(name, f"unknown leg field {key!r} ignored", i, lline)
        bearing = distance = None
        if _missing(leg.get("bearing")):
            ctx.error(name, "missing bearing", i, lline)
        elif unit:
            try:
                bearing = angles.to_degrees(leg["bearing"], unit)
            except angles.AngleError as exc:
                ctx.error(name, str(exc), i, lline)
        if _missing(leg.get("distance_m")):
            ctx.error(name, "missing distance_m", i, lline)
        else:
            try:
                distance = _number(leg["distance_m"], "distance_m")
                if distance <= 0:
                    ctx.error(name, f"distance_m {leg['distance_m']} is not positive",
                              i, lline)
                    distance = None
            except ValueError as exc:
                ctx.error(name, str(exc), i, lline)
        point = str(leg.get("point", "turning")).strip().lower()
        if _missing(leg.get("point")):
            point = "turning"
        closing = spec.closed and i == len(legs) and i > 1
        if point not in ("turning", "intermediate"):
            ctx.error(name, f"unknown point type {leg['point']!r} (turning or intermediate)",
                      i, lline)
            point = "turning"
        elif point == "intermediate" and i == 1:
            ctx.error(name, "the first leg ends at TP1, which must be a turning point",
                      i, lline)
        elif point == "intermediate" and closing:
            ctx.error(name, "the closing leg returns to TP1, a turning point", i, lline)
        label = None if _missing(leg.get("label")) else str(leg["label"]).strip()
        if not closing:
            if point == "turning":
                n_turning += 1
                label = label or f"TP{n_turning}"
            else:
                n_inter += 1
                label = label or f"IP{n_inter}"
            if label in labels or label == "RP":
                ctx.error(name, f"point label {label!r} used twice", i, lline)
            labels[label] = i
        spec.legs.append(_Leg(bearing if bearing is not None else math.nan,
                              distance if distance is not None else math.nan,
                              point, label, lline))
    if legs and n_turning < 3:
        ctx.error(name, f"fewer than 3 turning points ({n_turning})", line=line)

    # Mine rows.
    rows = data.get("rows")
    if not _missing(rows):
        if not isinstance(rows, list):
            ctx.error(name, "rows must be a list", line=line)
            rows = []
        for j, row in enumerate(rows, start=1):
            rline = getattr(row, "line", line)
            if not isinstance(row, dict):
                ctx.error(name, f"row {j}: must be a mapping", line=rline)
                continue
            for key in row.keys() - ROW_FIELDS:
                ctx.warn(name, f"row {j}: unknown field {key!r} ignored", line=rline)
            start = str(row.get("from", "")).strip()
            if _missing(row.get("from")):
                ctx.error(name, f"row {j}: missing from (a point label such as TP1)",
                          line=rline)
            elif start not in labels and start != "RP":
                ctx.error(name, f"row {j}: from {start!r} is not a point of the record",
                          line=rline)
            try:
                rb = angles.to_degrees(row.get("bearing"), unit) if unit else math.nan
                rd = _number(row.get("distance_m"), "distance_m")
                if rd <= 0:
                    raise ValueError(f"distance_m {row.get('distance_m')} is not positive")
                count = _count(row.get("mines"), "mines")
                spacing = None
                if not _missing(row.get("spacing_m")):
                    spacing = _number(row["spacing_m"], "spacing_m")
                    if spacing <= 0:
                        raise ValueError(f"spacing_m {row['spacing_m']} is not positive")
                    if count > 1 and (count - 1) * spacing > rd * 1.01 + 0.5:
                        ctx.warn(name, f"row {j}: {count} mines at {spacing:g} m need "
                                 f"{(count - 1) * spacing:g} m, longer than the row "
                                 f"({rd:g} m)", line=rline)
                mtype = row.get("type", row.get("mine_type", ""))
                spec.rows.append(_Row(start, rb, rd, count,
                                      "" if _missing(mtype) else str(mtype).strip(),
                                      spacing, rline))
            except (ValueError, angles.AngleError) as exc:
                ctx.error(name, f"row {j}: {exc}", line=rline)

    if attrs["bad"] or sum(p.severity == "error" for p in ctx.problems) > n_err:
        return None
    return spec


def _parse_ref(ref: object, name: str, line: int | None, ctx: _Ctx) -> _Ref | None:
    if _missing(ref):
        ctx.error(name, "missing reference_point", line=line)
        return None
    if not isinstance(ref, dict):
        ctx.error(name, "reference_point must be a mapping", line=line)
        return None
    line = getattr(ref, "line", line)
    if "x" in ref or "y" in ref:
        ctx.error(name, "reference_point uses x/y: give easting and northing (in Soviet "
                  "notation X is the northing)", line=line)
        return None
    for key in ref.keys() - REF_FIELDS:
        ctx.warn(name, f"unknown reference_point field {key!r} ignored", line=line)
    has = {k for k in ref if not _missing(ref[k])}
    kinds = [k for k, keys in (("mgrs", {"mgrs"}), ("lat/lon", {"lat", "lon"}),
                               ("easting/northing", {"easting", "northing"}))
             if has & keys]
    if len(kinds) != 1:
        what = "none" if not kinds else " and ".join(kinds)
        ctx.error(name, "reference_point needs exactly one of mgrs, lat/lon or "
                  f"easting/northing (got {what})", line=line)
        return None
    aoi = ctx.aoi
    try:
        if kinds[0] == "mgrs":
            return _check_aoi(_ref_mgrs(str(ref["mgrs"]).strip(), name, line, ctx), name,
                              line, ctx)
        if kinds[0] == "lat/lon":
            if not {"lat", "lon"} <= has:
                raise ValueError("reference_point needs both lat and lon")
            lat, lon = _number(ref["lat"], "lat"), _number(ref["lon"], "lon")
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError(f"lat {lat} / lon {lon} out of range")
            crs_text = "EPSG:4326" if _missing(ref.get("crs")) else str(ref["crs"]).strip()
            crs, crs_label = _user_crs(crs_text)
            if not crs.is_geographic:
                raise ValueError(f"{crs_label} is not geographic; give easting/northing")
            source = _to_wgs84(crs_label, aoi)
            wlon, wlat = source.transformer.transform(lon, lat)
            plane = _plane(_utm_name(wlon, wlat), aoi)
            x, y = plane.to_wgs.transformer.transform(wlon, wlat, direction="INVERSE")
            r = _Ref(crs_label, source.description, lon, lat, wlon, wlat, plane, x, y,
                     source, False)
            return _check_aoi(r, name, line, ctx)
        if not {"easting", "northing"} <= has:
            raise ValueError("reference_point needs both easting and northing")
        east, north = _number(ref["easting"], "easting"), _number(ref["northing"], "northing")
        if _missing(ref.get("crs")):
            raise ValueError("reference_point has easting/northing but no crs")
        crs_text = str(ref["crs"]).strip()
        zone = None if _missing(ref.get("zone")) else _count(ref["zone"], "zone")
        if is_sk42(crs_text):
            if zone is None:
                if east < 1_000_000:
                    raise ValueError(f"SK-42 easting {east} lacks its zone prefix "
                                     "(give the full easting, e.g. 8664944, or zone)")
                zone = int(east // 1_000_000)
            elif east < 1_000_000:
                east += zone * 1_000_000
            elif int(east // 1_000_000) != zone:
                raise ValueError(f"easting {east} has zone prefix {int(east // 1_000_000)} "
                                 f"but zone is {zone}")
            if not 2 <= zone <= 32:
                raise ValueError(f"SK-42 zone {zone} (from the easting) does not exist "
                                 "(EPSG:28402-28432)")
            crs_label = f"EPSG:{28400 + zone}"
        else:
            _, crs_label = _user_crs(crs_text)
            code = crs_label.split(":")[-1]
            if crs_label.startswith("EPSG:") and code.isdigit() and 28402 <= int(code) <= 28432:
                gk = int(code) - 28400
                prefix = int(east // 1_000_000)
                if prefix != gk:
                    hint = ("; easting and northing look swapped"
                            if int(north // 1_000_000) == gk else "")
                    raise ValueError(f"easting {east} has zone prefix {prefix} but "
                                     f"{crs_label} is Gauss-Krüger zone {gk}{hint}")
        crs, crs_label = _user_crs(crs_label)
        if not crs.is_projected:
            raise ValueError(f"{crs_label} is not a projected CRS; give lat/lon")
        plane = _plane(crs_label, aoi)
        wlon, wlat = plane.to_wgs.transformer.transform(east, north)
        if not (math.isfinite(wlon) and math.isfinite(wlat)):
            raise ValueError(f"easting {east} / northing {north} cannot be transformed "
                             f"from {crs_label}")
        r = _Ref(crs_label, plane.to_wgs.description, east, north, wlon, wlat, plane, east,
                 north, plane.to_wgs, True)
        return _check_aoi(r, name, line, ctx)
    except (ValueError, UsageError) as exc:
        ctx.error(name, str(exc), line=line)
        return None


def _utm_name(lon: float, lat: float) -> str:
    return f"EPSG:{utm_epsg(lon, lat)}"


def _ref_mgrs(text: str, name: str, line: int | None, ctx: _Ctx) -> _Ref:
    import mgrs

    conv = mgrs.MGRS()
    compact = "".join(text.split()).upper()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            zone, hemi, east, north = conv.MGRSToUTM(compact)
        except Exception as exc:  # mgrs raises bare MGRSError/ValueError/RuntimeError
            raise ValueError(f"cannot read MGRS {text!r}: {exc}".splitlines()[0]) from None
    for w in caught:
        ctx.warn(name, f"MGRS {text!r}: {str(w.message).strip()}", line=line)
    code = (32600 if hemi == "N" else 32700) + int(zone)
    plane = _plane(f"EPSG:{code}", ctx.aoi)
    lon, lat = plane.to_wgs.transformer.transform(east, north)
    return _Ref(f"EPSG:{code}", plane.to_wgs.description, east, north, lon, lat, plane,
                east, north, plane.to_wgs, True)


def _check_aoi(ref: _Ref, name: str, line: int | None, ctx: _Ctx) -> _Ref | None:
    w, s, e, n = ctx.aoi
    if w <= ref.lon <= e and s <= ref.lat <= n:
        return ref
    hint = ""
    if w <= ref.lat <= e and s <= ref.lon <= n:
        hint = "; lat and lon look swapped"
    elif ref.source_is_plane:
        # Easting and northing swapped (EPSG:28408 lists the northing first)?
        # For Gauss-Krüger the zone would then come from the northing.
        names = [ref.plane.name]
        code = ref.plane.name.split(":")[-1]
        if code.isdigit() and 28402 <= int(code) <= 28432 and 2 <= ref.raw_y // 1e6 <= 32:
            names.append(f"EPSG:{28400 + int(ref.raw_y // 1e6)}")
        for crs_name in names:
            try:
                lon, lat = _plane(crs_name, ctx.aoi).to_wgs.transformer.transform(ref.raw_y,
                                                                                  ref.raw_x)
            except Exception:  # noqa: BLE001 - only a hint
                continue
            if w <= lon <= e and s <= lat <= n:
                hint = "; easting and northing look swapped"
                break
    ctx.error(name, f"reference point (lon {ref.lon:.5f}, lat {ref.lat:.5f}) is outside the "
              f"area of interest {tuple(ctx.aoi)}{hint}", line=line)
    return None


# --------------------------------------------------------------------------
# Computing a traverse.


def _grid_walk(plane: _Plane, x0: float, y0: float, bearings: np.ndarray,
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


def _true_walk(lon0: float, lat0: float, bearings: np.ndarray,
               dists: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lons, lats = [lon0], [lat0]
    for b, d in zip(bearings.tolist(), dists.tolist()):
        lon, lat, _ = _GEOD.fwd(lons[-1], lats[-1], b, d)
        lons.append(lon)
        lats.append(lat)
    return np.array(lons), np.array(lats)


def _bowditch(x: np.ndarray, y: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray,
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
class _Out:
    record: dict
    polygon: shapely.Polygon
    vertices: list[tuple[dict, tuple[float, float]]]      # (columns, (lon, lat))
    rows: list[tuple[dict, shapely.LineString]]


def _compute(spec: _Spec, ctx: _Ctx) -> _Out | None:
    ref = spec.ref
    assert ref is not None
    name = spec.name
    bearings = np.array([leg.bearing for leg in spec.legs])
    dists = np.array([leg.distance for leg in spec.legs])
    flags: list[str] = []
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
                    ctx.warn(name, f"direction_correction implies a declination of "
                             f"{implied:.2f}° but declination_deg is {spec.declination:.2f}°; "
                             "the traverse uses direction_correction")
        else:
            declination = spec.declination if spec.declination is not None else math.nan
            bearings = bearings + declination
    bearings = np.mod(bearings, 360.0)

    n_legs = len(spec.legs)
    closed = spec.closed
    n_vert = n_legs - 1 if closed else n_legs
    perimeter = float(dists[1:].sum()) if closed else math.nan
    mis_m = ratio = math.nan

    if plane_mode:
        px, py, k = _grid_walk(ref.plane, ref.x, ref.y, bearings, dists)
        ux, uy = px[1:n_vert + 1], py[1:n_vert + 1]
        if closed:
            # Ground metres: the plane misclosure over the scale factor there.
            mis_m = float(math.hypot(px[-1] - px[1], py[-1] - py[1]) / k[-1])
            ax, ay = _bowditch(px[1:], py[1:], dists[1:])
        else:
            ax, ay = ux, uy
        lon, lat = ref.plane.to_wgs.transformer.transform(ax, ay)
        if ref.source_is_plane:
            raw_x, raw_y = ux, uy
        else:
            wl, wb = ref.plane.to_wgs.transformer.transform(ux, uy)
            raw_x, raw_y = _wgs_to_source(ref, wl, wb)
    else:
        plon, plat = _true_walk(ref.lon, ref.lat, bearings, dists)
        ulon, ulat = plon[1:n_vert + 1], plat[1:n_vert + 1]
        if closed:
            mis_m = float(_GEOD.inv(plon[-1], plat[-1], plon[1], plat[1])[2])
            # Adjusting linearly in lon/lat: over a minefield the map from
            # lon/lat to a local plane is affine to ~1e-4, so the correction
            # (itself under 1:200 of the perimeter) errs by micrometres.
            lon, lat = _bowditch(plon[1:], plat[1:], dists[1:])
        else:
            lon, lat = ulon, ulat
        raw_x, raw_y = _wgs_to_source(ref, ulon, ulat)
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)

    if closed:
        ratio = perimeter / mis_m if mis_m > 0 else math.inf
        shown = f"1:{ratio:.0f}" if math.isfinite(ratio) else "exact"
        message = f"misclosure {mis_m:.2f} m ({shown}) over a perimeter of {perimeter:.1f} m"
        if ratio < settings.misclosure_tolerance:
            if not ctx.accept:
                ctx.error(name, message + f" exceeds the tolerance 1:"
                          f"{settings.misclosure_tolerance}; check the legs, or accept it "
                          "with --accept-misclosure")
                return None
            ctx.warn(name, message + f", beyond 1:{settings.misclosure_tolerance}, accepted")
        else:
            ctx.warn(name, message)
    else:
        flags.append("unclosed")
        ctx.warn(name, f"not closed: the polygon is closed straight from "
                 f"{spec.legs[-1].label} back to TP1")

    ring = np.column_stack([lon, lat])
    polygon = shapely.Polygon(ring)
    vertices: list[tuple[dict, tuple[float, float]]] = [(
        {"record_id": spec.record_id, "handover": spec.handover, "vertex": 0, "label": "RP",
         "point_type": "reference", "raw_x": ref.raw_x, "raw_y": ref.raw_y},
        (ref.lon, ref.lat))]
    positions: dict[str, tuple[float, float, int]] = {"RP": (ref.lon, ref.lat, -1)}
    for i in range(n_vert):
        leg = spec.legs[i]
        vertices.append((
            {"record_id": spec.record_id, "handover": spec.handover, "vertex": i + 1,
             "label": leg.label, "point_type": leg.point_type,
             "raw_x": float(raw_x[i]), "raw_y": float(raw_y[i])},
            (float(lon[i]), float(lat[i]))))
        positions[leg.label] = (float(lon[i]), float(lat[i]), i)

    rows = []
    total = 0
    for j, row in enumerate(spec.rows, start=1):
        slon, slat, _ = positions[row.start]
        rb = row.bearing
        if spec.north == "magnetic":
            rb += spec.correction if spec.correction is not None else declination
        rb %= 360.0
        if plane_mode:
            sx, sy = ref.plane.to_wgs.transformer.transform(slon, slat, direction="INVERSE")
            ex, ey, _ = _grid_walk(ref.plane, sx, sy, np.array([rb]), np.array([row.distance]))
            elon, elat = ref.plane.to_wgs.transformer.transform(ex[-1], ey[-1])
        else:
            elon, elat, _ = _GEOD.fwd(slon, slat, rb, row.distance)
        spacing = row.spacing
        if spacing is None:
            spacing = row.distance / (row.mines - 1) if row.mines > 1 else math.nan
        total += row.mines
        rows.append((
            {"record_id": spec.record_id, "handover": spec.handover, "row": j,
             "mines": row.mines, "mine_type": row.mine_type, "spacing_m": spacing},
            shapely.LineString([(slon, slat), (elon, elat)])))
    if spec.rows and total != spec.mines_total:
        flags.append("row_count_mismatch")
        ctx.warn(name, f"the rows hold {total} mines but the record says {spec.mines_total}")

    record = {
        "record_id": spec.record_id, "handover": spec.handover, "district": spec.district,
        "mines_ap": spec.mines_ap, "mines_at": spec.mines_at, "mines_total": spec.mines_total,
        "mine_types": spec.mine_types, "laid_date": spec.laid_date,
        "reliability": spec.reliability, "area_ha": math.nan, "flags": ";".join(flags),
        "source_file": ctx.file, "source_crs": ref.source_crs,
        "transformation": ref.transformation, "raw": spec.raw,
        "misclosure_m": mis_m, "misclosure_ratio": ratio, "declination_deg": declination,
    }
    return _Out(record, polygon, vertices, rows)


def _wgs_to_source(ref: _Ref, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray,
                                                                       np.ndarray]:
    if ref.source_crs == "EPSG:4326":
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    x, y = ref.source.transformer.transform(lon, lat, direction="INVERSE")
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


# --------------------------------------------------------------------------
# Public API.


def _frame(columns: dict[str, str], rows: list[dict], geoms: list) -> gpd.GeoDataFrame:
    dtypes = {"str": object, "int": "int64", "float": "float64", "bool": bool}
    df = pd.DataFrame(rows, columns=list(columns))
    for col, kind in columns.items():
        df[col] = df[col].astype(dtypes[kind])
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"),
                            crs="EPSG:4326")


def _empty() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    return (_frame(sc.MINEFIELD_COLUMNS, [], []), _frame(sc.VERTEX_COLUMNS, [], []),
            _frame(sc.MINE_ROW_COLUMNS, [], []))


def is_traverse_file(path: str | Path) -> bool:
    """Whether ``path`` is a traverse file: YAML, or a CSV with bearing & distance_m columns.

    Parameters
    ----------
    path
        A file path; a CSV is recognised by its header line only.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return True
    if suffix != ".csv":
        return False
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            head = fh.readline()
    except (OSError, UnicodeDecodeError):
        return False
    delimiter = ";" if head.count(";") > head.count(",") else ","
    if head.count(delimiter) >= settings.max_columns:
        # Not a traverse file; the GIS reader refuses its width in one line.
        return False
    try:
        cols = {c.strip().lower() for c in next(csv.reader(io.StringIO(head),
                                                           delimiter=delimiter))}
    except StopIteration:
        return False
    return {"bearing", "distance_m"} <= cols


def read_traverse(
    path: str | Path,
    *,
    handover: str | None = None,
    handover_date: str | dt.date | None = None,
    accept_misclosure: bool = False,
    aoi: tuple[float, float, float, float] | None = None,
    repair: str | None = None,
) -> TraverseResult:
    """Read traverse records from a YAML or CSV file.

    Parameters
    ----------
    path
        ``.yaml``/``.yml`` (one record, a list of records, or several YAML
        documents) or ``.csv`` (one line per leg; see ``docs/traverse.md``).
    handover
        The import's handover.  A record's own ``handover`` must equal it;
        records without one get it.
    handover_date
        ISO date; the date of the geomagnetic model for magnetic records that
        have neither a declination, a direction correction nor a laid_date.
    accept_misclosure
        Import closed traverses whose misclosure is worse than
        ``1:settings.misclosure_tolerance`` (with a warning) instead of
        refusing them.
    aoi
        Area of interest (west, south, east, north); ``settings.aoi`` if None.
        Reference points outside it are refused.
    repair
        ``None``: a self-intersecting perimeter becomes the valid polygonal
        parts of its outline (``make_valid``); ``"hull"``: its convex hull.
        Either way it gets the flag ``self_intersecting`` and a warning.

    Returns
    -------
    TraverseResult
        The records, vertices and mine rows, or three empty frames if any
        record is refused, and every problem found.

    Raises
    ------
    UsageError
        If the file cannot be read or ``handover_date`` is not a date.
    """
    with gc_paused():
        return _read(path, handover=handover, handover_date=handover_date,
                     accept_misclosure=accept_misclosure, aoi=aoi, repair=repair)


def _read(
    path: str | Path,
    *,
    handover: str | None,
    handover_date: str | dt.date | None,
    accept_misclosure: bool,
    aoi: tuple[float, float, float, float] | None,
    repair: str | None,
) -> ReadResult:
    if repair not in (None, "hull"):
        raise UsageError(f"repair {repair!r}: the only repair offered is 'hull'")
    path = Path(path)
    name = path.name
    aoi = tuple(float(v) for v in (aoi if aoi is not None else settings.aoi))
    hdate = None
    if handover_date is not None and str(handover_date).strip():
        try:
            hdate = parse_date(handover_date)
        except ValueError as exc:
            raise UsageError(f"handover date: {exc}") from None
    ctx = _Ctx(name, handover, hdate, aoi, accept_misclosure)
    try:
        # Read once: the bytes hashed are the bytes parsed (issue 15 item 4).
        data, sha = provenance.read_source_bytes(path)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None
    source = Source(path, name, sha, "", "")

    def result(*frames) -> ReadResult:
        m, v, r = frames or _empty()
        if len(m):
            source.source_crs = ";".join(sorted(set(m["source_crs"])))
            source.transformation = " | ".join(sorted(set(m["transformation"])))
        return ReadResult({"minefields": m, "vertices": v, "mine_rows": r}, ctx.problems,
                          [source])

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        ctx.error(None, f"not UTF-8 text (byte {exc.start}); save it as UTF-8")
        return result()
    del data
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        items = yaml_items(text, name, ctx.problems)
    elif suffix == ".csv":
        items = csv_items(text, name, ctx.problems)
    else:
        ctx.error(None, "not a traverse file (use .yaml, .yml or .csv)")
        items = []

    # The record rules every reader shares (minemap.records.rules): id,
    # handover, counts, district, mine types, laid_date.
    frame, names, where = _attribute_frame(items, ctx)
    cols, found = rules.record_attributes(frame, name, names, handover=handover, where=where)
    ctx.problems += found
    failed = {p.record for p in found if p.severity == "error"}
    specs: list[_Spec] = []
    for index, (data_i, raw) in enumerate(items, start=1):
        i = index - 1
        attrs = {c: cols[c][i] for c in cols}
        attrs["name"] = names[i]
        attrs["bad"] = names[i] in failed
        attrs["handover"] = attrs["handover"] or handover or ""
        spec = _parse_record(data_i, raw, index, ctx, attrs)
        if spec is not None:
            specs.append(spec)

    modelled = [s for s in specs if s.model_date is not None and s.ref is not None]
    if modelled:
        decs = magnetic.declinations([s.ref.lon for s in modelled],
                                     [s.ref.lat for s in modelled],
                                     [s.model_date for s in modelled])
        for s, d in zip(modelled, decs.tolist()):
            s.declination = d

    outs = [o for o in (_compute(s, ctx) for s in specs) if o is not None]
    if not ctx.problems or all(p.severity != "error" for p in ctx.problems):
        polys = np.array([o.polygon for o in outs], dtype=object)
        for i in np.flatnonzero(~shapely.is_valid(polys)):
            # Often two turning points swapped (DESIGN §4): keep the field
            # faithful to its vertices, or take the hull, which never leaves
            # hazardous ground outside, and say so.
            o = outs[i]
            o.record["flags"] = ";".join(filter(None, [o.record["flags"],
                                                       "self_intersecting"]))
            if repair == "hull":
                polys[i] = shapely.convex_hull(polys[i])
                how = "replaced by its convex hull"
            else:
                polys[i] = polygonal(shapely.make_valid(polys[i]))
                how = "kept as the valid parts of its outline"
            ctx.warn(o.record["record_id"], "self-intersecting perimeter (turning points "
                     f"swapped?); {how}; review it on the map")
        polys = orient(polys)
        areas = area_ha(polys)
        recs = []
        for o, a in zip(outs, areas.tolist()):
            o.record["area_ha"] = a
            recs.append(o.record)
        records = _frame(sc.MINEFIELD_COLUMNS, recs, list(polys))
        xy = np.array([g for o in outs for _, g in o.vertices], dtype=float).reshape(-1, 2)
        vertices = _frame(sc.VERTEX_COLUMNS, [v for o in outs for v, _ in o.vertices],
                          list(shapely.points(xy)))
        rows = _frame(sc.MINE_ROW_COLUMNS, [r for o in outs for r, _ in o.rows],
                      [g for o in outs for _, g in o.rows])
        return result(records, vertices, rows)
    return result()


def mine_positions(rows: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Estimated mine positions along mine rows, for the map.

    The mines of a row are placed every ``spacing_m`` metres along the
    geodesic from the row's start, beginning at the start point, and never
    beyond the row's end; a row of one mine without a spacing gets it at the
    row's middle.

    Parameters
    ----------
    rows
        A ``mine_rows`` frame (:data:`minemap.records.schema.MINE_ROW_COLUMNS`,
        EPSG:4326 LineStrings), such as ``read_traverse(...).rows``.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 points with columns ``record_id``, ``handover``, ``row``,
        ``n`` (1-based along the row) and ``mine_type``.
    """
    cols = ["record_id", "handover", "row", "n", "mine_type"]
    if rows.crs is not None and not rows.crs.equals(CRS.from_epsg(4326)):
        rows = rows.to_crs("EPSG:4326")
    geoms = rows.geometry.to_numpy()
    counts = rows["mines"].to_numpy(dtype="int64")
    ok = ~shapely.is_empty(geoms) & ~pd.isna(geoms) & (counts > 0)
    if not ok.any():
        return gpd.GeoDataFrame({c: pd.Series(dtype=object if c in ("record_id", "handover",
                                 "mine_type") else "int64") for c in cols},
                                geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
    sub = rows[ok]
    g = geoms[ok]
    counts = counts[ok]
    first = shapely.get_point(g, 0)
    last = shapely.get_point(g, -1)
    x0, y0 = shapely.get_x(first), shapely.get_y(first)
    x1, y1 = shapely.get_x(last), shapely.get_y(last)
    az, _, length = _GEOD.inv(x0, y0, x1, y1)
    length = np.asarray(length, dtype=float)
    spacing = sub["spacing_m"].to_numpy(dtype=float)
    fallback = np.where(counts > 1, length / np.maximum(counts - 1, 1), np.nan)
    spacing = np.where(np.isfinite(spacing), spacing, fallback)
    idx = np.repeat(np.arange(len(sub)), counts)
    n = np.concatenate([np.arange(c) for c in counts])
    along = np.where(np.isfinite(spacing[idx]), n * spacing[idx], length[idx] / 2)
    along = np.minimum(along, length[idx])
    lon, lat, _ = _GEOD.fwd(x0[idx], y0[idx], np.asarray(az)[idx], along)
    out = pd.DataFrame({
        "record_id": sub["record_id"].to_numpy()[idx],
        "handover": sub["handover"].to_numpy()[idx],
        "row": sub["row"].to_numpy(dtype="int64")[idx],
        "n": n + 1,
        "mine_type": sub["mine_type"].to_numpy()[idx],
    })
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
