"""Import 100,000 minefields from GeoJSON and from GeoPackage.

Run by hand: ``.venv/bin/python benchmarks/bench_import.py [N]``.
Targets (issue 2): at most 10 s each and 2 GB peak RSS on 2 cores.
Prints one line per format; record the figures in docs/benchmarks.md.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

_CHILD = """
import sys, time, resource
import minemap
t = time.perf_counter()
res, rs = minemap.import_records([sys.argv[1]], handover="bench", store=sys.argv[2],
                                 layer=sys.argv[3] or None)
dt = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{dt:.2f} {rss:.0f} {len(res.added)}")
"""


def make_fields(n: int, seed: int = 42) -> gpd.GeoDataFrame:
    """n irregular 8-vertex fields, 50-300 m across, in UTM 38N around Aghdam."""
    rng = np.random.default_rng(seed)
    cols = int(np.ceil(np.sqrt(n)))
    ix, iy = np.arange(n) % cols, np.arange(n) // cols
    cx = 600_000 + ix * 250.0
    cy = 4_380_000 + iy * 250.0
    ang = np.sort(rng.uniform(0, 2 * np.pi, (n, 8)), axis=1)
    rad = rng.uniform(25, 100, (n, 8))
    xs = cx[:, None] + rad * np.cos(ang)
    ys = cy[:, None] + rad * np.sin(ang)
    t = Transformer.from_crs("EPSG:32638", "EPSG:4326", always_xy=True)
    utm = shapely.convex_hull(shapely.multipoints(np.stack([xs, ys], axis=2)))
    geoms = shapely.transform(utm, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
    return gpd.GeoDataFrame(
        {
            "record_id": [f"B-{i:06d}" for i in range(n)],
            "mines_ap": rng.integers(0, 300, n),
            "mines_at": rng.integers(0, 40, n),
            "district": "Agdam",
            "mine_types": "PMN-2;TM-62M",
        },
        geometry=geoms,
        crs="EPSG:4326",
    )


def main(n: int = 100_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        frame = make_fields(n)
        paths = {"geojson": Path(tmp) / "f.geojson", "gpkg": Path(tmp) / "f.gpkg"}
        frame.to_file(paths["geojson"], driver="GeoJSON")
        frame.to_file(paths["gpkg"], layer="fields", driver="GPKG")
        for fmt, path in paths.items():
            store = Path(tmp) / f"{fmt}.gpkg"
            out = subprocess.run(
                [sys.executable, "-c", _CHILD, str(path), str(store),
                 "fields" if fmt == "gpkg" else ""],
                capture_output=True, text=True, check=True,
            ).stdout.split()
            print(f"import {n} fields from {fmt}: {out[0]} s, peak RSS {out[1]} MB,"
                  f" {out[2]} added")
    _ = (time, resource)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
