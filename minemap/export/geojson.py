"""GeoJSON (RFC 7946) and GeoJSON text sequences (RFC 8142)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import IO

import geopandas
import numpy as np
import shapely

from minemap.export.common import (
    _as_wgs84,
    _attribute_columns,
    _check_precision,
    _column_values,
    _ids,
)
from minemap.export.geometry import prepare_geometries

_CHUNK = 20_000


def to_geojson_dict(
    gdf: geopandas.GeoDataFrame,
    *,
    precision: int = 6,
    allow_coarse: bool = False,
    layer: str = "minefields",
) -> dict:
    """The RFC 7946 FeatureCollection of a frame, as written by :func:`write`.

    Parameters
    ----------
    gdf
        Frame in EPSG:4326 (other CRSs are transformed).
    precision
        Decimal places; below 5 refused unless `allow_coarse`.
    allow_coarse
        Accept a precision below 5 decimals.
    layer
        Layer name, used only to name records in error messages.

    Returns
    -------
    dict
        ``{"type": "FeatureCollection", "features": [...]}`` with no ``crs``
        member, polygons oriented RFC 7946 style, counts as integers and
        missing values as ``None``.
    """
    precision, _ = _check_precision(precision, allow_coarse=allow_coarse)
    frame = _as_wgs84(gdf, "<geojson>", layer)
    geoms, _ = prepare_geometries(frame.geometry.values, precision=precision,
                                  ids=_ids(frame, layer), file="<geojson>", layer=layer)
    buf = io.StringIO()
    _write_geojson(buf, frame, geoms, layer)
    return json.loads(buf.getvalue())


def _feature_chunks(frame: geopandas.GeoDataFrame, geoms: np.ndarray,
                    layer: str) -> Iterator[list[str]]:
    """Serialized features (no separators), in chunks to bound memory."""
    cols = _attribute_columns(frame, drop_raw=False)
    n = len(frame)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if n else np.zeros(0, bool)
    dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False,
                             separators=(",", ":")).encode
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        part = frame.iloc[start:stop]
        values = [_column_values(part[c], c) for c in cols]
        gj = np.full(stop - start, "null", dtype=object)
        mask = present[start:stop]
        if mask.any():
            gj[mask] = shapely.to_geojson(geoms[start:stop][mask])
        rows = zip(*values) if cols else ((),) * (stop - start)
        chunk = []
        for row, g in zip(rows, gj):
            props = dumps(dict(zip(cols, row)))
            chunk.append(f'{{"type":"Feature","properties":{props},"geometry":{g}}}')
        yield chunk


def _write_geojson(fh: IO[str], frame: geopandas.GeoDataFrame, geoms: np.ndarray,
                   layer: str) -> None:
    fh.write('{"type":"FeatureCollection","features":[')
    first = True
    for chunk in _feature_chunks(frame, geoms, layer):
        fh.write(("\n" if first else ",\n") + ",\n".join(chunk))
        first = False
    fh.write("\n]}\n")


def _write_geojsonseq(fh: IO[str], frame: geopandas.GeoDataFrame, geoms: np.ndarray,
                      layer: str) -> None:
    # RFC 8142: each text is RS, the JSON text, then LF.
    for chunk in _feature_chunks(frame, geoms, layer):
        fh.write("".join(f"\x1e{feature}\n" for feature in chunk))
