"""Frames typed for OGR writers (GeoPackage, Shapefile, KML attribute types)."""

from __future__ import annotations

from typing import Any

import geopandas
import numpy as np
import pandas as pd

from minemap.export.common import (
    COUNT_COLUMNS,
    _attribute_columns,
    _column_values,
    _iso_datetimes,
    _text,
)


def _for_ogr(frame: geopandas.GeoDataFrame, geoms: np.ndarray, *,
             drop_raw: bool, crs: Any = "EPSG:4326") -> geopandas.GeoDataFrame:
    """A copy typed for OGR: ISO date strings, integral counts as Int64, text objects."""
    cols = _attribute_columns(frame, drop_raw=drop_raw)
    data: dict[str, Any] = {}
    for c in cols:
        s = frame[c]
        kind = s.dtype.kind
        if isinstance(s.dtype, pd.DatetimeTZDtype) or kind == "M":
            data[c] = pd.array(_iso_datetimes(s), dtype="str")
        elif pd.api.types.is_float_dtype(s.dtype) and c in COUNT_COLUMNS:
            a = s.to_numpy(dtype="float64", na_value=np.nan)
            ok = np.isfinite(a)
            if (np.floor(a[ok]) == a[ok]).all():
                data[c] = pd.array(np.where(ok, a, 0).astype("int64"), dtype="Int64")
                data[c][~ok] = pd.NA
            else:
                data[c] = s.to_numpy()
        elif pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
            data[c] = s.to_numpy() if s.dtype.kind in "biuf" else s.array
        elif isinstance(s.dtype, pd.StringDtype):
            data[c] = s.array
        elif pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
            data[c] = pd.array(s.to_numpy(dtype=object), dtype="str")
        else:
            vals = _column_values(s, c)
            kinds = {type(v) for v in vals if v is not None}
            if kinds <= {bool}:
                data[c] = pd.array(vals, dtype="boolean")
            elif kinds <= {int}:
                data[c] = pd.array(vals, dtype="Int64")
            elif kinds <= {int, float}:
                data[c] = pd.array(vals, dtype="Float64").to_numpy(dtype="float64",
                                                                  na_value=np.nan)
            else:
                data[c] = pd.array([None if v is None else _text(v) for v in vals],
                                   dtype="str")
    out = geopandas.GeoDataFrame(data, geometry=geopandas.GeoSeries(geoms, crs=crs), crs=crs)
    return out
