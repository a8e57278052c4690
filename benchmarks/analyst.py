"""The analyst's script: what a GIS analyst writes to get each field's released hectares.

It is the baseline of ``bench_commands.py`` and, being independent of minemap
(no minemap import at all), also the reference its figures are checked
against:

1. read the fields and the release polygons with pyogrio (only the columns
   needed),
2. ``geopandas.overlay(fields, releases, how="intersection")``,
3. ``dissolve`` the pieces per field (all outcomes for *released*, outcome
   ``cleared`` only for *cleared*), so that overlapping releases are not
   counted twice,
4. geodesic areas on the WGS84 ellipsoid (``pyproj.Geod``), in hectares.

Usage::

    python benchmarks/analyst.py FIELDS RELEASES... -o OUT.csv

``OUT.csv`` has ``record_id, area_ha, released_ha, cleared_ha``, one row per
field.
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import Geod

_GEOD = Geod(ellps="WGS84")


def geodesic_ha(geoms) -> np.ndarray:
    """Geodesic area of each lon/lat geometry, in hectares."""
    return np.array([abs(_GEOD.geometry_area_perimeter(g)[0]) / 1e4 for g in geoms])


def per_field(pieces: gpd.GeoDataFrame) -> pd.Series:
    """Hectares of the union of each field's pieces."""
    if pieces.empty:
        return pd.Series(dtype=float)
    merged = pieces[["record_id", "geometry"]].dissolve(by="record_id")
    return pd.Series(geodesic_ha(merged.geometry.values), index=merged.index)


def run(fields_path: str, release_paths: list[str]) -> tuple[pd.DataFrame, dict[str, float]]:
    """The per-field table, and the seconds each step took."""
    times: dict[str, float] = {}
    t = time.perf_counter()
    fields = pyogrio.read_dataframe(fields_path, columns=["record_id"])
    releases = pd.concat([pyogrio.read_dataframe(p, columns=["outcome"])
                          for p in release_paths], ignore_index=True)
    releases = gpd.GeoDataFrame(releases, geometry="geometry", crs=fields.crs)
    times["read"] = time.perf_counter() - t
    t = time.perf_counter()
    pieces = gpd.overlay(fields, releases, how="intersection", keep_geom_type=True)
    times["overlay"] = time.perf_counter() - t
    t = time.perf_counter()
    released = per_field(pieces)
    cleared = per_field(pieces[pieces["outcome"] == "cleared"])
    times["dissolve_and_areas"] = time.perf_counter() - t
    t = time.perf_counter()
    out = pd.DataFrame({"record_id": fields["record_id"].to_numpy(),
                        "area_ha": geodesic_ha(fields.geometry.values)})
    out["released_ha"] = out["record_id"].map(released).fillna(0.0).to_numpy()
    out["cleared_ha"] = out["record_id"].map(cleared).fillna(0.0).to_numpy()
    times["field_areas"] = time.perf_counter() - t
    return out, times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("fields")
    ap.add_argument("releases", nargs="+")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()
    out, times = run(args.fields, args.releases)
    # repr precision: the benchmark compares to 1e-6 relative.
    out.to_csv(args.output, index=False, float_format="%.17g")
    print(" ".join(f"{k}={v:.2f}s" for k, v in times.items()))


if __name__ == "__main__":
    main()
