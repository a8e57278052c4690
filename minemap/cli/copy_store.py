"""``minemap copy-store``."""

from __future__ import annotations

import click


@click.command("copy-store")
@click.argument("source", metavar="SRC")
@click.argument("destination", metavar="DST")
@click.pass_context
def command(ctx, source, destination):
    """Copy the store SRC, with its whole history, into the new store DST.

    SRC and DST are GeoPackage paths or postgresql:// URLs, in either
    direction.  DST must not hold a store yet; the copy's history and
    exports equal the source's.
    """
    from minemap.store.copy import copy_store

    result = copy_store(source, destination)
    if not ctx.obj["quiet"]:
        from minemap.store import open_store

        click.echo(
            f"copied {result.revisions} revisions ({result.rows} row versions) from"
            f" {open_store(source).location} to {open_store(destination).location}")
