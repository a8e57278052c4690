"""Options shared by several commands (the fio habit)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # the store pulls in geopandas: imported by the commands that use it
    from minemap.store import Store


def parse_map(ctx, param, values) -> dict[str, str]:
    """``--map field=column`` pairs as a dict."""
    out = {}
    for item in values or ():
        if "=" not in item:
            raise click.BadParameter(f"{item!r} is not field=column")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


sources_arg = click.argument(
    "sources", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False)
)
layer_opt = click.option("--layer", default=None, help="Layer of a multi-layer source.")
crs_opt = click.option("--crs", default=None, metavar="CRS",
                       help="CRS of sources that declare none, e.g. EPSG:28408.")
map_opt = click.option(
    "--map", "column_map", multiple=True, callback=parse_map, metavar="FIELD=COLUMN",
    help="Take a contract field from another column (repeatable).",
)
as_of_opt = click.option(
    "--as-of", default=None, metavar="DATE",
    help="Keep releases ending, and items, incidents and reports dated, on or before DATE.",
)
revision_opt = click.option(
    "--revision", type=int, default=None, metavar="N",
    help="The store as it was after its Nth import: records, releases, items and the rest"
    " (default: the latest).",
)
overwrite_opt = click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
table_output_opt = click.option(
    "-o", "--output", type=click.Path(dir_okay=False), default=None, metavar="OUT",
    help="Write the table to OUT.csv (rounded) or OUT.xlsx (full precision, number formats).",
)
json_opt = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def get_store(ctx: click.Context) -> Store:
    """The store chosen by --store, $MINEMAP_STORE or the default."""
    from minemap.store import open_store

    return open_store(ctx.obj.get("store"))


def gis_sources(f):
    """SOURCE… with --layer, --crs and --map: the inputs of the GIS imports."""
    for decorate in (map_opt, crs_opt, layer_opt, sources_arg):
        f = decorate(f)
    return f
