"""``minemap revert``."""

from __future__ import annotations

import click

from minemap.cli import options
from minemap.cli.report import print_import


@click.command("revert")
@click.argument("revision", type=click.IntRange(min=0), metavar="N")
@click.option("--handover", default=None, help="Revert only this handover's records.")
@click.option("--kind", type=click.Choice(["records", "clearance", "reports", "districts",
                                           "incidents"]), default=None,
              help="Revert only this kind of import.")
@click.pass_context
def command(ctx, revision, handover, kind):
    """Make a new revision equal to revision N (for one handover, one kind, or the store).

    Nothing is deleted: the revert is itself a revision, and history shows it.
    """
    from minemap.api import revert

    result = revert(revision, store=options.get_store(ctx), handover=handover, kind=kind)
    scope = f"handover {handover}" if handover else kind or "the store"
    print_import(ctx, result, f"revert {scope} to revision {revision}", 0)
