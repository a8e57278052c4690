"""The warm path of issue 4, through the store and the real commands.

Builds a store with N fields, 3N releases and N/2 items (the synthetic data of
``bench_crossref.py``), then times what a weekly update costs:

1. ``minemap import-clearance week.gpkg`` with 1,000 new releases (the import
   refreshes the materialised crossref for the fields they touch), and
2. ``minemap crossref`` (reads the materialised table and prints the summary),

against the baseline an analyst would script for the same answer
(``overlay`` → ``dissolve`` → areas, on all fields and releases).

Run by hand: ``.venv/bin/python benchmarks/bench_store.py [--fields N]``.
Target: the warm pair at least 10× faster than the baseline.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

import minemap

sys.path.insert(0, str(Path(__file__).parent))
from bench_crossref import baseline_released, make_data  # noqa: E402


def _run(args: list[str], store: Path) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "minemap", "--store", str(store), "-q",
                    *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fields", type=int, default=100_000)
    n = ap.parse_args().fields
    aoi = shapely.box(*minemap.settings.aoi)
    # The generator's clusters spill a little past the area of interest,
    # which the import (rightly) refuses.
    fields, releases, items = (frame[frame.within(aoi)].reset_index(drop=True)
                               for frame in make_data(n, 3 * n, n // 2))
    _, week, _ = make_data(n, 3 * n, 0, seed=99)
    week = week[week.within(aoi)]
    week = week.iloc[np.random.default_rng(1).choice(len(week), 1000, replace=False)].copy()
    week["report_id"] = [f"W{i:05d}" for i in range(len(week))]
    week["date_start"] = week["date_end"] = "2025-01-06"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        store = tmp / "store.gpkg"
        f = fields.drop(columns=["handover", "flags"]).assign(mines_ap=fields.mines_total,
                                                               mines_at=0)
        f.to_file(tmp / "fields.gpkg", driver="GPKG")
        releases.to_file(tmp / "releases.gpkg", driver="GPKG")
        items.to_file(tmp / "items.gpkg", driver="GPKG")
        week.to_file(tmp / "week.gpkg", driver="GPKG")
        cold_records = _run(["import-records", str(tmp / "fields.gpkg"), "--handover", "bench"],
                            store)
        cold_clearance = _run(["import-clearance", str(tmp / "releases.gpkg"),
                               str(tmp / "items.gpkg")], store)
        t = time.perf_counter()
        baseline_released(fields, releases)
        baseline = time.perf_counter() - t
        warm_import = _run(["import-clearance", str(tmp / "week.gpkg")], store)
        warm_crossref = _run(["crossref"], store)
    warm = warm_import + warm_crossref
    print(f"fields {n}, releases {len(releases)}, items {len(items)}")
    print(f"cold: import-records {cold_records:.1f} s, import-clearance (with the full"
          f" materialised crossref) {cold_clearance:.1f} s")
    print(f"baseline overlay + dissolve + areas: {baseline:.1f} s")
    print(f"warm: import-clearance of 1,000 releases {warm_import:.2f} s + minemap crossref"
          f" {warm_crossref:.2f} s = {warm:.2f} s; {baseline / warm:.1f}x less than the baseline")


if __name__ == "__main__":
    main()
