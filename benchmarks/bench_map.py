"""Benchmark of the interactive map: HTML size and time until the map is idle.

Synthetic fields (irregular 12-vertex polygons of 0.5-10 ha with every
crossref column) are spread over the default area of interest; each map is
rendered offline, saved, and opened from file:// in headless Chromium with
all network requests aborted.  "Idle" is when ``window.minemap.ready`` is
set (every layer built, after one animation frame) and the browser has
painted: the time is taken from the navigation start.

Usage::

    python benchmarks/bench_map.py [N ...]        # default 10000 50000

Targets (issue 5): 10,000 fields <= 6 MB and <= 3 s; 50,000 <= 25 MB and <= 10 s.
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from minemap import settings
from minemap.render.page import render_map, save_map

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def synthetic_fields(n: int, seed: int = 1) -> gpd.GeoDataFrame:
    """``n`` irregular polygons with the minefield and crossref columns."""
    rng = np.random.default_rng(seed)
    w, s, e, nn = settings.aoi
    lon = rng.uniform(w, e, n)
    lat = rng.uniform(s, nn, n)
    k = 12
    ang = np.sort(rng.uniform(0, 2 * math.pi, (n, k)), axis=1)
    radius_m = rng.uniform(40, 180, (n, 1)) * rng.uniform(0.7, 1.0, (n, k))
    x = lon[:, None] + radius_m * np.cos(ang) / (111_320 * np.cos(np.radians(lat[:, None])))
    y = lat[:, None] + radius_m * np.sin(ang) / 110_574
    rings = np.stack([x, y], axis=2)
    geoms = shapely.polygons(np.concatenate([rings, rings[:, :1]], axis=1))
    status = rng.choice(["not_started", "in_progress", "released"], n, p=[0.6, 0.25, 0.15])
    ap = rng.integers(0, 400, n)
    at = rng.integers(0, 60, n)
    pct = np.where(status == "released", 100.0, np.where(status == "in_progress",
                                                         rng.uniform(5, 95, n), 0.0))
    area = shapely.area(geoms) * 111_320 * 110_574 * np.cos(np.radians(lat)) / 1e4
    handovers = np.array(["aghdam-2021-06-12", "fuzuli-zangilan-2021-07-03", "remaining-2021-12-04"])
    districts = np.array(["Aghdam", "Fuzuli", "Zangilan", "Jabrayil", "Khojavand", "Tartar"])
    return gpd.GeoDataFrame({
        "record_id": [f"SYN-{i:06d}" for i in range(n)],
        "handover": handovers[rng.integers(0, 3, n)],
        "district": districts[rng.integers(0, 6, n)],
        "mines_ap": ap, "mines_at": at, "mines_total": ap + at,
        "mine_types": "PMN-2;TM-62M", "laid_date": "1993-08-20", "reliability": "medium",
        "area_ha": np.round(area, 4),
        "flags": np.where(rng.random(n) < 0.02, "self_intersecting", ""),
        "source_file": [f"handover_{i // 500:03d}.gpkg" for i in range(n)],
        "source_crs": "EPSG:28408",
        "transformation": "Inverse of Gauss-Kruger zone 8 + Pulkovo 1942 to WGS 84 (16)",
        "raw": "{}",
        "misclosure_m": np.nan, "misclosure_ratio": np.nan, "declination_deg": np.nan,
        "released_ha": np.round(area * pct / 100, 4), "released_pct": np.round(pct, 2),
        "cleared_ha": np.round(area * pct / 200, 4), "cleared_pct": np.round(pct / 2, 2),
        "found_mines": np.round((ap + at) * pct / 300),
        "remaining_est": np.where(status == "released", 0.0, np.round((ap + at) * (1 - pct / 100), 1)),
        "status": status,
        "last_release_date": np.where(status == "not_started", "", "2022-05-01"),
        "revision": 7,
    }, geometry=geoms, crs="EPSG:4326")


def measure(n: int, workdir: Path) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    fields = synthetic_fields(n)
    t0 = time.perf_counter()
    m = render_map(fields, offline=True, title=f"benchmark {n}")
    out = workdir / f"bench_{n}.html"
    warnings = save_map(m, out, overwrite=True)
    render_s = time.perf_counter() - t0
    size_mb = out.stat().st_size / 1e6
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        times = []
        for _ in range(3):
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:"))
                       else r.abort())
            errors: list[str] = []
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            page.goto(out.as_uri(), wait_until="commit")
            page.wait_for_function("window.minemap && window.minemap.ready", timeout=120_000,
                                   polling=50)
            # Two more frames: the canvas of every layer has been painted.
            idle_ms = page.evaluate("""() => new Promise(r => requestAnimationFrame(() =>
                requestAnimationFrame(() => r(performance.now()))))""")
            if errors:
                raise RuntimeError(f"page errors: {errors[:3]}")
            assert page.evaluate("minemap.fields.length") == n
            times.append(idle_ms / 1000)
            page.close()
        browser.close()
    return {"fields": n, "size_mb": size_mb, "render_s": render_s,
            "idle_s": float(np.median(times)), "idle_runs": times, "warnings": warnings}


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [10_000, 50_000]
    with tempfile.TemporaryDirectory(prefix="minemap-bench-") as tmp:
        for n in sizes:
            r = measure(n, Path(tmp))
            runs = ", ".join(f"{t:.2f}" for t in r["idle_runs"])
            print(f"{n:>6} fields: {r['size_mb']:.2f} MB, Python render+save {r['render_s']:.1f} s, "
                  f"browser idle {r['idle_s']:.2f} s (median of {runs})"
                  + (f"; warnings: {r['warnings']}" if r["warnings"] else ""))


if __name__ == "__main__":
    main(sys.argv[1:])
