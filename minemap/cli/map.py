"""``minemap map``."""

from __future__ import annotations

import click

from minemap.cli import options
from minemap.cli.progress import progress


@click.command("map")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
@options.as_of_opt
@options.revision_opt
@click.option("--offline", is_flag=True, help="Self-contained HTML that works without network.")
@click.option("--basemap", default=None, metavar="TILES",
              help="none, osm, esri, osm+esri (online; the default online), a {z}/{x}/{y} tile "
              "folder (or PATH/{z}/{x}/{y}.png) or an .mbtiles file.  Local tiles covering the "
              "map are inlined with --offline (and always from .mbtiles), up to "
              "settings.basemap_inline_mb.")
@click.option("--district", default=None,
              help="Only the minefields, releases, items and incidents of this district "
              "(any spelling).")
@click.option("--handover", default=None, help="Only the minefields of this handover.")
@click.option("--status", type=click.Choice(["not_started", "in_progress", "released"]),
              default=None, help="Only the minefields with this status.")
@click.option("--display-tolerance", "display_tolerance", type=click.FloatRange(min=0),
              default=None, metavar="M",
              help="Display simplification in metres (default: settings.display_tolerance_m, "
              "1 m).  Boundaries are never drawn inside the record by more than this (at "
              "most 0.08 m of rounding); exports from the map keep the full geometry.")
@click.option("--no-mine-positions", "no_mine_positions", is_flag=True,
              help="Leave out the estimated mine positions along mine rows.")
@click.option("--choropleth", is_flag=True,
              help="Show the district choropleth when the map opens (it is in the layer "
              "control either way).")
@click.option("--offsets", "shifted", is_flag=True,
              help="Also draw, dashed, the outlines `minemap offsets` proposes for each"
              " shifted handover (nothing is applied).")
@options.overwrite_opt
@click.pass_context
def command(ctx, output, as_of, revision, offline, basemap, district, handover, status,
            display_tolerance, no_mine_positions, choropleth, shifted, overwrite):
    """Write the interactive map."""
    from pathlib import Path

    from minemap._errors import UsageError
    from minemap.api import map_frames
    from minemap.render import page as render
    from minemap.render.basemap import check_basemap

    # Checked again by save_map and render_map; here so a large map is not
    # read and rendered in vain.
    if not Path(output).parent.is_dir():
        raise UsageError(f"output directory does not exist: {Path(output).parent}")
    check_basemap(basemap, offline=offline)
    bar = ctx.with_resource(progress(ctx, "reading the store"))
    frames = map_frames(options.get_store(ctx), as_of=as_of, revision=revision, shifted=shifted)
    frames = render.filter_frames(frames, district=district, handover=handover, status=status,
                                  mine_positions=not no_mine_positions)
    bar.begin("rendering")
    m = render.render_map(frames.pop("minefields"), **frames, offline=offline, basemap=basemap,
                          display_tolerance_m=display_tolerance, choropleth=choropleth)
    bar.begin(f"writing {output}")
    saved = render.save_map(m, output, overwrite=overwrite)
    bar.close()
    for w in saved:
        click.echo(f"warning: {w}", err=True)
    click.echo(f"wrote {output}", err=True)
