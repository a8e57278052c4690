"""Benchmark of the crossref engine against the overlay + dissolve baseline.

Synthetic national-scale data in the Karabakh area of interest: star-shaped
field polygons (8-14 vertices) in clusters, release polygons that overlap
each other, spill outside fields and sometimes contain them, and item points
inside and outside fields.  Every figure is measured in a fresh subprocess so
that timings are cold and peak memory is per run.

Usage::

    .venv/bin/python benchmarks/bench_crossref.py            # full: 10k/30k/100k
    .venv/bin/python benchmarks/bench_crossref.py --quick    # 10k only
    .venv/bin/python benchmarks/bench_crossref.py --phase engine --fields 30000
    .venv/bin/python benchmarks/bench_crossref.py --phase engine --fields 20000 \
        --jobs 1 --profile 25                                   # one core, cProfile

Phases (each one subprocess): ``engine`` (cold ``crossref_minefields``),
``baseline`` (``geopandas.overlay(..., how="intersection")`` → ``dissolve`` →
areas, and the released_ha comparison with the engine), ``incremental``
(1,000 new releases → ``affected_fields`` → ``crossref_minefields(only=…)``).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import subprocess
import sys
import threading
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.affinity

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from minemap.crossref import affected_fields, crossref_minefields  # noqa: E402
from minemap.geo.geometry import area_ha  # noqa: E402

LON0, LON1, LAT0, LAT1 = 45.6, 47.5, 38.9, 40.5
M_PER_DEG_LAT = 111_000.0


def _stars(rng, cx, cy, radius, elong, rot, nv):
    """Star-shaped (hence simple) polygons around lon/lat centres, sizes in metres."""
    n = len(cx)
    # One vertex per angular sector keeps the polygon star-shaped about its
    # centre, hence simple (valid).
    ang = (np.arange(nv)[None, :] + rng.uniform(0.1, 0.9, (n, nv))) * (2 * np.pi / nv)
    r = radius[:, None] * rng.uniform(0.75, 1.0, (n, nv))
    x = r * np.cos(ang) * elong[:, None]
    y = r * np.sin(ang)
    xr = x * np.cos(rot)[:, None] - y * np.sin(rot)[:, None]
    yr = x * np.sin(rot)[:, None] + y * np.cos(rot)[:, None]
    lon = cx[:, None] + xr / (M_PER_DEG_LAT * np.cos(np.radians(cy))[:, None])
    lat = cy[:, None] + yr / M_PER_DEG_LAT
    ring = np.stack([lon, lat], axis=-1)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    return shapely.polygons(ring)


def make_data(n_fields: int, n_releases: int, n_items: int, seed: int = 4):
    """Synthetic fields, releases and items (GeoDataFrames, EPSG:4326)."""
    rng = np.random.default_rng(seed)
    n_clusters = max(10, n_fields // 40)
    # The same density at every size: 100k fields fill the area of interest,
    # fewer fields a proportionally smaller part of it.
    side = min(1.0, np.sqrt(n_fields / 100_000))
    ccx = rng.uniform(LON0, LON0 + side * (LON1 - LON0), n_clusters)
    ccy = rng.uniform(LAT0, LAT0 + side * (LAT1 - LAT0), n_clusters)
    c = rng.integers(0, n_clusters, n_fields)
    fx = ccx[c] + rng.normal(0, 0.02, n_fields)
    fy = ccy[c] + rng.normal(0, 0.02, n_fields)
    fr = rng.uniform(60, 300, n_fields)
    fields_geom = _stars(
        rng, fx, fy, fr, rng.uniform(1, 3, n_fields), rng.uniform(0, np.pi, n_fields), 10
    )
    fields = gpd.GeoDataFrame(
        {
            "record_id": [f"F{i:06d}" for i in range(n_fields)],
            "handover": np.where(c % 3 == 0, "aghdam", np.where(c % 3 == 1, "fuzuli", "all")),
            "district": "Aghdam",
            "mines_total": rng.integers(5, 400, n_fields),
            "flags": "",
        },
        geometry=fields_geom,
        crs="EPSG:4326",
    )
    # 70 % of fields are worked on; each release sits near one of them.
    worked = rng.choice(n_fields, int(0.7 * n_fields), replace=False)
    t = worked[rng.integers(0, len(worked), n_releases)]
    big = rng.random(n_releases) < 0.15
    off = np.where(big, 0.2, 0.8) * fr[t]
    rx = fx[t] + rng.normal(0, 1, n_releases) * off / (M_PER_DEG_LAT * np.cos(np.radians(fy[t])))
    ry = fy[t] + rng.normal(0, 1, n_releases) * off / M_PER_DEG_LAT
    rr = fr[t] * np.where(big, rng.uniform(3.0, 4.0, n_releases), rng.uniform(0.3, 0.9, n_releases))
    rel_geom = _stars(
        rng, rx, ry, rr, rng.uniform(1, 2, n_releases), rng.uniform(0, np.pi, n_releases), 8
    )
    days = pd.to_datetime("2021-01-01") + pd.to_timedelta(rng.integers(0, 1400, n_releases), "D")
    has = rng.random(n_releases) < 0.2
    releases = gpd.GeoDataFrame(
        {
            "report_id": [f"R{i:07d}" for i in range(n_releases)],
            "date_start": days.strftime("%Y-%m-%d"),
            "date_end": days.strftime("%Y-%m-%d"),
            "outcome": rng.choice(["cleared", "reduced", "cancelled"], n_releases, p=[.6, .25, .15]),
            "district": "Aghdam",
            "found_ap": np.where(has, rng.integers(0, 20, n_releases), np.nan),
            "found_at": np.where(has, rng.integers(0, 5, n_releases), np.nan),
            "found_uxo": np.nan,
        },
        geometry=rel_geom,
        crs="EPSG:4326",
    )
    k = rng.integers(0, n_fields, n_items)
    d = fr[k] * rng.uniform(0, 2.0, n_items)
    a = rng.uniform(0, 2 * np.pi, n_items)
    ix = fx[k] + d * np.cos(a) / (M_PER_DEG_LAT * np.cos(np.radians(fy[k])))
    iy = fy[k] + d * np.sin(a) / M_PER_DEG_LAT
    idays = pd.to_datetime("2021-01-01") + pd.to_timedelta(rng.integers(0, 1400, n_items), "D")
    items = gpd.GeoDataFrame(
        {
            "item_id": [f"I{i:07d}" for i in range(n_items)],
            "item_type": rng.choice(["AP", "AT", "UXO"], n_items, p=[.5, .2, .3]),
            "date": idays.strftime("%Y-%m-%d"),
            "report_id": "",
        },
        geometry=shapely.points(ix, iy),
        crs="EPSG:4326",
    )
    return fields, releases, items


class PeakMemory:
    """Peak of the summed PSS (MB) of this process and its children, sampled."""

    def __init__(self, every: float = 0.05) -> None:
        self.every = every
        self.peak = 0.0
        self._stop = threading.Event()

    @staticmethod
    def _pss(pid: int) -> float:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        return int(line.split()[1]) / 1024.0
        except OSError:
            pass
        return 0.0

    @staticmethod
    def _children(pid: int) -> list[int]:
        out = []
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as fh:
                    out += [int(x) for x in fh.read().split()]
        except OSError:
            pass
        return out

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            pids = [me, *self._children(me)]
            self.peak = max(self.peak, sum(self._pss(p) for p in pids))
            self._stop.wait(self.every)

    def __enter__(self) -> PeakMemory:
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._t.join()


def _cpu() -> float:
    """CPU seconds of this process and its finished children (user + system)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _counts(n_fields: int) -> tuple[int, int, int]:
    return n_fields, 3 * n_fields, n_fields // 2


