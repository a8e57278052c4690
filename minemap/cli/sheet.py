"""``minemap sheet``."""

from __future__ import annotations

import click

from minemap.cli import options


@click.command("sheet")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Output .pdf.")
@click.option("--record", default=None, metavar="ID", help="One minefield record.")
@click.option("--district", default=None, help="Every field of a district (any spelling).")
@click.option("--handover", default=None,
              help="Every field of a handover (or the handover of --record).")
@click.option("--paper", type=click.Choice(["A4", "A3"], case_sensitive=False), default="A4",
              show_default=True)
@options.as_of_opt
@options.revision_opt
@options.overwrite_opt
@click.pass_context
def command(ctx, output, record, district, handover, paper, as_of, revision, overwrite):
    """Write a printable map sheet: fields, releases, finds, grid, TP table."""
    from minemap.api import sheet

    pages = sheet(output, store=options.get_store(ctx), record=record, district=district,
                  handover=handover, paper=paper.upper(), as_of=as_of, revision=revision,
                  overwrite=overwrite)
    if not ctx.obj["quiet"]:
        click.echo(f"wrote {output} ({pages} page{'s' if pages != 1 else ''}, {paper.upper()})",
                   err=True)
