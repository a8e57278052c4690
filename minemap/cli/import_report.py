"""``minemap import-report``."""

from __future__ import annotations

import click

from minemap.cli import options
from minemap.cli.progress import progress, reading
from minemap.cli.report import report_import


@click.command("import-report")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.pass_context
def command(ctx, files):
    """Import weekly report texts (or CSV) as period records."""
    from minemap.imports import import_report

    bar = ctx.with_resource(progress(ctx, reading(files)))
    result, problems = import_report(files, store=options.get_store(ctx))
    bar.close()
    report_import(ctx, result, problems, "reports")
