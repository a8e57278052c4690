"""Command-level benchmark (issue 14): minemap as a user runs it, against the analyst's script.

Generates N fields, R releases and a week of W new releases deterministically
(the synthetic data of ``bench_crossref.py``), then runs, each in a fresh
process, exactly as a user would type them:

1. ``analyst.py fields.gpkg releases.gpkg`` (pyogrio, ``overlay``,
   ``dissolve``, geodesic areas): the baseline and the reference figures;
2. ``minemap --version`` and ``minemap --help`` (median of 5);
3. ``minemap import-records fields.gpkg --handover bench``;
4. cold: ``minemap import-clearance releases.gpkg`` then ``minemap crossref -o
   cold.csv``, checked field by field against the analyst's figures;
5. ``minemap crossref -o again.csv`` (the materialised table, once more);
6. warm: ``minemap import-clearance week.gpkg`` then ``minemap crossref -o
   week.csv``, against re-running the analyst's script on everything (and
   checked against it).

Each run is timed by wall clock, with its CPU time (user + system, children
included) and its peak memory: the largest resident set of any one process
(``/usr/bin/time``) and the peak of the summed PSS of the process and its children
(sampled every 50 ms), which counts forked workers' shared pages once.

Usage::

    .venv/bin/python benchmarks/bench_commands.py                  # 50k fields, 150k releases
    .venv/bin/python benchmarks/bench_commands.py --fields 10000   # 3N releases by default
    .venv/bin/python benchmarks/bench_commands.py --fields 100000 --releases 300000
    .venv/bin/python benchmarks/bench_commands.py --fields 20000 --profile prof/

``--profile DIR`` then profiles (cProfile in CPU time, on one core so that the
crossref engine runs in the profiled process) the cold ``import-clearance``
and the warm batch, writes ``DIR/*.prof`` and prints where the time goes;
``--keep WORK --profile DIR --profile-only`` profiles again what a run with
``--keep WORK`` left.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

#: Relative tolerance of the field-by-field check against the analyst (the issue's).
RTOL = 1e-6
#: Absolute floor (hectares, 0.1 cm²) for figures that are zero on one side.
ATOL_HA = 1e-9
#: The figures compared field by field.
FIGURES = ("area_ha", "released_ha", "cleared_ha")


@dataclass
class Run:
    """One command, as a user ran it."""

    what: str
    wall_s: float
    cpu_s: float
    max_rss_mb: float
    peak_pss_mb: float
    returncode: int
    stderr_lines: int


def _env() -> dict[str, str]:
    # The checkout under test, not whatever copy of minemap is installed.
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    # An installed package has its bytecode compiled (pip does it); a
    # sandbox that sets PYTHONDONTWRITEBYTECODE would make every command
    # compile minemap's ~190 modules from source at start-up (0.1-0.2 s).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _compile_package() -> None:
    """Byte-compile the checkout once, as installing it would."""
    import compileall

    compileall.compile_dir(str(ROOT / "minemap"), quiet=1)


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(x) for x in fh.read().split()]
        except OSError:
            pass
    return out


def run(what: str, cmd: list[str], log: Path, *, prefix: list[str] | None = None) -> Run:
    """Run ``cmd`` in a fresh process; its wall, CPU and peak memory."""
    peak = [0]
    rss = log.with_suffix(".rss")
    with open(log, "w") as err, open(log.with_suffix(".out"), "w") as out:
        t = time.perf_counter()
        # /usr/bin/time reports the command's own peak RSS; wait4's would
        # include this benchmark's, inherited across the fork before exec.
        timer = ["/usr/bin/time", "-f", "%M", "-o", str(rss)] if Path("/usr/bin/time").exists() else []
        proc = subprocess.Popen([*timer, *(prefix or []), *cmd], stdout=out, stderr=err,
                                env=_env(), cwd=ROOT)
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], sum(_pss_kb(p) for p in _tree(proc.pid)))
                stop.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        stop.set()
        sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = len(log.read_text(errors="replace").splitlines())
    max_rss_kb = int(rss.read_text().split()[-1]) if rss.exists() else usage.ru_maxrss
    r = Run(what, wall, usage.ru_utime + usage.ru_stime, max_rss_kb / 1024,
            peak[0] / 1024, proc.returncode, lines)
    if r.returncode != 0:
        raise SystemExit(f"{what} failed ({r.returncode}); see {log}:\n"
                         + log.read_text(errors="replace")[-2000:])
    print(f"  {what}: {wall:.2f} s wall, {r.cpu_s:.2f} s CPU, {r.peak_pss_mb:.0f} MB PSS,"
          f" {r.max_rss_mb:.0f} MB max RSS, {lines} stderr lines", flush=True)
    return r


def generate(tmp: Path, n_fields: int, n_releases: int, n_week: int) -> dict[str, int]:
    """Write fields.gpkg, releases.gpkg and week.gpkg (deterministic); their counts."""
    import pyogrio
    import shapely
    from bench_crossref import make_data

    from minemap import settings

    aoi = shapely.box(*settings.aoi)
    # The generator's clusters spill a little past the area of interest,
    # which the import (rightly) refuses.
    fields, releases, _ = (frame[frame.within(aoi)].reset_index(drop=True)
                           for frame in make_data(n_fields, n_releases, 0))
    _, week, _ = make_data(n_fields, max(n_releases, 3 * n_week), 0, seed=99)
    week = week[week.within(aoi)]
    pick = np.random.default_rng(1).choice(len(week), min(n_week, len(week)), replace=False)
    week = week.iloc[np.sort(pick)].copy()
    week["report_id"] = [f"W{i:05d}" for i in range(len(week))]
    week["date_start"] = week["date_end"] = "2025-01-06"
    f = fields.drop(columns=["handover", "flags"]).assign(mines_ap=fields.mines_total,
                                                           mines_at=0)
    pyogrio.write_dataframe(f, tmp / "fields.gpkg", driver="GPKG")
    pyogrio.write_dataframe(releases, tmp / "releases.gpkg", driver="GPKG")
    pyogrio.write_dataframe(week, tmp / "week.gpkg", driver="GPKG")
    return {"fields": len(fields), "releases": len(releases), "week": len(week)}


def _full_precision(store: Path, out: Path) -> Path:
    """The store's crossref at full precision (``crossref -o`` rounds for people, §12)."""
    from minemap.materialised import stored_crossref

    table = stored_crossref(store)
    if table is None:
        raise SystemExit(f"{store}: the materialised crossref is not current")
    table.to_csv(out, index=False, float_format="%.17g")
    return out


