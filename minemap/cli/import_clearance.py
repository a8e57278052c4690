"""``minemap import-clearance``."""

from __future__ import annotations

import click

from minemap.cli import options
from minemap.cli.main import echo_problems
from minemap.cli.report import print_import


@click.command("import-clearance")
@options.sources_arg
@options.layer_opt
@options.crs_opt
@options.map_opt
@click.pass_context
def command(ctx, sources, layer, crs, column_map):
    """Import land-release polygons and found-item points."""
    from minemap.imports import import_clearance

    result, problems = import_clearance(
        sources, store=options.get_store(ctx), layer=layer, crs=crs, column_map=column_map
    )
    echo_problems(problems, quiet=ctx.obj["quiet"])
    print_import(ctx, result, "clearance", result.read)
