"""Start-up: ``--help`` and ``--version`` import no heavy library; every command is registered."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import subprocess
import sys

import click
import pytest

import minemap.cli
from minemap.cli.main import COMMANDS, SHORT_HELP, cli

# The libraries that make start-up slow (seconds, not milliseconds).
HEAVY = ("geopandas", "shapely", "pyproj", "folium", "fiona", "pyogrio", "pandas", "numpy",
         "rich", "yaml")

_PROBE = """
import json, sys
from minemap.cli.main import cli
try:
    cli.main(args=sys.argv[1:], prog_name="minemap", standalone_mode=True)
except SystemExit:
    pass
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(HEAVY_JSON)))
print("HEAVY=" + json.dumps(heavy), file=sys.stderr)
"""


def _imported(*args: str) -> tuple[list[str], str]:
    """The heavy libraries a fresh interpreter imports to run ``minemap ARGS``."""
    code = _PROBE.replace("HEAVY_JSON", repr(json.dumps(HEAVY)))
    res = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         timeout=60, check=False)
    line = [x for x in res.stderr.splitlines() if x.startswith("HEAVY=")]
    assert line, res.stderr
    return json.loads(line[-1][len("HEAVY="):]), res.stdout


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["-h"]])
def test_help_and_version_import_no_heavy_library(args):
    heavy, out = _imported(*args)
    assert heavy == []
    assert out  # it did print something


def test_help_lists_every_command_without_importing_any():
    heavy, out = _imported("--help")
    assert heavy == []
    for name in COMMANDS:
        assert name in out
    loaded = subprocess.run(
        [sys.executable, "-c", _PROBE.replace("HEAVY_JSON", repr(json.dumps(HEAVY)))
         + "print(json.dumps(sorted(m for m in sys.modules if m.startswith('minemap.cli.'))))",
         "--help"], capture_output=True, text=True, timeout=60, check=False).stdout
    modules = json.loads(loaded.splitlines()[-1])
    assert modules == ["minemap.cli.main"]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_command_help_imports_no_geopandas(name):
    heavy, out = _imported(name, "--help")
    assert "geopandas" not in heavy and "folium" not in heavy
    assert f"minemap {name}" in out


def test_every_command_module_is_registered():
    """The fio habit: a module in minemap/cli with a ``command`` is in COMMANDS, and back."""
    found = {}
    for info in pkgutil.iter_modules(minemap.cli.__path__):
        module = importlib.import_module(f"minemap.cli.{info.name}")
        command = getattr(module, "command", None)
        if isinstance(command, click.Command):
            found[command.name] = info.name
    assert found == COMMANDS


def test_short_help_is_each_commands_own():
    for name in COMMANDS:
        command = cli.get_command(None, name)
        assert name in SHORT_HELP, f"add {name!r} to minemap.cli.main.SHORT_HELP"
        first = inspect.cleandoc(command.help or "").split("\n\n")[0]
        assert " ".join(SHORT_HELP[name].split()) == " ".join(first.split()), name
        assert command.short_help is None  # else the stored text would be the wrong one


def test_lazy_command_list_equals_clicks_own():
    ctx = click.Context(cli, info_name="minemap", terminal_width=88, max_content_width=88)
    lazy, eager = ctx.make_formatter(), ctx.make_formatter()
    cli.format_commands(ctx, lazy)
    click.Group.format_commands(cli, ctx, eager)  # imports every command
    assert lazy.getvalue() == eager.getvalue()


def test_package_api_is_lazy_but_complete():
    res = subprocess.run(
        [sys.executable, "-c",
         "import sys, minemap; assert 'geopandas' not in sys.modules; "
         "import json; print(json.dumps(sorted(minemap.__all__)))"],
        capture_output=True, text=True, timeout=60, check=True)
    names = json.loads(res.stdout)
    import minemap

    for name in names:
        assert getattr(minemap, name) is not None
    assert callable(minemap.crossref) and callable(minemap.export)  # not the subpackages
    with pytest.raises(AttributeError):
        minemap.no_such_name  # noqa: B018
