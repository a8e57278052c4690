"""``minemap demo``."""

from __future__ import annotations

import click

from minemap.cli import options


@click.command("demo")
@click.argument("outdir", required=False, default="demo_output",
                type=click.Path(file_okay=False))
@click.option("--samples", default=None, type=click.Path(exists=True, file_okay=False),
              help="The sample_maps folder (default: ./sample_maps, else the repository's).")
@click.option("--offline/--online", default=True, show_default=True,
              help="Write the map self-contained.")
@options.overwrite_opt
@click.pass_context
def command(ctx, outdir, samples, offline, overwrite):
    """Build a store from sample_maps/ and write the map, crossref tables and exports."""
    from minemap.demo import run_demo

    store = ctx.obj.get("store")
    for line in run_demo(outdir, samples=samples, store=store, offline=offline,
                         overwrite=overwrite):
        click.echo(line)
