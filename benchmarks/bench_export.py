"""Benchmark: export 100,000 minefields to GeoJSON and GeoPackage.

Run ``.venv/bin/python benchmarks/bench_export.py [N]``.  Targets (issue 6):
GeoJSON ≤ 5 s and GeoPackage ≤ 3 s for 100,000 fields, including orientation
and precision.  A bare pyogrio write of the same frame is timed for reference.
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from minemap.records import schema

export = importlib.import_module("minemap.export")


def fields(n: int, *, seed: int = 0) -> gpd.GeoDataFrame:
    """`n` irregular 12-vertex fields (a few hectares each) in the Karabakh AOI."""
    rng = np.random.default_rng(seed)
    cx = rng.uniform(46.0, 47.4, n)
    cy = rng.uniform(39.0, 40.4, n)
    k = 12
    ang = np.sort(rng.uniform(0, 2 * np.pi, (n, k)), axis=1)
    r = rng.uniform(0.0005, 0.002, (n, k))
    # Clockwise rings, as many source files have them, so orientation does work.
    xs = cx[:, None] + r * np.cos(-ang)
    ys = cy[:, None] + r * np.sin(-ang)
    ring = np.stack([xs, ys], axis=-1)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    geoms = shapely.polygons(ring)
    geoms = shapely.make_valid(geoms)
    ap = rng.integers(0, 200, n)
    at = rng.integers(0, 50, n)
    data = {
        "record_id": [f"AGD-{i:06d}" for i in range(n)],
        "handover": "aghdam-2021-06-12",
        "district": "Aghdam",
        "mines_ap": ap,
        "mines_at": at,
        "mines_total": ap + at,
        "mine_types": "PMN-2;TM-62M",
        "laid_date": "1993-08-20",
        "reliability": "medium",
        "area_ha": rng.uniform(1, 40, n),
        "flags": "",
        "source_file": "aghdam.geojson",
        "source_crs": "EPSG:28408",
        "transformation": "Inverse of Gauss-Kruger zone 8 + Pulkovo 1942 to WGS 84 (20)",
        "raw": '{"id": "x", "mines": 12}',
        "misclosure_m": np.nan,
        "misclosure_ratio": np.nan,
        "declination_deg": np.nan,
        "status": rng.choice(schema.STATUSES, n),
    }
    return gpd.GeoDataFrame(data, geometry=geoms, crs="EPSG:4326")


def timed(fn) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one call (CPU time is less sensitive to a busy machine)."""
    t, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t, time.process_time() - c


def main(n: int = 100_000) -> dict[str, tuple[float, float]]:
    gdf = fields(n)
    out: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        out["geojson"] = timed(lambda: export.write({"minefields": gdf}, d / "f.geojson"))
        out["gpkg"] = timed(lambda: export.write({"minefields": gdf}, d / "f.gpkg"))
        out["geojsons"] = timed(lambda: export.write({"minefields": gdf}, d / "f.geojsons"))
        out["csv"] = timed(lambda: export.write({"minefields": gdf}, d / "f.csv"))
        out["zip"] = timed(lambda: export.write({"minefields": gdf}, d / "f.zip"))
        out["bare pyogrio geojson"] = timed(
            lambda: pyogrio.write_dataframe(gdf, d / "b.geojson", driver="GeoJSON"))
        out["bare pyogrio gpkg"] = timed(
            lambda: pyogrio.write_dataframe(gdf, d / "b.gpkg", driver="GPKG"))
    return out


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(f"{n:,} fields; load average before: {os.getloadavg()[0]:.2f}")
    for name, (wall, cpu) in main(n).items():
        print(f"{name:>22}: {wall:6.2f} s wall, {cpu:6.2f} s CPU")
