"""The documentation stays current: the CLI reference and the doctests in docs/*.md."""

from __future__ import annotations

import doctest
import importlib.util
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from minemap.cli.main import COMMANDS, cli

ROOT = Path(__file__).resolve().parents[1]
CLI_MD = ROOT / "docs" / "cli.md"


def _generator():
    spec = importlib.util.spec_from_file_location("make_cli_docs", ROOT / "tools" / "make_cli_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sections(text: str) -> dict[str, str]:
    """``## <title>`` → the contents of the first ```text block under it."""
    out = {}
    for m in re.finditer(r"^## (.+?)\n\n```text\n(.*?)\n```$", text, flags=re.M | re.S):
        out[m.group(1)] = m.group(2)
    return out


def test_cli_md_is_current():
    assert CLI_MD.read_text(encoding="utf-8") == _generator().render(), (
        "docs/cli.md is stale: run `python tools/make_cli_docs.py > docs/cli.md`"
    )


def test_cli_md_is_deterministic_whatever_the_terminal(monkeypatch):
    gen = _generator()
    first = gen.render()
    monkeypatch.setenv("COLUMNS", "40")
    assert gen.render() == first
    monkeypatch.delenv("COLUMNS")
    assert gen.render() == first


def test_every_command_has_its_help_in_cli_md():
    """Each block equals what ``minemap <command> --help`` prints at the page's width."""
    sections = _sections(CLI_MD.read_text(encoding="utf-8"))
    assert list(sections) == ["minemap", *(f"minemap {name}" for name in COMMANDS)]
    runner = CliRunner()
    width = _generator().WIDTH
    for title, block in sections.items():
        args = title.split()[1:] + ["--help"]
        result = runner.invoke(cli, args, prog_name="minemap", terminal_width=width)
        assert result.exit_code == 0, (title, result.output)
        assert block == result.output.rstrip("\n"), title


def _markdown_with_examples() -> list[Path]:
    paths = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
    return [p for p in paths if p.exists() and ">>>" in p.read_text(encoding="utf-8")]


def test_design_md_has_examples():
    assert ROOT / "docs" / "design.md" in _markdown_with_examples()


@pytest.mark.parametrize("path", _markdown_with_examples(), ids=lambda p: p.name)
def test_markdown_doctests(path: Path, monkeypatch):
    # Examples are written for a reader in the checkout (``sample_maps/…``);
    # they keep what they write in temporary directories.
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("MINEMAP_STORE", raising=False)
    failures, tried = doctest.testfile(
        str(path), module_relative=False, verbose=False, report=True,
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
    )
    assert tried > 0
    assert failures == 0, f"{failures} of {tried} examples in {path.name} failed"
