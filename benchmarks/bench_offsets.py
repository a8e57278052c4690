"""Benchmark of ``offsets`` (DESIGN §13): one handover of 1,000 fields, 5,000 finds.

Synthetic: star-shaped fields (8-14 vertices, 60-200 m across) scattered
over about 25 × 25 km near Aghdam, recorded 130 m off their true place;
5,000 AP finds, 80 % inside the true fields and 20 % scattered around them
(finds of unmapped fields).  The target is under 5 s for the estimate with
its bootstrap confidence and the accuracy before and after.

Usage::

    .venv/bin/python benchmarks/bench_offsets.py [--fields 1000] [--finds 5000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from minemap.crossref.offsets import estimate_offsets  # noqa: E402

UTM = Transformer.from_crs("EPSG:32638", "EPSG:4326", always_xy=True)


def _ll(geoms):
    return shapely.transform(geoms, lambda xy: np.column_stack(UTM.transform(*xy.T)))


def make_data(n_fields: int, n_finds: int, shift=(-120.0, 50.0), seed: int = 0):
    rng = np.random.default_rng(seed)
    cx = rng.uniform(630_000, 655_000, n_fields)
    cy = rng.uniform(4_415_000, 4_440_000, n_fields)
    fields = []
    for x, y in zip(cx, cy):
        k = rng.integers(8, 15)
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        r = rng.uniform(30, 100) * rng.uniform(0.6, 1.0, k)
        fields.append(shapely.Polygon(np.column_stack([x + r * np.cos(ang), y + r * np.sin(ang)])))
    fields = np.array(fields, dtype=object)
    n_in = int(n_finds * 0.8)
    owner = rng.integers(0, n_fields, n_in)
    b = shapely.bounds(fields[owner])
    pts = []
    for i, (x0, y0, x1, y1) in enumerate(b):
        while True:
            p = shapely.Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
            if fields[owner[i]].contains(p):
                pts.append(p)
                break
    near = rng.integers(0, n_fields, n_finds - n_in)
    pts += list(shapely.points(np.column_stack([cx[near], cy[near]])
                               + rng.uniform(-400, 400, (len(near), 2))))
    recorded = shapely.transform(fields, lambda xy: xy - np.array(shift))
    f = gpd.GeoDataFrame({"record_id": [f"F{i}" for i in range(n_fields)], "handover": "H",
                          "district": "Aghdam", "mines_total": 10},
                         geometry=_ll(recorded), crs="EPSG:4326")
    i = gpd.GeoDataFrame({"item_id": [f"i{k}" for k in range(len(pts))], "item_type": "AP",
                          "date": "2022-01-01"}, geometry=_ll(np.array(pts, dtype=object)),
                         crs="EPSG:4326")
    return f, i


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fields", type=int, default=1000)
    ap.add_argument("--finds", type=int, default=5000)
    args = ap.parse_args()
    fields, items = make_data(args.fields, args.finds)
    t0 = time.perf_counter()
    table, _ = estimate_offsets(fields, items)
    dt = time.perf_counter() - t0
    row = table.iloc[0]
    print(f"offsets: {args.fields} fields, {args.finds} finds: {dt:.2f} s "
          f"(target < 5 s); dx {row.dx_m:.1f} m, dy {row.dy_m:.1f} m, ci95 {row.ci95_m:.1f} m, "
          f"accuracy {row.accuracy_pct_before:.1f} % → {row.accuracy_pct_after:.1f} %")


if __name__ == "__main__":
    main()
