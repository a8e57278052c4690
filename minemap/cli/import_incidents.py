"""``minemap import-incidents``."""

from __future__ import annotations

import click

from minemap.cli import import_common as common
from minemap.cli import options
from minemap.cli.progress import progress, reading
from minemap.cli.report import report_import


@click.command("import-incidents")
@options.sources_arg
@common.layers_opt
@common.crs_opt
@options.map_opt
@click.pass_context
def command(ctx, sources, layer, crs, column_map):
    """Import mine incident points (date, killed, injured, civilian)."""
    from minemap.imports import import_incidents

    bar = ctx.with_resource(progress(ctx, reading(sources)))
    result, rs = import_incidents(
        sources, store=options.get_store(ctx), layer=common.layer_value(layer), crs=crs,
        column_map=column_map,
    )
    bar.close()
    common.announce(ctx, rs.sources)
    report_import(ctx, result, rs.problems, "incidents")
