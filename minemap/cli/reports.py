"""``minemap reports``."""

from __future__ import annotations

import json

import click

from minemap.cli import options


@click.command("reports")
@options.json_opt
@click.pass_context
def command(ctx, as_json):
    """The weekly report periods in the store."""
    from minemap.api import reports
    from minemap.cli.tables import print_table

    frame = reports(options.get_store(ctx))
    if as_json:
        records = [
            {"date_start": r.date_start, "date_end": r.date_end, "districts": list(r.districts),
             "found_ap": int(r.found_ap), "found_at": int(r.found_at),
             "found_uxo": int(r.found_uxo), "cleared_ha": float(r.cleared_ha)}
            for r in frame.itertuples()
        ]
        click.echo(json.dumps(records, indent=1, ensure_ascii=False))
        return
    print_table(frame.drop(columns=["source_file"]), title="weekly reports")
