"""What a traverse record becomes before it is computed: values, specs, the context.

The dataclasses here carry one record from parsing (:mod:`._parse`,
:mod:`._refs`) to computing (:mod:`._compute`); :class:`Ctx` collects every
problem of the file, named by record, leg and line.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from pyproj import CRS, Geod, Proj, Transformer
from pyproj.exceptions import CRSError

from minemap._errors import Problem, UsageError
from minemap.geo import magnetic
from minemap.geo.crs import Transformation, to_wgs84

GEOD = Geod(ellps="WGS84")

RECORD_FIELDS = {
    "record_id", "handover", "district", "laid_date", "mines", "mines_ap", "mines_at",
    "mines_total", "mine_types", "reliability", "reference_point", "angle_unit", "north",
    "closed", "declination_deg", "direction_correction", "legs", "rows",
    # Sample data says so on the record itself (kept in its raw text, which a
    # list file's header comment is not): sheets print SYNTHETIC from it.
    "synthetic",
}
NORTHS = ("grid", "true", "magnetic")
_MISSING = {"", "~", "null", "none"}
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")


@dataclass
class Plane:
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
def plane(crs_name: str, aoi: tuple[float, float, float, float]) -> Plane:
    crs = CRS.from_user_input(crs_name)
    return Plane(
        crs=crs,
        name=crs_name,
        to_wgs=wgs84(crs_name, aoi),
        to_geog=Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True),
        proj=Proj(crs),
    )


@lru_cache(maxsize=128)
def wgs84(crs_name: str, aoi: tuple[float, float, float, float]) -> Transformation:
    # minemap.geo.crs.to_wgs84 caches the transformation but serialises the CRS
    # to WKT on every call (~1 ms); records name their CRS by string.
    return to_wgs84(crs_name, aoi=aoi)


@lru_cache(maxsize=256)
def user_crs(text: str) -> tuple[CRS, str]:
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
class Ref:
    source_crs: str
    transformation: str
    raw_x: float
    raw_y: float
    lon: float
    lat: float
    plane: Plane
    x: float                    # in the plane CRS
    y: float
    source: Transformation      # source CRS → WGS84 (inverse gives raw positions)
    source_is_plane: bool


@dataclass
class Leg:
    bearing: float              # degrees from the traverse's north (grid or true)
    distance: float
    point_type: str
    label: str | None
    line: int | None


@dataclass
class Row:
    start: str
    bearing: float
    distance: float
    mines: int
    mine_type: str
    spacing: float | None
    line: int | None


@dataclass
class Spec:
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
    ref: Ref | None = None
    unit: str = "deg"
    north: str = "grid"
    closed: bool = True
    declination: float | None = None
    correction: float | None = None     # direction correction in degrees
    model_date: dt.date | None = None   # IGRF date when the declination is modelled
    legs_raw: list = field(default_factory=list)
    rows_raw: list = field(default_factory=list)
    legs: list[Leg] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)


class Ctx:
    """One file's reading: its settings and every problem found, by record."""

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


def missing(value: object) -> bool:
    """Whether a value is absent (None, empty, ``~``, ``null`` or ``none``)."""
    return value is None or (isinstance(value, str) and value.strip().lower() in _MISSING)


def number(value: object, what: str) -> float:
    """A finite number, or a ValueError naming ``what``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        x = float(value)
    elif isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        x = float(value)
    else:
        raise ValueError(f"{what} {value!r} is not a number")
    if not math.isfinite(x):
        raise ValueError(f"{what} {value!r} is not a finite number")
    return x


def whole(value: object, what: str) -> int:
    """A whole number from 0 to 10,000,000, or a ValueError naming ``what``."""
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


def boolean(value: object, what: str) -> bool:
    """true/yes/1/on or false/no/0/off, or a ValueError naming ``what``."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "y", "1", "on"):
        return True
    if text in ("false", "no", "n", "0", "off"):
        return False
    raise ValueError(f"{what} {value!r} is not true or false")

