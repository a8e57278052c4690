"""``minemap validate``."""

from __future__ import annotations

import click

from minemap.cli import import_common as common
from minemap.cli import options
from minemap.cli.main import echo_problems


@click.command("validate")
@options.sources_arg
@click.option("--kind", type=click.Choice(["records", "clearance", "incidents", "reports"]),
              default="records", show_default=True, help="What the sources hold.")
@click.option("--handover", default=None, help="Check records' own handover against this.")
@click.option("--handover-date", default=None, metavar="DATE",
              help="Date of the handover (a fallback date for magnetic declinations).")
@common.layers_opt
@common.crs_opt
@options.map_opt
@common.vocabulary_opt
@common.default_outcome_opt
@click.option("--repair", type=click.Choice(["hull"]), default=None,
              help="Check with self-intersecting perimeters replaced by their convex hull.")
@click.option("--accept-misclosure", is_flag=True,
              help="Accept traverses whose misclosure exceeds the tolerance.")
@click.pass_context
def command(ctx, sources, kind, handover, handover_date, layer, crs, column_map, vocabulary,
            default_outcome, repair, accept_misclosure):
    """Run the import checks without writing; list every problem; exit 1 if any is an error."""
    from minemap.imports import validate

    opts = {"layer": common.layer_value(layer), "crs": crs, "column_map": column_map}
    if kind == "records":
        opts.update(handover=handover, handover_date=handover_date, repair=repair,
                    accept_misclosure=accept_misclosure, vocabulary=vocabulary)
    if kind == "clearance":
        opts.update(vocabulary=vocabulary, default_outcome=default_outcome)
    if kind == "reports":
        opts = {}
    problems = validate(sources, kind=kind, **opts)
    echo_problems(problems, quiet=ctx.obj["quiet"])
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        click.echo(f"{len(errors)} error(s): the files would be refused", err=True)
        ctx.exit(1)
    click.echo(f"ok: {len(sources)} file(s) would be accepted"
               + (f" with {len(problems)} warning(s)" if problems else ""))
