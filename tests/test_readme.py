"""The README's Python examples run as written (from the repository root)."""

from __future__ import annotations

import doctest
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_examples():
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = doctest.testfile(str(ROOT / "README.md"), module_relative=False,
                                  optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    finally:
        os.chdir(cwd)
    assert result.attempted >= 5
    assert result.failed == 0


def _tour_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("## A five-minute tour (CLI)", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    lines, current = [], ""
    for raw in block.splitlines():
        line = raw.split("  #", 1)[0].rstrip()
        current += line.rstrip("\\").strip() + " " if line.endswith("\\") else line.strip()
        if not line.endswith("\\"):
            if current.strip():
                lines.append(current.strip())
            current = ""
    return lines


def test_readme_cli_tour_runs(tmp_path, monkeypatch):
    """Every command of the README's tour, as written, against the sample maps."""
    import glob
    import shlex

    from click.testing import CliRunner

    from minemap.cli.main import cli

    (tmp_path / "sample_maps").symlink_to(ROOT / "sample_maps")
    monkeypatch.chdir(tmp_path)
    env = {}
    runner = CliRunner()
    ran = 0
    for line in _tour_commands():
        words = shlex.split(line)
        if words[0] == "export":
            key, value = words[1].split("=", 1)
            env[key] = value
            continue
        if words[0] == "source":
            continue
        assert words[0] == "minemap", line
        args = [m for w in words[1:] for m in (sorted(glob.glob(w)) if "*" in w else [w])]
        result = runner.invoke(cli, args, env=env)
        assert result.exit_code == 0, (line, result.output)
        ran += 1
    assert ran >= 10
    assert (tmp_path / "tour.gpkg").exists() and (tmp_path / "map.html").exists()


def test_readme_traverse_csv_example_imports(tmp_path):
    """The README's traverse CSV example reads as one valid record."""
    import minemap

    text = (ROOT / "README.md").read_text()
    block = text.split("```csv", 1)[1].split("```", 1)[0].strip() + "\n"
    path = tmp_path / "example.csv"
    path.write_text(block)
    rs = minemap.read_records([path], handover="h")
    assert not rs.errors, rs.errors
    assert list(rs.minefields.record_id) == ["AGD-0142"]
    assert list(rs.rows.mines) == [40]
