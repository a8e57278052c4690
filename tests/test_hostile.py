"""Hostile input (issue 15): each case is refused, or read, within stated limits.

Every case runs the real command in a fresh subprocess (``python -c``), with
its address space capped so that a regression fails the test instead of the
machine, and reports its own wall time and peak RSS.  The limits are those
of ``docs/reliability.md``; ``benchmarks/bench_hostile.py`` prints the same
cases' figures.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minemap import Store, import_clearance
from minemap.readers import provenance
from tests.conftest import feature, rect, write_geojson

ROOT = Path(__file__).resolve().parents[1]

#: Whatever the input, no case may use more than this (the process's
#: baseline, with geopandas, pyproj and GDAL loaded, is about 250 MB).
PEAK_RSS_MB = 700
#: Generous for a loaded 2-core machine; each case takes about a second alone.
WALL_S = 90

_CHILD = r"""
import json, resource, sys, time
limit = int(sys.argv[1]) * 1024 * 1024
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from click.testing import CliRunner
from minemap import settings
from minemap.cli.main import cli
for k, v in json.loads(sys.argv[2]).items():
    setattr(settings, k, v)
t0 = time.perf_counter()
r = CliRunner().invoke(cli, sys.argv[3:])
wall = time.perf_counter() - t0
print(json.dumps({"rc": r.exit_code, "out": r.output, "wall": wall,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_case(args: list[str], *, settings_: dict | None = None, env: dict | None = None,
             as_limit_mb: int = 3000) -> dict:
    """Run ``minemap ARGS`` in a subprocess; its exit code, output, wall time, peak RSS."""
    import os

    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(as_limit_mb), json.dumps(settings_ or {}),
         *map(str, args)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def one_error_line(result: dict) -> str:
    lines = [ln for ln in result["out"].splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1, result["out"]
    assert "Traceback" not in result["out"]
    return lines[0]


def within_limits(result: dict) -> None:
    assert result["wall"] < WALL_S, result
    assert result["rss_mb"] < PEAK_RSS_MB, result


# -- the cases ------------------------------------------------------------------------

def alias_bomb(path: Path) -> Path:
    """711 bytes that expand to 10^9 strings: nested aliases of the 'billion laughs' kind."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]")
    lines.append("record_id: *a8")
    path.write_text("\n".join(lines) + "\n")
    return path


def legs_alias(path: Path) -> Path:
    """Aliases reused as the legs of many records."""
    text = ("- &r {record_id: A, mines: {ap: 1}, angle_unit: deg, north: grid,\n"
            "   reference_point: {lat: 39.9, lon: 46.9},\n"
            "   legs: &l [{bearing: 0, distance_m: 10}, {bearing: 90, distance_m: 10},"
            " {bearing: 180, distance_m: 10}, {bearing: 270, distance_m: 10}]}\n")
    text += "".join(f"- {{record_id: B{i}, legs: *l}}\n" for i in range(20))
    path.write_text(text)
    return path


def wide_csv(path: Path, n: int = 1_000_000) -> Path:
    path.write_text(",".join(f"c{i}" for i in range(n)) + "\n" + ",".join("1" * n) + "\n")
    return path


def kmz_bomb(path: Path, mb: int = 40) -> Path:
    """A KMZ whose document expands far past the (lowered) cap, under the ratio check."""
    head = (b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            b"<description>")
    pad = b" " * (1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("doc.kml", "w", force_zip64=True) as fh:
            fh.write(head)
            for _ in range(mb):
                fh.write(pad)
            fh.write(b"</description></Document></kml>")
    return path


def deep_kml(path: Path, depth: int = 100_000) -> Path:
    path.write_text('<kml xmlns="http://www.opengis.net/kml/2.2">' + "<Folder>" * depth
                    + "</Folder>" * depth + "</kml>")
    return path


def deep_geojson(path: Path, depth: int = 100_000) -> Path:
    props = '{"a":' + "[" * depth + "]" * depth + "}"
    path.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
                    + props + ',"geometry":{"type":"Point","coordinates":[46.9,39.9]}}]}')
    return path


def big_polygon(path: Path, n: int = 60_000) -> Path:
    ring = [[46.9 + 1e-6 * i, 39.9 + (1e-6 if i % 2 else 0)] for i in range(n)]
    ring.append(ring[0])
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"record_id": "A", "mines_ap": 1},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}))
    return path


CASES = {
    "yaml_alias_bomb": (alias_bomb, "bomb.yaml", ["import-records", "--handover", "h"], {}, {},
                        "Error: bomb.yaml: YAML anchors and aliases (&/*) are not allowed in"
                        " record files (the anchor at line 9 is used again); write the values"
                        " out"),
    "yaml_legs_alias": (legs_alias, "legs.yaml", ["import-records", "--handover", "h"], {}, {},
                        "Error: legs.yaml: YAML anchors and aliases (&/*) are not allowed in"
                        " record files (the anchor at line 3 is used again); write the values"
                        " out"),
    "csv_million_columns": (wide_csv, "wide.csv", ["import-records", "--handover", "h"], {},
                            {}, "Error: wide.csv: 1,000,000 columns is more than the 1,000 a"
                            " source may have (settings.max_columns)"),
    "kmz_past_the_cap": (kmz_bomb, "bomb.kmz", ["import-records", "--handover", "h"],
                         {"max_source_bytes": 16 * 1024**2}, {},
                         "Error: bomb.kmz: doc.kml expands to more than 16 MB"
                         " (settings.max_source_bytes); refused"),
    "kml_deep_nesting": (deep_kml, "deep.kml", ["import-records", "--handover", "h"], {}, {},
                         "Error: deep.kml: elements nested more than 100 deep"
                         " (settings.max_xml_depth); not a KML minemap reads"),
    "geojson_deep_nesting": (deep_geojson, "deep.geojson", ["import-incidents"], {}, {},
                             "Error: deep.geojson: JSON nested too deeply to read"),
    "geojson_too_complex": (big_polygon, "big.geojson", ["import-records", "--handover", "h"],
                            {}, {"OGR_GEOJSON_MAX_OBJ_SIZE": "1"},
                            "Error: big.geojson: a GeoJSON object is too large for GDAL's"
                            " reader (OGR_GEOJSON_MAX_OBJ_SIZE, 200 MB by default); split"
                            " the feature, or raise that GDAL option"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_case(tmp_path, case):
    make, filename, args, settings_, env, message = CASES[case]
    src = make(tmp_path / filename)
    store = tmp_path / "s.gpkg"
    result = run_case(["--store", store, args[0], src, *args[1:]], settings_=settings_,
                      env=env)
    assert result["rc"] == 1, result
    assert one_error_line(result) == message
    within_limits(result)
    assert not store.exists()


# -- provenance: the hash is that of the bytes parsed ------------------------------------


def _releases(path: Path, outcome: str) -> Path:
    return write_geojson(path, [feature({"report_id": "R-1", "date": "2022-05-01",
                                         "outcome": outcome}, rect(0, 0, 100, 100))])


def test_file_swapped_while_read_is_refused(tmp_path, monkeypatch, store_path):
    """GDAL reads GeoJSON itself: hashed before and after, refused when they differ."""
    path = _releases(tmp_path / "r.geojson", "cleared")
    v2 = _releases(tmp_path / "v2.geojson", "reduced").read_bytes()

    def swap(p):
        if p == path:
            path.write_bytes(v2)

    monkeypatch.setattr(provenance, "_after_read", swap)
    from minemap import DataError

    with pytest.raises(DataError, match="r.geojson: the file changed while it was being read;"
                       " nothing was imported"):
        import_clearance([path], store=store_path)
    assert not store_path.exists() or Store(store_path).latest_revision() == 0
    monkeypatch.undo()
    import_clearance([path], store=store_path)          # version 2, now stable
    assert Store(store_path).read("releases").outcome.tolist() == ["reduced"]


def test_bytes_hashed_are_the_bytes_parsed(tmp_path, monkeypatch, store_path, cli):
    """CSV is read once: the store holds version 1's rows under version 1's hash."""
    rows = "report_id,date,outcome,wkt\nR-1,2022-05-01,{o},\"{w}\"\n"
    path = tmp_path / "r.csv"
    v1 = rows.format(o="cleared", w=rect(0, 0, 100, 100).wkt).encode()
    v2 = rows.format(o="reduced", w=rect(0, 0, 100, 100).wkt).encode()
    path.write_bytes(v1)
    monkeypatch.setattr(provenance, "_after_read", lambda p: p.write_bytes(v2))
    import_clearance([path], store=store_path)
    monkeypatch.undo()
    st = Store(store_path)
    assert st.read("releases").outcome.tolist() == ["cleared"]
    hist = json.loads(cli("history", "--json").output)
    assert hist[-1]["sha256"] == [hashlib.sha256(v1).hexdigest()]
    # Version 2 is then a real revision, never a no-op.
    import_clearance([path], store=store_path)
    assert Store(store_path).read("releases").outcome.tolist() == ["reduced"]
    assert Store(store_path).latest_revision() == 2


# -- readers take time linear in their input ----------------------------------------------

_TEXT = st.text(st.characters(whitelist_categories=("Lu", "Ll", "Nd")), min_size=1,
                max_size=12)


def _cpu(fn) -> float:
    best = float("inf")
    for _ in range(2):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def _linear(small, large, factor: int) -> None:
    # Process time, not wall time: the machine is shared.  Linear means the
    # large input costs about `factor` times the small one; quadratic would
    # cost factor² (16×); the slack absorbs noise and fixed costs.
    t1, t2 = _cpu(small), _cpu(large)
    assert t2 < 2.5 * factor * t1 + 0.3, (t1, t2)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT, st.integers(0, 999))
def test_yaml_reader_time_is_linear(rid, ap):
    from minemap.readers.safe_yaml import compose, convert

    rec = (f"- {{record_id: '{rid}', mines: {{ap: {ap}}}, angle_unit: deg, north: grid,"
           " reference_point: {lat: 39.9, lon: 46.9}, legs: [{bearing: 0, distance_m: 10},"
           " {bearing: 90, distance_m: 10}, {bearing: 180, distance_m: 10}]}\n")

    def read(n):
        return lambda: [convert(d) for d in compose(rec * n)]

    _linear(read(500), read(2000), 4)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT, st.integers(0, 999), st.sampled_from([",", ";"]))
def test_csv_reader_time_is_linear(rid, ap, sep):
    from minemap.readers.spreadsheet_csv import read_csv_text

    head = sep.join(["record_id", "mines_ap", "lon", "lat"]) + "\n"
    row = sep.join([rid, str(ap), "46,93" if sep == ";" else "46.93", "39.98"]) + "\n"

    def read(n):
        data = (head + row * n).encode()
        return lambda: read_csv_text(data, "x.csv")

    _linear(read(5000), read(20000), 4)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT, st.integers(0, 999))
def test_kml_reader_time_is_linear(name, ap):
    from minemap.readers.kml import read_kml_bytes

    pm = (f"<Placemark><name>{name}</name><ExtendedData><Data name='mines_ap'><value>{ap}"
          "</value></Data></ExtendedData><Polygon><outerBoundaryIs><LinearRing><coordinates>"
          "46.9,39.9 46.91,39.9 46.91,39.91 46.9,39.9</coordinates></LinearRing>"
          "</outerBoundaryIs></Polygon></Placemark>")

    def read(n):
        data = ('<kml xmlns="http://www.opengis.net/kml/2.2"><Document>' + pm * n
                + "</Document></kml>").encode()
        return lambda: read_kml_bytes(data, "x.kml", polygons_only=True)

    _linear(read(500), read(2000), 4)


def test_kmz_is_decompressed_in_chunks_under_the_cap():
    """The cap counts bytes as they are decompressed, not what the archive declares."""
    from minemap import DataError
    from minemap import settings as mm_settings
    from minemap.readers.kml import kmz_document

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("doc.kml", b"<kml>" + b" " * (3 * 1024 * 1024) + b"</kml>")
    old = mm_settings.max_source_bytes
    try:
        mm_settings.max_source_bytes = 1024 * 1024
        with pytest.raises(DataError, match="expands to more than 1 MB"):
            kmz_document(buf.getvalue(), "x.kmz")
    finally:
        mm_settings.max_source_bytes = old
