"""``minemap validate``."""

from __future__ import annotations

import click

from minemap.cli import import_common as common
from minemap.cli import options
from minemap.cli.main import echo_problems
from minemap.cli.progress import progress
from minemap.cli.report import echo_warnings, write_warnings


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
@click.option("--all", "every", is_flag=True,
              help="List every warning (by default the first 20 of each kind, then a count).")
@click.option("--warnings-file", type=click.Path(dir_okay=False), default=None,
              metavar="OUT", help="Write every warning to OUT.csv or OUT.xlsx: file, record,"
              " kind, message.")
@options.overwrite_opt
@click.pass_context
def command(ctx, sources, kind, handover, handover_date, layer, crs, column_map, vocabulary,
            default_outcome, repair, accept_misclosure, every, warnings_file, overwrite):
    """Run the import checks without writing; list every error; exit 1 if any is an error.

    Warnings are listed up to 20 of each kind, then counted: --all lists every
    one, and --warnings-file writes them all to CSV or XLSX with their record ids.
    """
    from minemap.imports import validate

    if warnings_file:
        from minemap.export import check_table_output

        # Before the checks, which take a while on a large file.
        check_table_output(warnings_file, overwrite=overwrite)

    opts = {"layer": common.layer_value(layer), "crs": crs, "column_map": column_map}
    if kind == "records":
        opts.update(handover=handover, handover_date=handover_date, repair=repair,
                    accept_misclosure=accept_misclosure, vocabulary=vocabulary)
    if kind == "clearance":
        opts.update(vocabulary=vocabulary, default_outcome=default_outcome)
    if kind == "reports":
        opts = {}
    bar = ctx.with_resource(progress(ctx, f"checking {len(sources)} file(s)"))
    problems = validate(sources, kind=kind, **opts)
    bar.close()
    errors = [p for p in problems if p.severity == "error"]
    if warnings_file:
        n = write_warnings(warnings_file, problems, overwrite=overwrite)
        if not ctx.obj["quiet"]:
            click.echo(f"wrote {n} warning(s) to {warnings_file}", err=True)
    if not ctx.obj["quiet"]:
        echo_warnings(problems, every=every, hint="`--all`")
    echo_problems(errors)  # every error, always: each one refuses the file
    if errors:
        click.echo(f"{len(errors)} error(s): the files would be refused", err=True)
        ctx.exit(1)
    click.echo(f"ok: {len(sources)} file(s) would be accepted"
               + (f" with {len(problems)} warning(s)" if problems else ""))
