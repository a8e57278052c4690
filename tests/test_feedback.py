"""Feedback on the terminal: summarised warnings, validate --all/--warnings-file, progress bars."""

from __future__ import annotations

import csv
import os
import pty
import select
import shlex
import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from minemap._errors import Problem, problem_kind
from tests.conftest import feature, rect, write_geojson

N_PAIRS = 27  # each pair overlaps by 95 %: one geocheck warning per pair


def _overlapping(path: Path, pairs: int = N_PAIRS) -> Path:
    """``pairs`` fields, each with a twin shifted 5 m east: 95 % overlap, one warning per pair.

    The pairs are 500 m apart, so no field overlaps any but its twin.
    """
    feats = []
    for i in range(pairs):
        x, y = 500.0 * (i % 10), 500.0 * (i // 10)
        for twin, dx in (("a", 0.0), ("b", 5.0)):
            feats.append(feature({"record_id": f"F{i:03d}{twin}", "mines_ap": 3},
                                 rect(x + dx, y, 100, 100)))
    return write_geojson(path, feats)


def _lines(text: str, start: str) -> list[str]:
    return [x for x in text.splitlines() if x.startswith(start)]


def test_import_prints_20_of_a_kind_then_the_count(tmp_path, cli):
    src = _overlapping(tmp_path / "twins.geojson")
    res = cli("import-records", src, "--handover", "h1", "--handover-date", "2021-06-12")
    assert res.exit_code == 0, res.output
    shown = [x for x in _lines(res.stderr, "warning:") if "overlaps record" in x]
    assert len(shown) == 20
    more = _lines(res.stderr, "…")
    assert more == [f"… and {N_PAIRS - 20} more overlap warnings; `minemap validate --handover h1"
                    f" --handover-date 2021-06-12 --all {src}` lists them all"]
    assert "revision 1: handover h1" in res.stdout


def test_the_named_validate_command_lists_them_all(tmp_path, cli):
    src = _overlapping(tmp_path / "twins.geojson")
    res = cli("import-records", src, "--handover", "h1")
    hint = _lines(res.stderr, "…")[0].split("`")[1]
    args = shlex.split(hint)
    assert args[:2] == ["minemap", "validate"]
    out = cli(*args[1:])
    assert out.exit_code == 0
    twins = sorted(x.split("record ")[1].split(":")[0] for x in _lines(out.stderr, "warning:")
                   if "overlaps record" in x)
    assert twins == [f"F{i:03d}a" for i in range(N_PAIRS)]
    assert not _lines(out.stderr, "…")


def test_quiet_import_prints_no_warning(tmp_path, cli):
    src = _overlapping(tmp_path / "twins.geojson")
    res = cli("-q", "import-records", src, "--handover", "h1")
    assert res.exit_code == 0
    assert res.stderr == ""


def test_verbose_import_prints_every_warning(tmp_path, cli):
    src = _overlapping(tmp_path / "twins.geojson")
    res = cli("-v", "import-records", src, "--handover", "h1", "--handover-date", "2021-06-12")
    assert len([x for x in _lines(res.stderr, "warning:") if "overlaps" in x]) == N_PAIRS


def test_validate_summarises_unless_all(tmp_path, cli):
    src = _overlapping(tmp_path / "twins.geojson")
    res = cli("validate", src)
    assert res.exit_code == 0
    assert len(_lines(res.stderr, "warning:")) == 20
    assert _lines(res.stderr, "…") == [
        f"… and {N_PAIRS - 20} more overlap warnings; `--all` lists them all"]
    res = cli("validate", "--all", src)
    assert len(_lines(res.stderr, "warning:")) == N_PAIRS
    assert not _lines(res.stderr, "…")


def test_validate_writes_every_warning_to_csv(tmp_path, cli):
    src = _overlapping(tmp_path / "twins.geojson")
    out = tmp_path / "warnings.csv"
    res = cli("validate", src, "--warnings-file", out)
    assert res.exit_code == 0
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["file", "record", "kind", "message"]
    assert sorted(r["record"] for r in rows) == [f"F{i:03d}a" for i in range(N_PAIRS)]
    assert {r["kind"] for r in rows} == {"overlap"}
    assert {r["file"] for r in rows} == {"twins.geojson"}
    for r in rows:
        assert r["message"].startswith(f"overlaps record {r['record'][:-1]}b by 95 %")
    # Like every output file: not replaced without --overwrite (checked before the work).
    again = cli("validate", src, "--warnings-file", out)
    assert again.exit_code == 2 and "--overwrite" in again.stderr
    assert cli("validate", src, "--warnings-file", out, "--overwrite").exit_code == 0


def test_validate_lists_every_error_even_past_20(tmp_path, cli):
    feats = [feature({"record_id": f"E{i:02d}", "mines_ap": -1}, rect(300.0 * i, 0, 50, 50))
             for i in range(25)]
    res = cli("validate", write_geojson(tmp_path / "bad.geojson", feats))
    assert res.exit_code == 1
    for i in range(25):
        assert f"record E{i:02d}" in res.stderr


def test_kinds_of_the_common_warnings():
    def kind(message: str) -> str:
        return problem_kind(Problem("f", "r", message, "warning"))

    assert kind("overlaps record X-2 by 97 % (geocheck)") == "overlap"
    assert kind("unknown district 'Agdamm'") == "unknown district"
    assert kind("laid_date 2031-01-01 is in the future") == "future date"
    assert kind("consecutive vertices 6.2 km apart (more than 5 km)") == "vertex gap"
    assert kind("unknown field 'colour' ignored (line 7)") == "ignored column"
    # Any other message: its kind leaves out what varies from record to record.
    assert kind("row 3: spacing 2.5 m 'x'") == kind("row 12: spacing 4 m 'yy'")


@given(st.integers(0, 10**9), st.integers(0, 10**9), st.text("abcXYZ-", max_size=8))
def test_messages_differing_only_in_values_share_a_kind(a, b, name):
    def kind(message: str) -> str:
        return problem_kind(Problem("f", None, message, "warning"))

    assert kind(f"ring {a} of '{name}' is odd") == kind(f"ring {b} of 'other' is odd")


# -- progress bars ----------------------------------------------------------------


def _run_on_a_terminal(args: list[str], cwd: Path) -> tuple[str, str]:
    """Run ``minemap ARGS`` with stderr on a pseudo-terminal; (stdout, terminal text)."""
    master, slave = pty.openpty()
    root = str(Path(__file__).resolve().parents[1])  # this checkout, not an installed copy
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm",
           "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen([sys.executable, "-m", "minemap", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            proc.kill()
            raise AssertionError("no output from the command within 60 s")
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the pty closes when the child exits
            break
        if not chunk:
            break
        seen += chunk
    out = proc.stdout.read().decode()
    proc.wait(timeout=60)
    os.close(master)
    return out, seen.decode(errors="replace")


def test_progress_on_a_terminal_and_not_with_q(tmp_path):
    from tests.conftest import fields_file

    src = fields_file(tmp_path / "f.geojson", 5)
    store = tmp_path / "s.gpkg"
    out, term = _run_on_a_terminal(["--store", str(store), "import-records", str(src),
                                    "--handover", "h", "--handover-date", "2021-06-12"],
                                   tmp_path)
    assert "revision 1" in out  # the result stays on stdout
    assert "importing" in term and "f.geojson" in term  # the bar, drawn on the terminal
    out, term = _run_on_a_terminal(["--store", str(store), "crossref", "-o",
                                    str(tmp_path / "x.csv")], tmp_path)
    assert "wrote 5 rows" in out
    assert "writing" in term
    out, term = _run_on_a_terminal(["-q", "--store", str(store), "crossref", "-o",
                                    str(tmp_path / "y.csv")], tmp_path)
    assert "wrote 5 rows" in out and term.strip() == ""


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path, cli):
    from tests.conftest import fields_file

    src = fields_file(tmp_path / "f.geojson", 5)
    res = cli("import-records", src, "--handover", "h", "--handover-date", "2021-06-12")
    # Only the column announcement (DESIGN §11), no progress bar.
    assert res.exit_code == 0
    assert [line for line in res.stderr.splitlines() if "←" not in line] == []
    res = cli("crossref", "-o", tmp_path / "x.csv")
    assert res.exit_code == 0 and res.stderr == ""


def test_clearance_hint_names_the_kind_and_lists_them_all(tmp_path, cli):
    # 23 releases in unknown districts: one warning each (a kind of its own).
    feats = [feature({"report_id": f"R{i:02d}", "date": "2022-03-01", "outcome": "cleared",
                      "district": "Atlantis"}, rect(300.0 * i, 0, 50, 50)) for i in range(23)]
    src = write_geojson(tmp_path / "rel.geojson", feats)
    res = cli("import-clearance", src)
    assert res.exit_code == 0, res.output
    assert len(_lines(res.stderr, "warning:")) == 20
    more = _lines(res.stderr, "…")
    assert more == [f"… and 3 more unknown district warnings; `minemap validate --kind clearance"
                    f" --all {src}` lists them all"]
    out = cli(*shlex.split(more[0].split("`")[1])[1:])
    assert out.exit_code == 0
    assert sorted(x.split("record ")[1].split(":")[0] for x in _lines(out.stderr, "warning:")) \
        == [f"R{i:02d}" for i in range(23)]
