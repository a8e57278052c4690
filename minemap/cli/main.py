"""The ``minemap`` command group: global options, error handling, commands."""

from __future__ import annotations

import importlib
import sys
import traceback
import warnings

import click

from minemap import __version__
from minemap._errors import DataError, MinemapError, Problem

#: Command name → module in minemap.cli (one module per command).
COMMANDS: dict[str, str] = {
    "import-records": "import_records",
    "import-clearance": "import_clearance",
    "import-report": "import_report",
    "import-districts": "import_districts",
    "import-incidents": "import_incidents",
    "reports": "reports",
    "crossref": "crossref",
    "map": "map",
    "export": "export",
    "history": "history",
    "revert": "revert",
    "upgrade-store": "upgrade_store",
    "info": "info",
    "copy-store": "copy_store",
    "validate": "validate",
    "demo": "demo",
    "offsets": "offsets",
    "suspects": "suspects",
    "sheet": "sheet",
}

#: Command name → the first paragraph of its help: ``minemap --help`` lists
#: the commands from this, without importing them (tests/test_startup.py
#: checks that it matches each command's own help).  A command missing here
#: is imported to get its help, which makes ``--help`` slow, not wrong.
SHORT_HELP: dict[str, str] = {
    "import-records": "Import minefield records (GIS files or traverse YAML/CSV) as a new "
                      "revision.",
    "import-clearance": "Import land-release polygons and found-item points (every layer of a "
                        "GeoPackage).",
    "import-report": "Import weekly or monthly report texts (or CSV) as period records.",
    "import-districts": "Import district boundaries (names normalised); they replace the previous "
                        "set.",
    "import-incidents": "Import mine incident points (date, killed, injured, civilian).",
    "reports": "The weekly report periods in the store (with --reconcile: against the polygons).",
    "crossref": "Cross-reference records against land release, finds and reports.",
    "map": "Write the interactive map.",
    "export": "Export layers to GeoJSON, GeoPackage, Shapefile, KML, GPX, CSV or XLSX.",
    "history": "Revisions, with what each added, changed and removed.",
    "revert": "Make a new revision equal to revision N (for one handover, one kind, or the store).",
    "upgrade-store": "Migrate a store written by an older minemap (keeps a backup of the old "
                     "file).",
    "info": "What is in the store.",
    "copy-store": "Copy the store SRC, with its whole history, into the new store DST.",
    "validate": "Run the import checks without writing; list every error; exit 1 if any is an "
                "error.",
    "demo": "Build a store from sample_maps/ and write the map, crossref tables and exports.",
    "offsets": "Systematic shift of each map and the datum-error check (DESIGN §13).",
    "suspects": "Suspected hazard areas from finds and incidents outside every map (DESIGN §13).",
    "sheet": "Write a printable map sheet: fields, releases, finds, grid, TP table.",
}


def echo_problems(problems: list[Problem], *, quiet: bool = False) -> None:
    """Print problems to stderr, one line each."""
    for p in problems:
        if p.severity == "warning" and quiet:
            continue
        click.echo(f"{p.severity}: {p}", err=True)


class MinemapGroup(click.Group):
    """Loads command modules lazily and turns minemap errors into one line."""

    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f"minemap.cli.{COMMANDS[name]}")
        return module.command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``--help``, from :data:`SHORT_HELP`: no command is imported."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            if name in SHORT_HELP:
                # A bare command with the same help shortens it as click would.
                stand_in = click.Command(name, help=SHORT_HELP[name])
                rows.append((name, stand_in.get_short_help_str(limit)))
            elif (cmd := self.get_command(ctx, name)) is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except MinemapError as exc:
            debug = (ctx.obj or {}).get("debug")
            if debug:
                raise
            if isinstance(exc, DataError):
                errors = [p for p in exc.problems if p.severity == "error"]
                for p in errors[1:] if (ctx.obj or {}).get("verbose") else []:
                    click.echo(f"error: {p}", err=True)
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:
            # The reader of our output (``| head``) has gone: not an error.
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)
        except Exception as exc:  # noqa: BLE001 - one line unless --debug
            if (ctx.obj or {}).get("debug"):
                raise
            msg = str(exc).splitlines()[0] if str(exc) else ""
            click.echo(
                f"Error: unexpected {type(exc).__name__}: {msg} (run with --debug for details)",
                err=True,
            )
            ctx.exit(1)


@click.group(cls=MinemapGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="minemap")
@click.option(
    "--store", type=click.Path(dir_okay=False), default=None, envvar="MINEMAP_STORE",
    help="The store: a GeoPackage file, or a PostGIS database as postgresql://user@host:port/db"
    " (default: $MINEMAP_STORE or ./minemap.gpkg).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.option("-v", "--verbose", count=True, help="More detail.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.pass_context
def cli(ctx: click.Context, store, debug, verbose, quiet) -> None:
    """minemap: minefield records, land release and handover accuracy."""
    ctx.ensure_object(dict)
    ctx.obj.update(store=store, debug=debug, verbose=verbose, quiet=quiet)
    if not debug:
        # Problems reach the user as minemap's own one-line messages; the
        # libraries' warnings underneath them are noise (--debug shows them).
        warnings.filterwarnings(
            "ignore", module=r"(pyogrio|shapely|geopandas|pandas|fiona|pyproj|numpy)(\.|$)")


def main() -> None:
    """Console-script entry point."""
    try:
        cli.main(prog_name="minemap", standalone_mode=True)
    except Exception:  # pragma: no cover - only reached with --debug
        traceback.print_exc()
        sys.exit(1)
