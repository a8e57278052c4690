"""``minemap info``."""

from __future__ import annotations

import json

import click

from minemap.cli import options


@click.command("info")
@options.json_opt
@click.pass_context
def command(ctx, as_json):
    """What is in the store."""
    store = options.get_store(ctx)
    if not store.exists():
        click.echo(f"{store.location}: no store yet (it is created by the first import)")
        return
    # One snapshot: the counts, handovers and fields all describe one revision.
    with store.snapshot() as view:
        rev = view.latest_revision()
        counts = view.counts()
        handovers = view.handovers()
        fields = view.read("minefields") if counts["minefields"] else None
    if as_json:
        click.echo(json.dumps({"store": store.location, "revision": rev, "layers": counts,
                               "handovers": handovers.to_dict(orient="records")}, indent=2))
        return
    click.echo(f"store {store.location}, revision {rev}")
    for layer, n in counts.items():
        click.echo(f"  {layer:<10} {n:>8}")
    for _, h in handovers.iterrows():
        sub = fields[fields["handover"] == h.handover] if fields is not None else []
        mines = int(sub["mines_total"].sum()) if len(sub) else 0
        click.echo(f"  handover {h.handover} ({h.handover_date or 'no date'}): "
                   f"{len(sub)} fields, {mines} mines recorded")
