"""``minemap import-districts``."""

from __future__ import annotations

import click

from minemap.cli import import_common as common
from minemap.cli import options
from minemap.cli.progress import progress, reading
from minemap.cli.report import report_import


@click.command("import-districts")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.option("--name-field", default=None, help="Column holding the district name.")
@options.layer_opt
@common.crs_opt
@click.pass_context
def command(ctx, source, name_field, layer, crs):
    """Import district boundaries (names normalised); they replace the previous set."""
    from minemap.imports import import_districts

    bar = ctx.with_resource(progress(ctx, reading([source])))
    result, rs = import_districts(
        source, store=options.get_store(ctx), name_field=name_field, layer=layer, crs=crs
    )
    bar.close()
    common.announce(ctx, rs.sources)
    report_import(ctx, result, rs.problems, "districts")
