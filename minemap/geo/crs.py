"""Coordinate reference systems and datum transformations.

Every transformation to WGS84 is chosen by pyproj for an area of interest,
and the operation actually used is returned so that it can be stored as
provenance (DESIGN §2).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from pyproj import CRS, Transformer
from pyproj.aoi import AreaOfInterest
from pyproj.exceptions import CRSError
from pyproj.transformer import TransformerGroup

from minemap import settings
from minemap._errors import UsageError

WGS84 = "EPSG:4326"


@dataclass(frozen=True)
class Transformation:
    """A transformer to WGS84 lon/lat and what it is, for provenance.

    Attributes
    ----------
    transformer
        ``always_xy`` transformer from the source CRS to EPSG:4326.
    source_crs
        The source CRS as an authority string (``"EPSG:28408"``) or WKT.
    description
        The name of the coordinate operation used, e.g. ``"… Pulkovo 1942 to
        WGS 84 (16) …"``.
    definition
        The PROJ pipeline of that operation.
    accuracy
        The operation's stated accuracy in metres (``-1`` if unknown).
    """

    transformer: Transformer
    source_crs: str
    description: str
    definition: str
    accuracy: float


def parse_crs(value: str | int | CRS) -> CRS:
    """Parse a user-given CRS (``"EPSG:28408"``, ``28408``, WKT, …).

    Raises
    ------
    UsageError
        If pyproj does not know the CRS.
    """
    if isinstance(value, CRS):
        return value
    try:
        if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
            return CRS.from_epsg(int(value))
        return CRS.from_user_input(value)
    except CRSError as exc:
        raise UsageError(f"unknown CRS {value!r}: {exc}".splitlines()[0]) from None


def crs_name(crs: CRS) -> str:
    """Short authority string of a CRS (``"EPSG:28408"``), else its name."""
    auth = crs.to_authority(min_confidence=90)
    return f"{auth[0]}:{auth[1]}" if auth else crs.name


@lru_cache(maxsize=64)
def _transformation(crs_wkt: str, aoi: tuple[float, float, float, float]) -> Transformation:
    # Cached because building a TransformerGroup costs milliseconds and a
    # handover can hold thousands of records in the same CRS.
    crs = CRS.from_wkt(crs_wkt)
    group = TransformerGroup(
        crs, WGS84, always_xy=True, area_of_interest=AreaOfInterest(*aoi)
    )
    if not group.transformers:
        raise UsageError(f"pyproj has no transformation from {crs_name(crs)} to WGS84")
    best = group.transformers[0]
    return Transformation(
        transformer=best,
        source_crs=crs_name(crs),
        description=best.description,
        definition=best.definition,
        accuracy=float(best.accuracy if best.accuracy is not None else -1),
    )


def to_wgs84(
    crs: str | int | CRS, *, aoi: tuple[float, float, float, float] | None = None
) -> Transformation:
    """The best available transformation from ``crs`` to WGS84 lon/lat.

    Parameters
    ----------
    crs
        Source CRS.
    aoi
        Area of interest (west, south, east, north); ``settings.aoi`` if None.

    Returns
    -------
    Transformation
        The transformer and the operation it uses.

    Examples
    --------
    >>> t = to_wgs84("EPSG:28408")
    >>> "Pulkovo 1942 to WGS 84" in t.description
    True
    """
    key = tuple(aoi or settings.aoi)
    if isinstance(crs, str | int):
        return _transformation_named(str(crs), key)
    return _transformation(parse_crs(crs).to_wkt(), key)


@lru_cache(maxsize=64)
def _transformation_named(name: str, aoi: tuple[float, float, float, float]) -> Transformation:
    # Cached by the name as given: turning a CRS into WKT for the key costs
    # about a millisecond, which adds up over thousands of traverse records.
    return _transformation(parse_crs(name).to_wkt(), aoi)


def utm_epsg(lon, lat):
    """EPSG code of the WGS84 UTM zone holding each point: the one UTM-zone rule.

    Vectorised: arrays in, an ``int64`` array out; scalars in, an ``int`` out.
    Zones are the plain 6° bands from 180° W (the Norway and Svalbard
    exceptions of MGRS do not reach the area minemap maps); ``lat >= 0`` is
    the northern hemisphere (EPSG:326zz), else the southern (EPSG:327zz).

    Examples
    --------
    >>> utm_epsg(46.93, 39.98)
    32638
    >>> utm_epsg(np.array([44.9, 45.1]), np.array([40.0, -1.0])).tolist()
    [32638, 32738]
    """
    lo = np.asarray(lon, dtype=float)
    la = np.asarray(lat, dtype=float)
    zone = (np.floor((lo + 180.0) / 6.0).astype(np.int64) % 60) + 1
    code = np.where(la >= 0, 32600, 32700) + zone
    return int(code) if code.ndim == 0 else code


@lru_cache(maxsize=128)
def _utm(code: int) -> CRS:
    return CRS.from_epsg(code)


def utm_crs(lon: float, lat: float) -> CRS:
    """The WGS84 UTM zone CRS containing a point (EPSG:326zz / 327zz).

    Examples
    --------
    >>> utm_crs(46.93, 39.98).to_epsg()
    32638
    """
    return _utm(utm_epsg(lon, lat))


#: Names accepted for Pulkovo 1942 Gauss-Krüger with the zone in the easting
#: (``--crs SK-42``, a traverse record's ``crs: SK-42``).
SK42_NAMES = frozenset({"sk-42", "sk42", "sk 42", "ск-42", "ск42", "pulkovo 1942",
                        "pulkovo-1942", "pulkovo42", "pulkovo 1942 gauss-kruger", "ck-42",
                        "ck42"})


def is_sk42(text: object) -> bool:
    """Whether a CRS name means SK-42 with the zone taken from the easting."""
    return isinstance(text, str) and text.strip().lower() in SK42_NAMES


def sk42_zone(easting):
    """Gauss-Krüger zone of SK-42 eastings written with the zone prefix (``8 664 944`` → 8).

    Vectorised like :func:`utm_epsg`.  A zone outside 2..32 (EPSG:28402-28432)
    comes back as 0: the easting has no valid prefix.
    """
    e = np.asarray(easting, dtype=float)
    with np.errstate(invalid="ignore"):
        zone = np.where(np.isfinite(e), np.floor(e / 1_000_000), 0).astype(np.int64)
    zone = np.where((zone >= 2) & (zone <= 32), zone, 0)
    return int(zone) if zone.ndim == 0 else zone