def baseline_released(
    fields: gpd.GeoDataFrame, releases: gpd.GeoDataFrame
) -> tuple[pd.Series, gpd.GeoDataFrame]:
    """What an analyst would script: overlay → dissolve → geodesic areas.

    Returns the released hectares per record_id and the overlay pieces.
    """
    pieces = gpd.overlay(
        fields[["record_id", "geometry"]], releases[["geometry"]], how="intersection",
        keep_geom_type=True,
    )
    merged = pieces.dissolve(by="record_id")
    return pd.Series(area_ha(merged.geometry.values), index=merged.index), pieces


def phase(name: str, n_fields: int, n_jobs: int | None, profile: int = 0) -> dict:
    fields, releases, items = make_data(*_counts(n_fields))
    out: dict = {"phase": name, "fields": n_fields, "releases": len(releases),
                 "items": len(items)}
    if name == "engine":
        profiler = cProfile.Profile(time.process_time) if profile else None
        with PeakMemory() as mem:
            t, c = time.perf_counter(), _cpu()
            if profiler is not None:
                profiler.enable()
            table = crossref_minefields(fields, releases, items, n_jobs=n_jobs)
            if profiler is not None:
                profiler.disable()
            out["seconds"] = time.perf_counter() - t
            out["cpu_seconds"] = _cpu() - c
        if profiler is not None:
            # Own CPU time per function, on stderr: stdout carries the JSON line.
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(profile)
        out["peak_mb"] = mem.peak
        out["status"] = table["status"].value_counts().to_dict()
    elif name == "baseline":
        with PeakMemory() as mem:
            t, c = time.perf_counter(), _cpu()
            base, pieces = baseline_released(fields, releases)
            out["seconds"] = time.perf_counter() - t
            out["cpu_seconds"] = _cpu() - c
        out["peak_mb"] = mem.peak
        table = crossref_minefields(fields, releases, items, n_jobs=n_jobs)
        ours = table.set_index("record_id")["released_ha"]
        theirs = base.reindex(ours.index).fillna(0.0)
        diff = (ours - theirs).abs()
        out["max_abs_diff_ha"] = float(diff.max())
        out["max_rel_diff"] = float((diff / table.set_index("record_id")["area_ha"]).max())
        out["fields_compared"] = len(ours)
        # What summing the clipped pieces instead of their union would report.
        summed = pd.Series(area_ha(pieces.geometry.values)).groupby(
            pieces["record_id"].to_numpy()).sum()
        worked = base[base > 0]
        out["summed_over_union_total"] = float(summed.reindex(worked.index).sum() / worked.sum())
        out["summed_over_union_p90"] = float((summed.reindex(worked.index) / worked).quantile(0.9))
    elif name == "incremental":
        rng = np.random.default_rng(99)
        new = releases.sample(1000, random_state=7).copy()
        # New releases near existing ones, with new ids.
        new["report_id"] = [f"N{i:05d}" for i in range(len(new))]
        dx, dy = rng.normal(0, 0.0005, len(new)), rng.normal(0, 0.0005, len(new))
        new["geometry"] = [
            shapely.affinity.translate(g, a, b) for g, a, b in zip(new.geometry.values, dx, dy)
        ]
        all_rel = pd.concat([releases, new], ignore_index=True)
        with PeakMemory() as mem:
            t, c = time.perf_counter(), _cpu()
            hit = affected_fields(fields, new.geometry.values)
            t_aff = time.perf_counter() - t
            part = crossref_minefields(fields, all_rel, items, only=hit, n_jobs=n_jobs)
            out["seconds"] = time.perf_counter() - t
            out["cpu_seconds"] = _cpu() - c
        out["affected_seconds"] = t_aff
        out["affected_fields"] = len(hit)
        out["peak_mb"] = mem.peak
        full = crossref_minefields(fields, all_rel, items, n_jobs=n_jobs).iloc[hit]
        out["max_abs_diff_vs_full_ha"] = float(
            (full["released_ha"].to_numpy() - part["released_ha"].to_numpy()).__abs__().max()
        )
        out["status_equal"] = bool((full["status"].to_numpy() == part["status"].to_numpy()).all())
    return out