def compare(ours_csv: Path, analyst_csv: Path) -> dict:
    """Field-by-field check of minemap's figures against the analyst's."""
    ours = pd.read_csv(ours_csv, dtype={"record_id": str}).set_index("record_id")
    theirs = pd.read_csv(analyst_csv, dtype={"record_id": str}).set_index("record_id")
    out: dict = {"fields": len(theirs), "missing": int((~theirs.index.isin(ours.index)).sum())}
    ours = ours.reindex(theirs.index)
    bad = np.zeros(len(theirs), dtype=bool)
    for c in FIGURES:
        a, b = ours[c].to_numpy(float), theirs[c].to_numpy(float)
        diff = np.abs(a - b)
        ok = diff <= np.maximum(RTOL * np.abs(b), ATOL_HA)
        bad |= ~ok
        rel = np.divide(diff, np.abs(b), out=np.where(diff > 0, np.inf, 0.0), where=b != 0)
        out[c] = {"max_abs_ha": float(np.nanmax(diff)), "max_rel": float(np.nanmax(rel)),
                  "p99_rel": float(np.nanquantile(rel, 0.99)), "fields_off": int((~ok).sum()),
                  "fields_off_1e-5": int((diff > np.maximum(1e-5 * np.abs(b), ATOL_HA)).sum())}
    out["fields_off"] = int(bad.sum())
    out["worst"] = [
        {"record_id": rid, **{c: [float(ours.at[rid, c]), float(theirs.at[rid, c])]
                              for c in FIGURES}}
        for rid in theirs.index[bad][:5]]
    return out


def _median_of(what: str, cmd: list[str], logs: Path, n: int = 5) -> Run:
    runs = [run(what, cmd, logs / f"{what.replace(' ', '_')}_{i}.log") for i in range(n)]
    return min(runs, key=lambda r: abs(r.wall_s - statistics.median(x.wall_s for x in runs)))


# cProfile's default clock is the wall clock, which on a shared machine charges
# other processes' time to whatever function was running; CPU time does not.
_PROFILED = """
import cProfile, runpy, sys, time
out, sys.argv = sys.argv[1], ["minemap", *sys.argv[2:]]
prof = cProfile.Profile(time.process_time)
prof.enable()
try:
    runpy.run_module("minemap", run_name="__main__", alter_sys=True)
except SystemExit:
    pass
finally:
    prof.disable()
    prof.dump_stats(out)
"""


