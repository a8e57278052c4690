"""``minemap history``."""

from __future__ import annotations

import json

import click

from minemap.cli import options

_FIELDS = ("revision", "kind", "handover", "sources", "sha256", "imported_at", "added",
           "changed", "removed")


@click.command("history")
@click.option("--handover", default=None, help="Only this handover's revisions.")
@options.json_opt
@click.pass_context
def command(ctx, handover, as_json):
    """Revisions, with what each added, changed and removed."""
    store = options.get_store(ctx)
    revs = store.revisions(handover=handover)
    if as_json:
        click.echo(json.dumps([{k: r[k] for k in _FIELDS} for r in revs], indent=2,
                              ensure_ascii=False))
        return
    if not revs:
        click.echo("no revisions")
        return
    for r in revs:
        what = f"{r['kind']} {r['handover']}".strip()
        click.echo(
            f"{r['revision']:>4}  {r['imported_at']}  {what}: +{len(r['added'])}"
            f" ~{len(r['changed'])} -{len(r['removed'])}  {', '.join(r['sources'])}"
        )
        if ctx.obj["verbose"]:
            for key in ("added", "changed", "removed"):
                if r[key]:
                    click.echo(f"      {key}: {', '.join(map(str, r[key]))}")
            click.echo(f"      sha256: {', '.join(r['sha256'])}")
            if r["transformation"]:
                click.echo(f"      transformation: {' | '.join(r['transformation'])}")
