"""``minemap import-clearance``."""

from __future__ import annotations

import click

from minemap.cli import options
from minemap.cli.progress import progress, reading
from minemap.cli.report import report_import


@click.command("import-clearance")
@options.gis_sources
@click.pass_context
def command(ctx, sources, layer, crs, column_map):
    """Import land-release polygons and found-item points."""
    from minemap.imports import import_clearance

    bar = ctx.with_resource(progress(ctx, reading(sources)))
    result, problems = import_clearance(
        sources, store=options.get_store(ctx), layer=layer, crs=crs, column_map=column_map
    )
    bar.close()
    report_import(ctx, result, problems, "clearance")
