"""``minemap reports``."""

from __future__ import annotations

import json

import click

from minemap.cli import options

_RECONCILE_SHOWN = ("date_start", "date_end", "cleared_ha", "reported_ha", "diff_cleared_ha",
                    "released_ha", "found_ap", "reported_ap", "found_at", "reported_at",
                    "found_uxo", "reported_uxo")


@click.command("reports")
@click.option("--reconcile", is_flag=True,
              help="Each report beside the polygons' hectares and the items found in its"
              " period, with the differences.")
@options.as_of_opt
@options.table_output_opt
@options.overwrite_opt
@options.json_opt
@click.pass_context
def command(ctx, reconcile, as_of, output, overwrite, as_json):
    """The weekly report periods in the store (with --reconcile: against the polygons).

    -o writes every column (with --reconcile, the per-district rows too); a
    figure a report does not state stays an empty cell, never 0.
    """
    from minemap.api import reconcile as reconcile_reports
    from minemap.api import reports
    from minemap.cli.tables import print_table
    from minemap.export import check_table_output, write_table

    if output:
        check_table_output(output, overwrite=overwrite)
    store = options.get_store(ctx)
    if reconcile:
        table = reconcile_reports(store, as_of=as_of)
        if output:
            write_table(table, output, overwrite=overwrite, sheet="reconciliation")
            click.echo(f"wrote {len(table)} rows to {output}")
            return
        if as_json:
            click.echo(table.to_json(orient="records", force_ascii=False, indent=1))
            return
        # One line per report: its totals (the per-district rows are in --json).
        totals = table[table["district"] == ""][list(_RECONCILE_SHOWN)].copy()
        for c in ("reported_ap", "reported_at", "reported_uxo"):
            totals[c] = totals[c].round().astype("Int64")
        # A total over reports that do not all state a figure would compare a
        # partial sum with the polygons of every period: left out.
        partial = tuple(c for c in totals.columns if totals[c].isna().any())
        print_table(totals, title="weekly reports against the polygons and items",
                    transpose=False, no_total=partial)
        return
    frame = reports(store)
    if as_of:
        from minemap._access import as_of_text

        frame = frame[frame["date_end"] <= as_of_text(as_of)]
    if output:
        table = frame.copy()
        # One cell per report: its districts joined (null stays empty).
        table["districts"] = ["; ".join(d) if d is not None else None
                              for d in table["districts"]]
        write_table(table, output, overwrite=overwrite, sheet="reports")
        click.echo(f"wrote {len(table)} rows to {output}")
        return
    if as_json:
        # The null rule: a figure the report does not state is null, never 0.
        records = [
            {"date_start": r.date_start, "date_end": r.date_end,
             "districts": list(r.districts) if r.districts is not None else None,
             "found_ap": _int(r.found_ap), "found_at": _int(r.found_at),
             "found_uxo": _int(r.found_uxo), "cleared_ha": _float(r.cleared_ha)}
            for r in frame.itertuples()
        ]
        click.echo(json.dumps(records, indent=1, ensure_ascii=False))
        return
    shown = frame.drop(columns=["source_file"])
    shown["districts"] = [", ".join(d) if d else "" for d in shown["districts"]]
    partial = tuple(c for c in shown.columns if shown[c].isna().any())
    print_table(shown, title="weekly reports", no_total=partial)


def _int(value) -> int | None:
    import pandas as pd

    return None if pd.isna(value) else int(value)


def _float(value) -> float | None:
    import pandas as pd

    return None if pd.isna(value) else float(value)
