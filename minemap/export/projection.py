"""``export --crs``: exports in a projected CRS, with the transformation recorded.

The transformation from WGS84 is the one pyproj ranks best for the data's
area of interest (:func:`minemap.geo.crs.to_wgs84`, run in reverse), so an
SK-42 export gets the same Pulkovo 1942 → WGS 84 operation as an SK-42
import, and the files say which (DESIGN §2, §12).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.enums import TransformDirection

from minemap._errors import UsageError
from minemap.geo.crs import crs_name, parse_crs, to_wgs84

_SK42 = re.compile(r"^\s*(sk-?42|pulkovo[ _-]?1942|ск-?42)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Projection:
    """A target CRS and the transformation used to reach it from WGS84.

    Attributes
    ----------
    crs
        The target CRS.
    name
        Its authority string (``"EPSG:28408"``).
    description
        The coordinate operation used (WGS84 → target runs it in reverse).
    definition
        That operation's PROJ pipeline.
    accuracy
        Its stated accuracy in metres (``-1`` if unknown).
    """

    crs: CRS
    name: str
    description: str
    definition: str
    accuracy: float
    _transformer: Transformer

    def forward(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """WGS84 lon/lat → (easting, northing) in :attr:`crs`."""
        x, y = self._transformer.transform(np.asarray(lon, dtype=float),
                                           np.asarray(lat, dtype=float),
                                           direction=TransformDirection.INVERSE)
        return np.asarray(x), np.asarray(y)

    def transform(self, geoms: np.ndarray, decimals: int) -> np.ndarray:
        """Geometries projected, on a grid of ``10**-decimals`` metres, still valid."""
        def fn(coords: np.ndarray) -> np.ndarray:
            return np.column_stack(self.forward(coords[:, 0], coords[:, 1]))

        out = shapely.transform(np.asarray(geoms, dtype=object), fn)
        # A conformal projection keeps a valid polygon valid; the metric grid
        # is applied in GEOS's validity-preserving mode all the same.
        return shapely.set_precision(out, 10.0 ** -decimals, mode="valid_output")

    def note(self) -> str:
        """One line for file metadata: the CRS and the transformation."""
        acc = f" (accuracy {self.accuracy:g} m)" if self.accuracy >= 0 else ""
        return (f"CRS {self.name} ({self.crs.name}); from WGS84 by the inverse of: "
                f"{self.description}{acc}; PROJ (to WGS84): {self.definition}")

    def metadata(self) -> dict[str, str]:
        """Key/value metadata (GeoPackage ``gpkg_metadata``, sidecars)."""
        return {"minemap_crs": self.name, "minemap_crs_name": self.crs.name,
                "minemap_transformation": self.description,
                "minemap_transformation_proj": self.definition,
                "minemap_transformation_accuracy_m": f"{self.accuracy:g}"}


def metric_decimals(precision: int) -> int:
    """Decimals of metres matching `precision` decimals of degrees (6 → 2: 1 cm)."""
    return max(int(precision) - 4, 0)


def sk42_zone_crs(lon: float) -> CRS:
    """The Pulkovo 1942 Gauss-Krüger 6° zone CRS (EPSG:284zz) holding a longitude."""
    zone = int(lon // 6) + 1
    if not 4 <= zone <= 32:
        raise UsageError(f"--crs SK-42: longitude {lon:g} lies outside the Gauss-Krüger "
                         f"zones of EPSG:28404-28432; give an EPSG code")
    return CRS.from_epsg(28400 + zone)


def projection_for(value: str, bounds: tuple[float, float, float, float]) -> Projection:
    """The :class:`Projection` for ``--crs VALUE`` over data within `bounds`.

    Parameters
    ----------
    value
        ``EPSG:32638``, a code, WKT, or ``SK-42`` (the Gauss-Krüger zone of
        the data's centre).
    bounds
        WGS84 (west, south, east, north) of the data: the area of interest
        pyproj uses to choose the transformation.

    Raises
    ------
    UsageError
        Unknown CRS, a geographic CRS, or no transformation.
    """
    w, s, e, n = (float(b) for b in bounds)
    if not np.isfinite([w, s, e, n]).all():
        from minemap import settings

        w, s, e, n = settings.aoi
    crs = sk42_zone_crs((w + e) / 2) if _SK42.match(str(value)) else parse_crs(value)
    if not crs.is_projected:
        raise UsageError(f"--crs {value}: {crs_name(crs)} is not a projected CRS; exports are "
                         f"WGS84 lon/lat by default")
    # A degenerate box (one point) is widened a little: pyproj wants an area.
    pad = 0.01
    t = to_wgs84(crs, aoi=(w - pad, s - pad, e + pad, n + pad))
    return Projection(crs=crs, name=crs_name(crs), description=t.description,
                      definition=t.definition, accuracy=t.accuracy, _transformer=t.transformer)