# Stage timers without a profiler's per-call overhead (which inflates per-row
# Python several times over): a few functions of the pipeline are wrapped,
# everywhere they are bound, with CPU and wall timers.  The times nest:
# refresh_crossref includes crossref_minefields, read_layer and write_crossref.
_STAGED = """
import functools, json, sys, time, runpy
import minemap.cli.main, minemap.imports, minemap.store.gpkg, minemap.crossref.refresh
import minemap.crossref.minefields, minemap.readers.gis, minemap.records.rules, minemap.export.csv
out, sys.argv = sys.argv[1], ["minemap", *sys.argv[2:]]
STAGES = {
    "read file (read_features: pyogrio, CRS)": ("minemap.readers.gis", "read_features"),
    "validate releases": ("minemap.records.rules", "releases"),
    "validate records": ("minemap.records.rules", "records"),
    "  overlap warnings": ("minemap.records.validate", "overlap_warnings"),
    "current hashes": ("minemap.store.gpkg:_Writer", "current_hashes"),
    "content hashes": ("minemap.store.layers", "content_hashes"),
    "diff layer": ("minemap.store.revisions", "diff_layer"),
    "write rows": ("minemap.store.gpkg:_Writer", "insert_rows"),
    "layer extents": ("minemap.store.gpkg_schema", "update_extent"),
    "crossref refresh": ("minemap.crossref.refresh", "refresh_crossref"),
    "  affected fields": ("minemap.crossref.minefields", "affected_fields"),
    "  crossref engine": ("minemap.crossref.minefields", "crossref_minefields"),
    "  read layers": ("minemap.store.gpkg:_View", "read_layer"),
    "  write crossref": ("minemap.store.gpkg:_Writer", "write_crossref"),
    "  remaining layer": ("minemap.crossref.refresh", "_remaining"),
    "  suspects layer": ("minemap.crossref.refresh", "_suspects"),
    "  write derived layers": ("minemap.store.gpkg:_Writer", "write_derived"),
    "read crossref": ("minemap.store.gpkg:_View", "read_crossref"),
    "write csv": ("minemap.export.csv", "write_table_csv"),
}
import resource
times = {k: [0.0, 0.0, 0, 0.0] for k in STAGES}
def _rss_mb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20
def timed(name, f):
    @functools.wraps(f)
    def wrapper(*a, **k):
        c, w = time.process_time(), time.perf_counter()
        try:
            return f(*a, **k)
        finally:
            times[name][0] += time.process_time() - c
            times[name][1] += time.perf_counter() - w
            times[name][2] += 1
            # Resident memory as the stage ends: what it left behind.
            times[name][3] = max(times[name][3], _rss_mb())
    return wrapper
import importlib
for name, (where, attr) in STAGES.items():
    mod, _, cls = where.partition(":")
    try:
        holder = getattr(importlib.import_module(mod), cls) if cls else importlib.import_module(mod)
    except ImportError:
        continue
    orig = getattr(holder, attr, None)
    if orig is None:
        continue
    new = timed(name, orig)
    setattr(holder, attr, new)
    for m in list(sys.modules.values()):  # names bound by "from x import f"
        if getattr(m, "__name__", "").startswith("minemap") and getattr(m, attr, None) is orig:
            setattr(m, attr, new)
c0, w0 = time.process_time(), time.perf_counter()
try:
    runpy.run_module("minemap", run_name="__main__", alter_sys=True)
except SystemExit:
    pass
finally:
    times["whole command (after start-up)"] = [
        time.process_time() - c0, time.perf_counter() - w0, 1,
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024]
    with open(out, "w") as fh:
        json.dump(times, fh)
"""


