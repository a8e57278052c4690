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
    """Import weekly or monthly report texts (or CSV) as period records.

    A figure a report does not state is stored as null, never 0.  With -v,
    shows which sentence gave which figure and what was ignored.
    """
    from minemap.imports import import_report

    bar = ctx.with_resource(progress(ctx, reading(files)))
    notes: list[str] = []
    try:
        result, problems = import_report(files, store=options.get_store(ctx), notes=notes)
    finally:
        bar.close()
        if ctx.obj.get("verbose"):
            for note in notes:
                click.echo(note, err=True)
    report_import(ctx, result, problems, "reports")
