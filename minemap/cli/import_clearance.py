"""``minemap import-clearance``."""

from __future__ import annotations

import click

from minemap.cli import import_common as common
from minemap.cli import options
from minemap.cli.progress import progress, reading
from minemap.cli.report import report_import


@click.command("import-clearance")
@options.sources_arg
@common.layers_opt
@common.crs_opt
@options.map_opt
@common.vocabulary_opt
@common.default_outcome_opt
@click.pass_context
def command(ctx, sources, layer, crs, column_map, vocabulary, default_outcome):
    """Import land-release polygons and found-item points (every layer of a GeoPackage)."""
    from minemap.imports import import_clearance

    bar = ctx.with_resource(progress(ctx, reading(sources)))
    result, rs = import_clearance(
        sources, store=options.get_store(ctx), layer=common.layer_value(layer), crs=crs,
        column_map=column_map, vocabulary=vocabulary, default_outcome=default_outcome,
    )
    bar.close()
    common.announce(ctx, rs.sources)
    report_import(ctx, result, rs.problems, "clearance")