def stages(tmp: Path, logs: Path, outdir: Path) -> None:
    """CPU seconds per pipeline stage, on one core, for the same steps as :func:`profile`."""
    outdir.mkdir(parents=True, exist_ok=True)
    one_core = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    store = tmp / "stages_store.gpkg"
    for name, base, args in _steps(tmp):
        if base == "":
            store.unlink(missing_ok=True)
        elif base:
            shutil.copy(tmp / base, store)
        (tmp / "profile_week.csv").unlink(missing_ok=True)
        res = outdir / f"{name}.stages.json"
        r = run(f"stages {name}", [sys.executable, "-c", _STAGED, str(res), "--store",
                                   str(store), *args], logs / f"stages_{name}.log",
                prefix=one_core)
        times = json.loads(res.read_text())
        print(f"\n{name}: {r.cpu_s:.2f} s CPU in all, {r.wall_s:.2f} s wall (one core)")
        print("| stage | CPU s | share of the process's CPU | calls | RSS after, MB |")
        print("|---|---|---|---|---|")
        for stage, (cpu, _, calls, rss) in times.items():
            if calls:
                print(f"| {stage} | {cpu:.2f} | {100 * cpu / r.cpu_s:.0f} % | {calls} |"
                      f" {rss:.0f} |")
        rest = r.cpu_s - times["whole command (after start-up)"][0]
        print(f"| interpreter start-up and imports | {rest:.2f} | {100 * rest / r.cpu_s:.0f} % | |")


def _steps(tmp: Path) -> list[tuple[str, str | None, list[str]]]:
    return [("import_records", "", ["import-records", str(tmp / "fields.gpkg"),
                                     "--handover", "bench"]),
            ("cold_import_clearance", "store_records.gpkg",
             ["import-clearance", str(tmp / "releases.gpkg")]),
            ("warm_import_clearance", "store_cold.gpkg",
             ["import-clearance", str(tmp / "week.gpkg")]),
            ("warm_crossref_o", None, ["crossref", "-o", str(tmp / "profile_week.csv")])]


def profile(tmp: Path, logs: Path, outdir: Path) -> None:
    """cProfile (CPU time, one core) the cold import-clearance and the warm batch.

    On one core the crossref engine runs in the profiled process instead of
    forked workers, so its functions are in the profile.
    """
    outdir.mkdir(parents=True, exist_ok=True)
    one_core = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    store = tmp / "profile_store.gpkg"
    for name, base, args in _steps(tmp):
        if base == "":
            store.unlink(missing_ok=True)
        elif base:
            shutil.copy(tmp / base, store)
        (tmp / "profile_week.csv").unlink(missing_ok=True)
        prof = outdir / f"{name}.prof"
        run(f"profile {name}", [sys.executable, "-c", _PROFILED, str(prof), "--store",
                                str(store), *args], logs / f"profile_{name}.log", prefix=one_core)
        report_profile(prof)


