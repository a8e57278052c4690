"""Benchmark: time and peak memory of every hostile-input case (issue 15).

Run by hand (not part of the test suite)::

    .venv/bin/python benchmarks/bench_hostile.py [--scale 1]

Each case runs ``minemap`` in a fresh subprocess, as ``tests/test_hostile.py`` does, and
prints its exit code, wall time, peak RSS and the one-line message.  Two large but valid
inputs (a KML of many Placemarks, a spreadsheet CSV of many rows; ``--scale`` multiplies
them) show how peak memory grows with the input, from which docs/reliability.md states the
bound at ``settings.max_source_bytes``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_hostile import CASES, run_case  # noqa: E402


def _big_kml(path: Path, n: int) -> Path:
    pm = ("<Placemark><name>F-{i}</name><ExtendedData><Data name='mines_ap'><value>3</value>"
          "</Data></ExtendedData><Polygon><outerBoundaryIs><LinearRing><coordinates>"
          "{x},39.90 {x2},39.90 {x2},39.9009 {x},39.9009 {x},39.90</coordinates></LinearRing>"
          "</outerBoundaryIs></Polygon></Placemark>\n")
    with open(path, "w") as fh:
        fh.write('<kml xmlns="http://www.opengis.net/kml/2.2"><Document>\n')
        for i in range(n):
            x = 46.0 + (i % 1000) * 0.0015
            y_off = (i // 1000) * 0.0015
            fh.write(pm.format(i=i, x=f"{x:.5f}", x2=f"{x + 0.001:.5f}").replace(
                "39.90", f"{39.90 + y_off:.5f}").replace("39.9009", f"{39.9009 + y_off:.5f}"))
        fh.write("</Document></kml>\n")
    return path


def _big_csv(path: Path, n: int) -> Path:
    with open(path, "w", encoding="utf-8-sig") as fh:
        fh.write("report_id;date;outcome;lon;lat;item_type\n")
        for i in range(n):
            fh.write(f"I-{i};2022-05-01;;{46 + (i % 1000) * 1e-3:.6f};"
                     f"{39.5 + (i // 1000) * 1e-3:.6f};AP\n".replace(".", ","))
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()
    print(f"{'case':24} {'exit':>4} {'wall s':>7} {'peak MB':>8} {'input MB':>8}  message")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for case in sorted(CASES):
            make, filename, cmd, settings_, env, _ = CASES[case]
            src = make(tmp / filename)
            r = run_case(["--store", tmp / f"{case}.gpkg", cmd[0], src, *cmd[1:]],
                         settings_=settings_, env=env)
            msg = next((ln for ln in r["out"].splitlines() if ln.startswith("Error:")), "")
            print(f"{case:24} {r['rc']:>4} {r['wall']:7.2f} {r['rss_mb']:8.0f}"
                  f" {src.stat().st_size / 1e6:8.1f}  {msg[:90]}")
        for label, build, n, cmd in (
            ("kml_valid_records", _big_kml, int(20_000 * args.scale),
             ["import-records", "--handover", "h"]),
            ("csv_valid_items", _big_csv, int(100_000 * args.scale), ["validate", "--kind",
                                                                      "clearance"]),
        ):
            src = build(tmp / f"{label}.{'kml' if 'kml' in label else 'csv'}", n)
            r = run_case(["--store", tmp / f"{label}.gpkg", cmd[0], src, *cmd[1:]],
                         as_limit_mb=6000)
            print(f"{label:24} {r['rc']:>4} {r['wall']:7.2f} {r['rss_mb']:8.0f}"
                  f" {src.stat().st_size / 1e6:8.1f}  {n:,} features")


if __name__ == "__main__":
    main()
