"""``minemap suspects``."""

from __future__ import annotations

import click

from minemap.cli import options


@click.command("suspects")
@click.option("--eps-m", type=float, default=100.0, show_default=True, metavar="M",
              help="Finds and incidents within M metres of each other are grouped.")
@click.option("--min-items", type=int, default=3, show_default=True, metavar="N",
              help="Points a group's core needs within --eps-m (itself included).")
@options.as_of_opt
@options.revision_opt
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the areas (.geojson, .gpkg, .shp, .kml, .csv, or .xlsx for a table).")
@options.overwrite_opt
@options.json_opt
@click.pass_context
def command(ctx, eps_m, min_items, as_of, revision, output, overwrite, as_json):
    """Suspected hazard areas from finds and incidents outside every map (DESIGN §13).

    Groups the AP/AT finds and mine incidents that lie outside every recorded
    field and beyond every footprint (accuracy_buffer_m, 500 m), for
    non-technical survey tasking.
    """
    from minemap.accuracy import suspects
    from minemap.cli.tables import print_table

    areas = suspects(options.get_store(ctx), eps_m=eps_m, min_items=min_items, as_of=as_of,
                     revision=revision)
    plain = areas.drop(columns="geometry")
    if output:
        from minemap.export import write

        for w in write({"suspects": areas}, output, overwrite=overwrite):
            click.echo(f"warning: {w}", err=True)
        click.echo(f"wrote {len(areas)} suspected areas to {output}")
    elif as_json:
        click.echo(plain.to_json(orient="records", force_ascii=False, indent=1))
    elif not len(plain):
        click.echo(f"no suspected areas: no {min_items} finds or incidents within {eps_m:g} m"
                   " of each other beyond every map")
    else:
        print_table(plain, title=f"suspected areas (eps {eps_m:g} m, min {min_items})",
                    no_total=("nearest_",))
