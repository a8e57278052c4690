"""``minemap upgrade-store``."""

from __future__ import annotations

import click

from minemap.cli import options


@click.command("upgrade-store")
@click.pass_context
def command(ctx):
    """Migrate a store written by an older minemap (keeps a backup of the old file)."""
    from minemap.api import upgrade_store

    store = options.get_store(ctx)
    backup = upgrade_store(store)
    if backup is None:
        click.echo(f"{store.location}: already current; nothing to do")
    else:
        click.echo(f"{store.location}: upgraded; the old store is kept as {backup}")
