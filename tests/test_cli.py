"""The command group: every command registered, global options, exit codes."""

from __future__ import annotations

import importlib

from minemap.cli.main import COMMANDS, cli

# DESIGN §5, typed out independently of minemap.cli.main.
DESIGN_COMMANDS = {
    "import-records", "import-clearance", "import-report", "import-districts",
    "import-incidents", "reports", "crossref", "map", "export", "history", "info", "validate",
    "demo", "sheet",
}


def test_every_design_command_is_registered(runner):
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in DESIGN_COMMANDS:
        assert name in result.output
        assert cli.get_command(None, name) is not None
    assert set(COMMANDS) == DESIGN_COMMANDS


def test_one_module_per_command():
    for name, module in COMMANDS.items():
        mod = importlib.import_module(f"minemap.cli.{module}")
        assert mod.command.name == name


def test_usage_error_exits_2(runner):
    result = runner.invoke(cli, ["import-records", "nope.geojson", "--handover", "h"])
    assert result.exit_code == 2


def test_missing_handover_is_usage_error(runner, tmp_path):
    from tests.conftest import fields_file

    f = fields_file(tmp_path / "f.geojson")
    result = runner.invoke(cli, ["--store", str(tmp_path / "s.gpkg"), "import-records", str(f)])
    assert result.exit_code == 2
    assert not (tmp_path / "s.gpkg").exists()


def test_global_options_present(runner):
    out = runner.invoke(cli, ["--help"]).output
    for opt in ("--store", "--debug", "--verbose", "--quiet"):
        assert opt in out
