"""``minemap export``."""

from __future__ import annotations

import sys

import click

from minemap.cli import options
from minemap.cli.progress import progress


@click.command("export")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="Output file; the format comes from the extension; - writes GeoJSON.")
@click.option("--layer", "layers", multiple=True, default=("minefields",), show_default=True,
              help="minefields, clearance, items, incidents, districts, mine_rows, crossref,"
              " vertices (the turning-point table), remaining (each field minus its released"
              " land: a task order's polygon) or suspects (repeatable for .gpkg).")
@click.option("--district", default=None, help="Any spelling of a district name.")
@click.option("--handover", default=None, help="Only this handover's rows.")
@click.option("--status", default=None, help="not_started, in_progress or released.")
@options.as_of_opt
@options.revision_opt
@click.option("--bbox", default=None, metavar="W,S,E,N",
              help="Only rows meeting this box (WGS84 degrees).")
@click.option("--precision", type=int, default=None, help="GeoJSON decimals (default 6).")
@click.option("--allow-coarse", is_flag=True, help="Allow fewer than 5 decimals.")
@click.option("--hxl", is_flag=True, help="CSV: add the HXL hashtag row.")
@click.option("--csv-geometry", type=click.Choice(["wkt", "centroid"]), default="wkt",
              show_default=True, help="CSV: geometry as WKT, or centroid lon/lat columns.")
@click.option("--crs", default=None, metavar="CRS",
              help=".gpkg, .shp/.zip, .csv: a projected CRS (EPSG:32638, SK-42); the datum"
              " transformation is recorded in the file. GeoJSON stays WGS84.")
@options.overwrite_opt
@click.pass_context
def command(ctx, output, layers, district, handover, status, as_of, revision, bbox, precision,
            allow_coarse, hxl, csv_geometry, crs, overwrite):
    """Export layers to GeoJSON, GeoPackage, Shapefile, KML, GPX, CSV or XLSX."""
    from minemap.api import export

    bar = ctx.with_resource(progress(ctx, f"exporting {', '.join(layers)}"))
    warnings = export(
        output, store=options.get_store(ctx), layers=layers, district=district,
        handover=handover, status=status, as_of=as_of, revision=revision, bbox=bbox,
        precision=precision, allow_coarse=allow_coarse, overwrite=overwrite, hxl=hxl,
        csv_geometry=csv_geometry, crs=crs, stdout=sys.stdout,
    )
    bar.close()
    for w in warnings:
        click.echo(f"warning: {w}", err=True)
    if output != "-" and not ctx.obj["quiet"]:
        click.echo(f"wrote {', '.join(layers)} to {output}", err=True)
