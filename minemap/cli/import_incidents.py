"""``minemap import-incidents``."""

from __future__ import annotations

import click

from minemap.cli import options
from minemap.cli.progress import progress, reading
from minemap.cli.report import report_import


@click.command("import-incidents")
@options.gis_sources
@click.pass_context
def command(ctx, sources, layer, crs, column_map):
    """Import mine incident points (date, killed, injured, civilian)."""
    from minemap.imports import import_incidents

    bar = ctx.with_resource(progress(ctx, reading(sources)))
    result, problems = import_incidents(
        sources, store=options.get_store(ctx), layer=layer, crs=crs, column_map=column_map
    )
    bar.close()
    report_import(ctx, result, problems, "incidents")
