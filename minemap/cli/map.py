"""``minemap map``."""

from __future__ import annotations

import click

from minemap.cli import options


@click.command("map")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
@options.as_of_opt
@options.revision_opt
@click.option("--offline", is_flag=True, help="Self-contained HTML that works without network.")
@click.option("--basemap", default=None, metavar="PATH/{z}/{x}/{y}.png",
              help="A local tile folder (for offline use).")
@options.overwrite_opt
@click.pass_context
def command(ctx, output, as_of, revision, offline, basemap, overwrite):
    """Write the interactive map."""
    from minemap.api import render_map
    from minemap.render import save_map

    m = render_map(options.get_store(ctx), as_of=as_of, revision=revision, offline=offline,
                   basemap=basemap)
    for w in save_map(m, output, overwrite=overwrite):
        click.echo(f"warning: {w}", err=True)
    click.echo(f"wrote {output}", err=True)
