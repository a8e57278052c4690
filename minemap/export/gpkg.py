"""GeoPackage: named layers with QGIS default styles."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import geopandas
import numpy as np
import pyogrio

from minemap.export.common import EMPTY_GEOMETRY_TYPE, _ogr_error, _temp_dir
from minemap.export.frames import _for_ogr
from minemap.export.projection import Projection
from minemap.export.qgis import _write_layer_styles, style_for


def _write_gpkg(path: Path, prepared: dict[str, tuple[geopandas.GeoDataFrame, np.ndarray]],
                projection: Projection | None = None) -> None:
    """Every layer into one new GeoPackage, then its QGIS default styles.

    With a `projection`, the layers are in its CRS and each layer's
    metadata (``gpkg_metadata``, which GDAL and QGIS show) and description
    name the datum transformation used.
    """
    with _temp_dir(path.parent) as tmpdir:
        tmp = tmpdir / path.name
        styles = []
        for name, (frame, geoms) in prepared.items():
            crs = projection.crs if projection else "EPSG:4326"
            df = _for_ogr(frame, geoms, drop_raw=False, crs=crs)
            kwargs: dict[str, Any] = {}
            if len(df) == 0:
                kwargs["geometry_type"] = EMPTY_GEOMETRY_TYPE[name]
            if projection is not None:
                kwargs["layer_metadata"] = projection.metadata()
                kwargs["layer_options"] = {"DESCRIPTION": projection.note()}
            try:
                pyogrio.write_dataframe(df, tmp, layer=name, driver="GPKG", **kwargs)
            except OSError:
                raise
            except Exception as exc:  # pyogrio raises several error types
                raise _ogr_error(path.name, name, exc) from exc
            qml, attr = style_for(name, frame.columns)
            styles.append((name, qml, attr))
        _write_layer_styles(tmp, styles)
        os.replace(tmp, path)
