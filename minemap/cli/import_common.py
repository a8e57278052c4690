"""What the GIS import commands share beyond cli/options.py: the source options
of DESIGN §11 and the announcement of which column became which field."""

from __future__ import annotations

import click

from minemap.records.schema import OUTCOMES

vocabulary_opt = click.option(
    "--vocabulary", default=None, metavar="FILE|PRESET",
    help="Map the source's words for outcomes, item types and mine models onto minemap's"
    " (a YAML file, or a preset: imsma).",
)
default_outcome_opt = click.option(
    "--default-outcome", type=click.Choice(OUTCOMES), default=None,
    help="Outcome of releases that state none (without it they are refused).",
)
layers_opt = click.option(
    "--layer", "layer", multiple=True,
    help="Layer of a multi-layer source (repeatable: several layers, one revision).",
)
crs_opt = click.option(
    "--crs", default=None, metavar="CRS",
    help="CRS of sources that declare none: EPSG:28408, or SK-42 (Pulkovo 1942"
    " Gauss-Krüger, zone from the easting's leading digit).",
)


def layer_value(layer: tuple[str, ...]) -> str | list[str] | None:
    """``--layer`` given 0, 1 or several times, as the Python API takes it."""
    if not layer:
        return None
    return layer[0] if len(layer) == 1 else list(layer)


def announce(ctx: click.Context, sources: list) -> None:
    """Which source column became each announced field; what was detected under -v."""
    obj = ctx.obj or {}
    if obj.get("quiet"):
        return
    for src in sources:
        if src.columns:
            shown = ", ".join(f"{f} ← {c}" for f, c in src.columns.items())
            click.echo(f"{src.name}: {shown}", err=True)
        if obj.get("verbose"):
            for note in src.notes:
                click.echo(f"detected: {note}", err=True)
