"""``minemap import-records``."""

from __future__ import annotations

import click

from minemap.cli import import_common as common
from minemap.cli import options
from minemap.cli.progress import progress, reading
from minemap.cli.report import report_import


@click.command("import-records")
@options.sources_arg
@click.option("--handover", required=True, help="Handover name, e.g. aghdam-2021-06-12.")
@click.option("--handover-date", default=None, metavar="DATE", help="Date of the handover (ISO).")
@common.layers_opt
@common.crs_opt
@options.map_opt
@common.vocabulary_opt
@click.option("--add", is_flag=True, help="Add and change records, never remove.")
@click.option("--allow-removals", is_flag=True, help="Allow removing records the sources lack.")
@click.option("--accept-misclosure", is_flag=True, help="Accept traverses beyond tolerance.")
@click.option("--repair", type=click.Choice(["hull"]), default=None,
              help="Import the convex hull of self-intersecting perimeters.")
@click.pass_context
def command(ctx, sources, handover, handover_date, layer, crs, column_map, vocabulary, add,
            allow_removals, accept_misclosure, repair):
    """Import minefield records (GIS files or traverse YAML/CSV) as a new revision."""
    from minemap.imports import import_records

    bar = ctx.with_resource(progress(ctx, reading(sources)))
    result, rs = import_records(
        sources, handover=handover, store=options.get_store(ctx), handover_date=handover_date,
        layer=common.layer_value(layer), crs=crs, column_map=column_map, add=add,
        allow_removals=allow_removals, accept_misclosure=accept_misclosure, repair=repair,
        vocabulary=vocabulary,
    )
    bar.close()
    common.announce(ctx, rs.sources)
    report_import(ctx, result, rs.problems, f"handover {handover}")
