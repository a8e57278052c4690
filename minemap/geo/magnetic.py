"""Magnetic declination and grid convergence for magnetic-north traverses.

Records of the 1990s give magnetic bearings.  Unless the record states its
declination (or a Soviet direction correction), the declination is computed
from the International Geomagnetic Reference Field, IGRF-14 (``ppigrf``),
which is valid from 1900-01-01 to 2030-01-01.  Dates outside are refused.
Dates are read by :mod:`minemap.geo.dates` (a bare year or month is taken at
the middle of its period, :func:`minemap.geo.dates.model_date`).

IGRF interpolates its Gauss coefficients linearly in time between 5-year
epochs, and the field is linear in the coefficients, so the field at any date
is the same linear interpolation of the fields at the two neighbouring epochs.
:func:`declinations` uses this to evaluate many records in one ``ppigrf``
call (one call costs about 20 ms because ``ppigrf`` re-reads its coefficient
file each time); the result equals ``ppigrf.igrf`` at each date to rounding.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from pyproj import CRS, Proj

from minemap.geo.dates import model_date

#: IGRF-14 validity, inclusive.
IGRF_START = dt.date(1900, 1, 1)
IGRF_END = dt.date(2030, 1, 1)

class ModelRangeError(ValueError):
    """A date outside the geomagnetic model's validity; the message is one line."""


def check_date(date: dt.date) -> None:
    """Raise :class:`ModelRangeError` unless IGRF-14 covers ``date``."""
    if not IGRF_START <= date <= IGRF_END:
        raise ModelRangeError(
            f"date {date.isoformat()} is outside the IGRF-14 validity "
            f"({IGRF_START.isoformat()} to {IGRF_END.isoformat()})"
        )


@lru_cache(maxsize=1)
def _epochs() -> tuple[dt.datetime, ...]:
    import ppigrf

    g, _ = ppigrf.ppigrf.read_shc(ppigrf.ppigrf.shc_fn_igrf14)
    return tuple(t.to_pydatetime() for t in g.index)


def declinations(
    lons: Sequence[float] | np.ndarray,
    lats: Sequence[float] | np.ndarray,
    dates: Sequence[dt.date],
) -> np.ndarray:
    """Magnetic declinations (degrees, east positive) from IGRF-14.

    Parameters
    ----------
    lons, lats
        WGS84 geodetic longitudes and latitudes (degrees), on the ellipsoid.
    dates
        One date per point.

    Returns
    -------
    numpy.ndarray
        Declination of each point at its date: a magnetic bearing plus the
        declination is the true bearing.

    Raises
    ------
    ModelRangeError
        If any date is outside IGRF-14's validity.
    """
    import ppigrf

    lons = np.asarray(lons, dtype=float).ravel()
    lats = np.asarray(lats, dtype=float).ravel()
    if not (len(lons) == len(lats) == len(dates)):
        raise ValueError("lons, lats and dates must have the same length")
    if len(lons) == 0:
        return np.zeros(0)
    for d in dates:
        check_date(d)
    epochs = _epochs()
    when = [dt.datetime(d.year, d.month, d.day) for d in dates]
    # Index of the epoch at or before each date (the last date, 2030-01-01,
    # is itself an epoch and pairs with the one before it).
    idx = np.searchsorted(np.array(epochs, dtype="datetime64[us]"),
                          np.array(when, dtype="datetime64[us]"), side="right") - 1
    idx = np.clip(idx, 0, len(epochs) - 2)
    needed = sorted(set(idx.tolist()) | {i + 1 for i in idx.tolist()})
    be, bn, _ = ppigrf.igrf(lons, lats, 0.0, [epochs[i] for i in needed],
                            coeff_fn=ppigrf.ppigrf.shc_fn_igrf14)
    row = {e: r for r, e in enumerate(needed)}
    i0 = np.array([row[i] for i in idx])
    i1 = np.array([row[i + 1] for i in idx])
    cols = np.arange(len(lons))
    t0 = np.array([epochs[i] for i in idx])
    t1 = np.array([epochs[i + 1] for i in idx])
    # Same weights as ppigrf's pandas time interpolation: elapsed time.
    w = np.array([(a - b).total_seconds() / (c - b).total_seconds()
                  for a, b, c in zip(when, t0, t1)])
    e = (1 - w) * be[i0, cols] + w * be[i1, cols]
    n = (1 - w) * bn[i0, cols] + w * bn[i1, cols]
    return np.degrees(np.arctan2(e, n))


def declination(lon: float, lat: float, date: dt.date | str) -> float:
    """Magnetic declination (degrees, east positive) at one point and date.

    Examples
    --------
    >>> round(declination(46.93, 39.99, "1993-08-20"), 1)
    4.7
    """
    if not isinstance(date, dt.date):
        date = model_date(date)
    return float(declinations([lon], [lat], [date])[0])


@lru_cache(maxsize=64)
def _proj(crs_text: str) -> Proj:
    return Proj(CRS.from_user_input(crs_text))


def grid_convergence(crs: CRS, lon: float, lat: float) -> float:
    """Grid convergence (degrees): the true bearing of grid north.

    Positive east of the central meridian in the northern hemisphere, so
    that a grid bearing plus the convergence is the true bearing, and a
    Soviet direction correction is ``declination - convergence``.

    Parameters
    ----------
    crs
        A projected CRS.
    lon, lat
        Geodetic coordinates in the CRS's own geodetic datum (degrees).
    """
    # Keyed by the text the CRS was made from: WKT costs ~1 ms per call, and
    # a traverse file asks once per record.
    key = crs.srs or crs.to_wkt()
    return float(_proj(key).get_factors(lon, lat).meridian_convergence)
