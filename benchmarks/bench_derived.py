"""What the derived layers (remaining, suspects) add to the cold and warm imports.

Builds the data of ``bench_store.py`` (N fields, 3N releases, N/2 items), imports
it in-process and, for each import, prints its wall and CPU time and the
cumulative time (cProfile) of the refresh's parts: ``crossref_minefields``,
``_remaining``, ``_suspects`` and the writes.  Then times ``api.remaining``
read from the store against the same layer computed (``as_of`` far ahead).

Run by hand: ``.venv/bin/python benchmarks/bench_derived.py [N]`` (default 20000).
"""

import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

import minemap
from minemap import api

sys.path.insert(0, str(Path(__file__).parent))
from bench_crossref import make_data  # noqa: E402

#: The refresh's parts, timed by name.
FUNCS = ("refresh_crossref", "_remaining", "_suspects", "crossref_minefields", "write_derived",
         "write_crossref")


def run(label: str, fn) -> None:
    """Run ``fn`` once under cProfile; print wall, CPU and the parts' cumulative times."""
    prof = cProfile.Profile()
    t0, c0 = time.perf_counter(), time.process_time()
    prof.runcall(fn)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    cum: dict[str, float] = {}
    for (file, _line, name), stat in pstats.Stats(prof).stats.items():
        if name in FUNCS and ("crossref" in file or "store" in file):
            cum[name] = cum.get(name, 0.0) + stat[3]
    parts = ", ".join(f"{k} {v:.2f} s" for k, v in sorted(cum.items()))
    print(f"{label}: wall {wall:.1f} s, cpu {cpu:.1f} s; {parts}", flush=True)


def timed(label: str, fn) -> None:
    t = time.perf_counter()
    fn()
    print(f"{label} {time.perf_counter() - t:.2f} s", flush=True)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    aoi = shapely.box(*minemap.settings.aoi)
    fields, releases, items = (f[f.within(aoi)].reset_index(drop=True)
                               for f in make_data(n, 3 * n, n // 2))
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
        for frame, name in ((f, "fields"), (releases, "releases"), (items, "items"),
                            (week, "week")):
            frame.to_file(tmp / f"{name}.gpkg", driver="GPKG")
        run("cold import-records", lambda: minemap.import_records(
            [tmp / "fields.gpkg"], handover="bench", store=store))
        run("cold import-clearance", lambda: minemap.import_clearance(
            [tmp / "releases.gpkg", tmp / "items.gpkg"], store=store))
        run("warm import-clearance (1000 releases)", lambda: minemap.import_clearance(
            [tmp / "week.gpkg"], store=store))
        st = minemap.Store(store)
        print("stored remaining rows", len(st.read_derived("remaining").frame),
              "suspects", len(st.read_derived("suspects").frame))
        timed("api.remaining (stored)", lambda: api.remaining(store))
        timed("api.remaining (computed)", lambda: api.remaining(store, as_of="2100-01-01"))


if __name__ == "__main__":
    main()