def _sub(name: str, n_fields: int, n_jobs: int | None) -> dict:
    cmd = [sys.executable, __file__, "--phase", name, "--fields", str(n_fields)]
    if n_jobs:
        cmd += ["--jobs", str(n_jobs)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10k fields only")
    ap.add_argument("--phase", choices=["engine", "baseline", "incremental"])
    ap.add_argument("--fields", type=int, default=10_000)
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="with --phase engine: cProfile it, top N functions by own time "
                    "on stderr (use --jobs 1: workers are not profiled)")
    args = ap.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.fields, args.jobs, args.profile)))
        return
    sizes = [10_000] if args.quick else [10_000, 30_000, 100_000]
    results = []
    for n in sizes:
        for name in ("engine", "incremental") + (() if args.no_baseline else ("baseline",)):
            r = _sub(name, n, args.jobs)
            results.append(r)
            print(json.dumps(r), flush=True)
    print("\n| fields | releases | engine s | baseline s | speed-up | incremental s "
          "(affected) | engine peak MB | baseline peak MB | max |Δ released_ha| |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        e = next(r for r in results if r["fields"] == n and r["phase"] == "engine")
        i = next(r for r in results if r["fields"] == n and r["phase"] == "incremental")
        b = next((r for r in results if r["fields"] == n and r["phase"] == "baseline"), None)
        bs = f"{b['seconds']:.1f}" if b else "–"
        sp = f"{b['seconds'] / e['seconds']:.1f}×" if b else "–"
        bm = f"{b['peak_mb']:.0f}" if b else "–"
        dd = f"{b['max_abs_diff_ha']:.2e}" if b else "–"
        print(f"| {n:,} | {e['releases']:,} | {e['seconds']:.1f} | {bs} | {sp} | "
              f"{i['seconds']:.2f} ({i['affected_fields']:,}) | {e['peak_mb']:.0f} | {bm} | {dd} |")


if __name__ == "__main__":
    main()
