"""``minemap offsets``."""

from __future__ import annotations

import click

from minemap.cli import options


@click.command("offsets")
@click.option("--handover", default=None, metavar="H", help="Only this handover.")
@click.option("--by", type=click.Choice(["handover", "district"]), default="handover",
              show_default=True, help="One estimate per handover, or per handover × district.")
@click.option("--rotation", is_flag=True, help="Also estimate a rotation (±2°).")
@click.option("--apply", "apply_", is_flag=True,
              help="Record a new revision of --handover moved by the estimate (revertible).")
@options.as_of_opt
@options.table_output_opt
@options.overwrite_opt
@options.json_opt
@click.pass_context
def command(ctx, handover, by, rotation, apply_, as_of, output, overwrite, as_json):
    """Systematic shift of each map and the datum-error check (DESIGN §13).

    Estimates the shift (metres towards true east and north) that best brings
    each handover's recorded fields onto the AP/AT finds around them, with a
    bootstrap 95 % radius, the accuracy before and after, and whether the
    shift matches the Pulkovo 1942 → WGS 84 datum shift.  Nothing in the
    store changes unless --apply is given.
    """
    from minemap._errors import UsageError
    from minemap.accuracy import apply_offsets, offsets
    from minemap.cli.tables import print_table

    if apply_ and not handover:
        raise UsageError("--apply needs --handover H: one map is moved at a time")
    if output:
        from minemap.export import check_table_output

        check_table_output(output, overwrite=overwrite)  # before the estimate, not after
    st = options.get_store(ctx)
    if apply_:
        result, table = apply_offsets(st, handover=handover, by=by, rotation=rotation,
                                      as_of=as_of)
    else:
        table = offsets(st, handover=handover, by=by, rotation=rotation, as_of=as_of)
    if output:
        from minemap.export import write_table

        write_table(table, output, overwrite=overwrite, sheet="offsets")
        click.echo(f"wrote {len(table)} rows to {output}")
    elif as_json:
        click.echo(table.to_json(orient="records", force_ascii=False, indent=1))
    else:
        shown = table.drop(columns=["datum_dx_m", "datum_dy_m"] if by == "handover" else [])
        if by == "handover":
            shown = shown.drop(columns=["district"])
        print_table(shown, title="offsets (correction towards true east/north, metres)",
                    totals=False)
    if apply_:
        if result.noop:
            click.echo(f"no change: {result.noop_reason}")
        else:
            click.echo(f"revision {result.revision}: {handover} moved by the estimate"
                       f" ({len(result.changed)} records changed); undo with"
                       f" minemap revert {result.revision - 1} --handover {handover}")

