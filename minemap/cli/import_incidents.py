"""``minemap import-incidents``."""

from __future__ import annotations

import click

from minemap.cli import options
from minemap.cli.main import echo_problems
from minemap.cli.report import print_import


@click.command("import-incidents")
@options.sources_arg
@options.layer_opt
@options.crs_opt
@options.map_opt
@click.pass_context
def command(ctx, sources, layer, crs, column_map):
    """Import mine incident points (date, killed, injured, civilian)."""
    from minemap.imports import import_incidents

    result, problems = import_incidents(
        sources, store=options.get_store(ctx), layer=layer, crs=crs, column_map=column_map
    )
    echo_problems(problems, quiet=ctx.obj["quiet"])
    print_import(ctx, result, "incidents", result.read)