def report_profile(prof: Path, top: int = 18) -> None:
    """Print the functions with the most own time, as shares of the whole run."""
    import pstats

    stats = pstats.Stats(str(prof))
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)  # type: ignore
    print(f"\n{prof.name}: {total:.2f} s profiled (one core); own time / cumulative time")
    print("| function | own s | own % | cum s |")
    print("|---|---|---|---|")
    for (file, line, func), (_, _, tt, ct, _) in rows[:top]:
        short = file.replace(str(ROOT) + "/", "")
        if "site-packages/" in short:
            short = short.split("site-packages/")[1]
        print(f"| `{func}` ({short}:{line}) | {tt:.2f} | {100 * tt / total:.1f} | {ct:.2f} |")
    imports = sum(v[3] for k, v in stats.stats.items()  # type: ignore[attr-defined]
                  if k[2] == "_find_and_load" and "importlib._bootstrap" in k[0])
    print(f"\nimporting modules: {imports:.2f} s ({100 * imports / total:.0f} %)")
    # The minemap functions by cumulative time: which stage the time is under.
    ours = [kv for kv in stats.stats.items() if "/minemap/" in kv[0][0]]  # type: ignore
    ours.sort(key=lambda kv: kv[1][3], reverse=True)
    print("\n| minemap function (cumulative) | cum s | cum % |")
    print("|---|---|---|")
    for (file, line, func), (_, _, _, ct, _) in ours[:top]:
        short = file.split("/minemap/", 1)[1]
        print(f"| `{func}` (minemap/{short}:{line}) | {ct:.2f} | {100 * ct / total:.1f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fields", type=int, default=50_000)
    ap.add_argument("--releases", type=int, default=None, help="default: 3 × fields")
    ap.add_argument("--week", type=int, default=1000)
    ap.add_argument("--keep", type=Path, default=None, help="work here and keep the files")
    ap.add_argument("--profile", type=Path, default=None, metavar="DIR")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--profile-only", action="store_true",
                    help="only --profile, with the files a run with --keep DIR left there")
    ap.add_argument("--stages-only", action="store_true",
                    help="with --profile-only: only the stage timers, not cProfile")
    args = ap.parse_args()
    _compile_package()
    if args.profile_only:
        if not (args.keep and args.profile):
            ap.error("--profile-only needs --keep DIR and --profile DIR")
        stages(args.keep, args.keep / "logs", args.profile)
        if not args.stages_only:
            profile(args.keep, args.keep / "logs", args.profile)
        return
    n_rel = args.releases or 3 * args.fields
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        logs = tmp / "logs"
        logs.mkdir(exist_ok=True)
        t = time.perf_counter()
        counts = generate(tmp, args.fields, n_rel, args.week)
        print(f"generated {counts} in {time.perf_counter() - t:.0f} s; load average"
              f" {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
        results = bench(tmp, logs, counts)
        if args.profile:
            stages(tmp, logs, args.profile)
            profile(tmp, logs, args.profile)
        results["load_after"] = os.getloadavg()[0]
        if args.json:
            args.json.write_text(json.dumps(results, indent=1, default=lambda o: asdict(o) if isinstance(o, Run) else str(o)))
        print_table(results)


def bench(tmp: Path, logs: Path, counts: dict[str, int]) -> dict:
    """Every timed run of the module docstring, and the checks."""
    py, mm = sys.executable, [sys.executable, "-m", "minemap"]
    store = tmp / "store.gpkg"
    for p in tmp.glob("*.csv"):
        p.unlink()
    if store.exists():
        store.unlink()
    r: dict = {"counts": counts, "load_before": os.getloadavg()[0]}
    analyst = [py, str(HERE / "analyst.py"), str(tmp / "fields.gpkg")]
    r["analyst_cold"] = run("analyst (fields + releases)",
                            [*analyst, str(tmp / "releases.gpkg"), "-o", str(tmp / "a_cold.csv")],
                            logs / "analyst_cold.log")
    r["version"] = _median_of("minemap --version", [*mm, "--version"], logs)
    r["help"] = _median_of("minemap --help", [*mm, "--help"], logs)
    s = ["--store", str(store)]
    r["import_records"] = run("import-records", [*mm, *s, "import-records",
                                                 str(tmp / "fields.gpkg"), "--handover", "bench"],
                              logs / "import_records.log")
    shutil.copy(store, tmp / "store_records.gpkg")  # for --profile
    r["cold_import"] = run("cold import-clearance", [*mm, *s, "import-clearance",
                                                     str(tmp / "releases.gpkg")],
                           logs / "cold_import.log")
    r["cold_crossref"] = run("cold crossref -o", [*mm, *s, "crossref", "-o",
                                                  str(tmp / "cold.csv")], logs / "cold_crossref.log")
    shutil.copy(store, tmp / "store_cold.gpkg")
    r["check_cold"] = compare(_full_precision(store, tmp / "cold_full.csv"), tmp / "a_cold.csv")
    r["crossref_again"] = run("crossref -o (materialised)", [*mm, *s, "crossref", "-o",
                                                             str(tmp / "again.csv")],
                              logs / "crossref_again.log")
    r["warm_import"] = run("warm import-clearance (week)", [*mm, *s, "import-clearance",
                                                            str(tmp / "week.gpkg")],
                           logs / "warm_import.log")
    r["warm_crossref"] = run("warm crossref -o", [*mm, *s, "crossref", "-o",
                                                  str(tmp / "week.csv")], logs / "warm_crossref.log")
    r["analyst_all"] = run("analyst (fields + releases + week)",
                           [*analyst, str(tmp / "releases.gpkg"), str(tmp / "week.gpkg"), "-o",
                            str(tmp / "a_all.csv")], logs / "analyst_all.log")
    r["check_warm"] = compare(_full_precision(store, tmp / "week_full.csv"), tmp / "a_all.csv")
    return r


def print_table(r: dict) -> None:
    """The issue's target table, measured."""
    c = r["counts"]
    cold = r["cold_import"].wall_s + r["cold_crossref"].wall_s
    warm = r["warm_import"].wall_s + r["warm_crossref"].wall_s
    a_cold, a_all = r["analyst_cold"].wall_s, r["analyst_all"].wall_s
    runs = [v for v in r.values() if isinstance(v, Run)]
    # minemap's own commands: the analyst's script is the baseline, not a target.
    peak = max((x for x in runs if not x.what.startswith("analyst")),
               key=lambda x: x.peak_pss_mb)
    ir = r["import_records"]
    crossref_o = min(r["cold_crossref"].wall_s, r["crossref_again"].wall_s)
    big = c["fields"] >= 95_000 and c["releases"] >= 285_000

    def ok(flag: bool) -> str:
        return "✅" if flag else "❌"

    print(f"\n{c['fields']:,} fields, {c['releases']:,} releases, a week of {c['week']:,};"
          f" load average {r['load_before']:.1f} before, {r['load_after']:.1f} after (2 cores)")
    print("\n| what | target | measured | |")
    print("|---|---|---|---|")
    # On a loaded machine the wall times say more about the load than about
    # the commands; the CPU ratio is printed beside them.
    cold_cpu = r["cold_import"].cpu_s + r["cold_crossref"].cpu_s
    warm_cpu = r["warm_import"].cpu_s + r["warm_crossref"].cpu_s
    print(f"| cold: `import-clearance` {c['releases']:,} releases + `crossref -o` on"
          f" {c['fields']:,} fields | ≥ 3× faster than the analyst's script |"
          f" {r['cold_import'].wall_s:.1f} + {r['cold_crossref'].wall_s:.2f} = {cold:.1f} s vs"
          f" {a_cold:.1f} s: **{a_cold / cold:.2f}×** (CPU: {cold_cpu:.1f} s vs"
          f" {r['analyst_cold'].cpu_s:.1f} s, {r['analyst_cold'].cpu_s / cold_cpu:.2f}×) |"
          f" {ok(a_cold / cold >= 3)} |")
    print(f"| warm: {c['week']:,}-release week `import-clearance` + `crossref -o` | ≥ 20× faster"
          f" than re-running the analyst's script on everything | {r['warm_import'].wall_s:.2f}"
          f" + {r['warm_crossref'].wall_s:.2f} = {warm:.2f} s vs {a_all:.1f} s:"
          f" **{a_all / warm:.1f}×** (CPU: {warm_cpu:.1f} s vs {r['analyst_all'].cpu_s:.1f} s,"
          f" {r['analyst_all'].cpu_s / warm_cpu:.1f}×) | {ok(a_all / warm >= 20)} |")
    print(f"| `crossref -o out.csv` from the materialised table, {c['fields']:,} rows | ≤ 1 s |"
          f" **{crossref_o:.2f} s** | {ok(crossref_o <= 1)} |")
    print(f"| `import-records` of {c['fields']:,} fields | ≤ 6 s, ≤ 1 GB peak |"
          f" **{ir.wall_s:.1f} s**, {ir.peak_pss_mb:.0f} MB | {ok(ir.wall_s <= 6 and ir.peak_pss_mb <= 1024)} |")
    v, h = r["version"].wall_s, r["help"].wall_s
    print(f"| `minemap --version`, `minemap --help` | ≤ 0.3 s | **{v:.2f} s, {h:.2f} s** |"
          f" {ok(max(v, h) <= 0.3)} |")
    print(f"| peak memory at {c['fields']:,} × {c['releases']:,} | ≤ 1.5 GB at 100k × 300k |"
          f" **{peak.peak_pss_mb:.0f} MB** ({peak.what}) |"
          f" {ok(peak.peak_pss_mb <= 1536) if big else '(not at that size)'} |")
    print("\n| run | wall s | CPU s | peak PSS MB | max RSS MB | stderr lines |")
    print("|---|---|---|---|---|---|")
    for x in runs:
        print(f"| {x.what} | {x.wall_s:.2f} | {x.cpu_s:.2f} | {x.peak_pss_mb:.0f} |"
              f" {x.max_rss_mb:.0f} | {x.stderr_lines} |")
    for key in ("check_cold", "check_warm"):
        chk = r[key]
        verdict = ("every field equal" if chk["fields_off"] == 0 and not chk["missing"]
                   else f"{chk['fields_off']:,} fields differ, {chk['missing']} missing")
        print(f"\n{key}: {chk['fields']:,} fields, {verdict} (rtol {RTOL:g}, atol {ATOL_HA:g} ha)")
        for f in FIGURES:
            print(f"  {f}: max |Δ| {chk[f]['max_abs_ha']:.3g} ha, max relative"
                  f" {chk[f]['max_rel']:.3g} (99th percentile {chk[f]['p99_rel']:.3g}),"
                  f" {chk[f]['fields_off']:,} off at {RTOL:g}, {chk[f]['fields_off_1e-5']:,}"
                  " off at 1e-5")
        for w in chk["worst"]:
            print(f"  e.g. {w}")


if __name__ == "__main__":
    main()
