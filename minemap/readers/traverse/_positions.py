"""Estimated mine positions along mine rows, for the map."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from minemap.readers.traverse._spec import GEOD


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
    az, _, length = GEOD.inv(x0, y0, x1, y1)
    length = np.asarray(length, dtype=float)
    spacing = sub["spacing_m"].to_numpy(dtype=float)
    fallback = np.where(counts > 1, length / np.maximum(counts - 1, 1), np.nan)
    spacing = np.where(np.isfinite(spacing), spacing, fallback)
    idx = np.repeat(np.arange(len(sub)), counts)
    n = np.concatenate([np.arange(c) for c in counts])
    along = np.where(np.isfinite(spacing[idx]), n * spacing[idx], length[idx] / 2)
    along = np.minimum(along, length[idx])
    lon, lat, _ = GEOD.fwd(x0[idx], y0[idx], np.asarray(az)[idx], along)
    out = pd.DataFrame({
        "record_id": sub["record_id"].to_numpy()[idx],
        "handover": sub["handover"].to_numpy()[idx],
        "row": sub["row"].to_numpy(dtype="int64")[idx],
        "n": n + 1,
        "mine_type": sub["mine_type"].to_numpy()[idx],
    })
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
