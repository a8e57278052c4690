"""The numbers a printed map sheet needs: UTM grid lines, MGRS labels, scale bar, north.

Pure functions of coordinates, so that they are tested on their own.
"""

from __future__ import annotations

import math

import mgrs as _mgrs
import numpy as np
from pyproj import CRS, Transformer

#: Grid intervals (metres) a sheet may use.
GRID_STEPS: tuple[int, ...] = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000,
                               100_000)
#: Scale-bar lengths (metres) a sheet may use.
BAR_LENGTHS: tuple[int, ...] = (10, 20, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000,
                                10_000, 20_000, 25_000, 50_000, 100_000)


def grid_step(span_m: float, *, max_lines: int = 8) -> int:
    """The smallest interval giving at most `max_lines` grid lines across `span_m`."""
    for step in GRID_STEPS:
        if span_m / step <= max_lines:
            return step
    return GRID_STEPS[-1]


def grid_lines(lo: float, hi: float, step: int) -> np.ndarray:
    """Multiples of `step` within [lo, hi]."""
    first = math.ceil(lo / step) * step
    return np.arange(first, hi + 1e-9, step, dtype=float)


def _digits(step: int) -> int:
    """MGRS digits per axis that resolve `step` metres (1 km → 2 digits)."""
    return max(1, min(5, 5 - int(math.floor(math.log10(step)))))


def mgrs_labels(utm: CRS, values: np.ndarray, other: float, axis: str, step: int) -> list[str]:
    """MGRS labels of grid lines: the 100 km square and the line's principal digits.

    Parameters
    ----------
    utm
        The sheet's UTM zone CRS.
    values
        Eastings (``axis="x"``) or northings (``axis="y"``) of the lines.
    other
        The other coordinate at which the label is read (the sheet's centre).
    axis
        ``"x"`` or ``"y"``.
    step
        The grid interval, which sets how many digits are shown.

    Returns
    -------
    list of str
        E.g. ``"NK 64"`` for the easting 64 km into square NK.
    """
    to_ll = Transformer.from_crs(utm, "EPSG:4326", always_xy=True)
    m = _mgrs.MGRS()
    nd = _digits(step)
    out = []
    for v in values:
        x, y = (v, other) if axis == "x" else (other, v)
        lon, lat = to_ll.transform(x, y)
        square = m.toMGRS(lat, lon, MGRSPrecision=0)[-2:]
        # The line lies on a multiple of the step: its digits are those of
        # the coordinate within the 100 km square.
        digits = f"{int(round(v)) % 100_000:05d}"
        out.append(f"{square} {digits[:nd]}")
    return out


def bar_length(width_m: float, *, share: float = 0.25) -> int:
    """A round scale-bar length close to `share` of the map's width."""
    target = width_m * share
    best = BAR_LENGTHS[0]
    for length in BAR_LENGTHS:
        if length <= target:
            best = length
    return best


def true_north_angle(utm: CRS, lon: float, lat: float) -> float:
    """Clockwise angle (degrees) from grid north to true north at a point.

    Measured, not looked up: the grid direction of a short step due north.
    """
    tr = Transformer.from_crs("EPSG:4326", utm, always_xy=True)
    (x0, x1), (y0, y1) = tr.transform([lon, lon], [lat, lat + 1e-3])
    return math.degrees(math.atan2(x1 - x0, y1 - y0))


def scale_denominator(map_width_m: float, paper_width_m: float) -> float:
    """N of the sheet's 1:N scale (ground metres per paper metre)."""
    return map_width_m / paper_width_m


def nice_scale(n: float) -> int:
    """`n` rounded to two significant figures, for a printed 1:N."""
    if n <= 0 or not math.isfinite(n):
        return 0
    mag = 10 ** (int(math.floor(math.log10(n))) - 1)
    return int(round(n / mag) * mag)
