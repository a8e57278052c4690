"""The store's import and crossref times on PostGIS beside the GeoPackage's.

The data and steps of ``bench_store.py`` (N fields, 3N releases, N/2 items,
then a weekly batch of 1,000 releases), run through the real commands once
into a GeoPackage store and once into a PostGIS store, and ``copy-store``
of the result each way.  Without ``--url`` it starts a throwaway local
PostgreSQL + PostGIS cluster (``tests/pgcluster.py``, as the test suite does).

Run by hand: ``.venv/bin/python benchmarks/bench_postgis.py [--fields N] [--url URL]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

import minemap

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from bench_crossref import make_data  # noqa: E402


def _run(args: list[str], store: str) -> tuple[float, float]:
    """Run ``minemap --store STORE ARGS``: wall seconds and the client's CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "minemap", "--store", store, "-q", *args],
                   check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _steps(tmp: Path) -> dict[str, list[str]]:
    return {
        "import-records (cold)": ["import-records", str(tmp / "fields.gpkg"),
                                  "--handover", "bench"],
        "import-clearance (cold, full crossref)": [
            "import-clearance", str(tmp / "releases.gpkg"), str(tmp / "items.gpkg")],
        "import-clearance of 1,000 releases (warm)": ["import-clearance",
                                                      str(tmp / "week.gpkg")],
        "crossref (materialised)": ["crossref"],
        "crossref --by handover": ["crossref", "--by", "handover"],
        "export crossref to GeoPackage": ["export", "--layer", "crossref", "-o",
                                          str(tmp / "out.gpkg"), "--overwrite"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fields", type=int, default=10_000)
    ap.add_argument("--url", default=None, help="An empty PostGIS database (default: a"
                    " throwaway local cluster).")
    args = ap.parse_args()
    n = args.fields
    load = os.getloadavg()[0]
    aoi = shapely.box(*minemap.settings.aoi)
    fields, releases, items = (frame[frame.within(aoi)].reset_index(drop=True)
                               for frame in make_data(n, 3 * n, n // 2))
    _, week, _ = make_data(n, 3 * n, 0, seed=99)
    week = week[week.within(aoi)]
    week = week.iloc[np.random.default_rng(1).choice(len(week), 1000, replace=False)].copy()
    week["report_id"] = [f"W{i:05d}" for i in range(len(week))]
    week["date_start"] = week["date_end"] = "2025-01-06"
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        tmp = Path(tmp)
        f = fields.drop(columns=["handover", "flags"]).assign(mines_ap=fields.mines_total,
                                                               mines_at=0)
        f.to_file(tmp / "fields.gpkg", driver="GPKG")
        releases.to_file(tmp / "releases.gpkg", driver="GPKG")
        items.to_file(tmp / "items.gpkg", driver="GPKG")
        week.to_file(tmp / "week.gpkg", driver="GPKG")
        url = args.url
        copy_url = None
        if url is None:
            import psycopg

            from tests.pgcluster import cluster

            url = stack.enter_context(cluster("bench"))
            # A second empty PostGIS database, for the copy into PostGIS.
            with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
                conn.execute("CREATE DATABASE bench_copy TEMPLATE bench")
            copy_url = url.rsplit("/", 1)[0] + "/bench_copy"
        gpkg = str(tmp / "store.gpkg")
        # Step by step, one backend then the other, so that a change in the
        # machine's load falls on both alike.
        times: dict[str, dict[str, tuple[float, float]]] = {"GeoPackage": {}, "PostGIS": {}}
        for step, cmd in _steps(tmp).items():
            times["GeoPackage"][step] = _run(cmd, gpkg)
            times["PostGIS"][step] = _run(cmd, url)
        copies = {}
        if copy_url:
            copies["GeoPackage → PostGIS"] = _run(["copy-store", gpkg, copy_url], gpkg)
        copies["PostGIS → GeoPackage"] = _run(["copy-store", url, str(tmp / "copy.gpkg")], gpkg)
    print(f"fields {len(fields)}, releases {len(releases)}, items {len(items)};"
          f" load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    print("| step | GeoPackage wall (client CPU) | PostGIS wall (client CPU) |\n|---|---|---|")
    for step in times["GeoPackage"]:
        (gw, gc), (pw, pc) = times["GeoPackage"][step], times["PostGIS"][step]
        print(f"| {step} | {gw:.2f} s ({gc:.2f} s) | {pw:.2f} s ({pc:.2f} s) |")
    for what, (w, c) in copies.items():
        print(f"| copy-store {what} | {w:.2f} s ({c:.2f} s) | |")


if __name__ == "__main__":
    main()
