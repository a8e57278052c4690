"""``minemap history``."""

from __future__ import annotations

import json
import math

import click
import pandas as pd

from minemap.cli import options

_FIELDS = ("revision", "kind", "handover", "sources", "sha256", "imported_at", "added",
           "changed", "removed")


@click.command("history")
@click.option("--handover", default=None, help="Only this handover's revisions.")
@click.option("--diff", "diff", type=int, is_flag=False, flag_value=0, default=None,
              metavar="[N]", help="Per record, what revision N changed (default: the latest):"
              " counts, area and how far the geometry moved.")
@options.table_output_opt
@options.overwrite_opt
@options.json_opt
@click.pass_context
def command(ctx, handover, diff, output, overwrite, as_json):
    """Revisions, with what each added, changed and removed.

    -o writes one row per revision (how many records each added, changed
    and removed; --json lists their ids), or with --diff one row per record.
    """
    if output:
        from minemap.export import check_table_output

        check_table_output(output, overwrite=overwrite)
    store = options.get_store(ctx)
    if diff is not None:
        _print_diff(store, diff or None, handover, as_json, output, overwrite)
        return
    revs = store.revisions(handover=handover)
    if output:
        from minemap.export import write_table

        write_table(revisions_table(revs), output, overwrite=overwrite, sheet="history")
        click.echo(f"wrote {len(revs)} rows to {output}")
        return
    if as_json:
        click.echo(json.dumps([{k: r[k] for k in _FIELDS} for r in revs], indent=2,
                              ensure_ascii=False))
        return
    if not revs:
        click.echo("no revisions")
        return
    for r in revs:
        what = f"{r['kind']} {r['handover']}".strip()
        if r["kind"] == "revert":
            what = r["message"]
        click.echo(
            f"{r['revision']:>4}  {r['imported_at']}  {what}: +{len(r['added'])}"
            f" ~{len(r['changed'])} -{len(r['removed'])}  {', '.join(r['sources'])}".rstrip()
        )
        if ctx.obj["verbose"]:
            for key in ("added", "changed", "removed"):
                if r[key]:
                    click.echo(f"      {key}: {', '.join(map(str, r[key]))}")
            if r["sha256"]:
                click.echo(f"      sha256: {', '.join(r['sha256'])}")
            if r["transformation"]:
                click.echo(f"      transformation: {' | '.join(r['transformation'])}")


def revisions_table(revs: list[dict]) -> pd.DataFrame:
    """One row per revision: its sources and how many ids it added, changed, removed.

    The ids themselves are left to ``--json``: a clearance import adds
    thousands, more than a spreadsheet cell holds.
    """
    rows = [{"revision": r["revision"], "imported_at": r["imported_at"], "kind": r["kind"],
             "handover": r["handover"], "handover_date": r.get("handover_date"),
             "sources": "; ".join(r["sources"]), "sha256": "; ".join(r["sha256"]),
             "n_added": len(r["added"]), "n_changed": len(r["changed"]),
             "n_removed": len(r["removed"]),
             "transformation": " | ".join(r.get("transformation") or []),
             "message": r.get("message") or ""} for r in revs]
    cols = ["revision", "imported_at", "kind", "handover", "handover_date", "sources",
            "sha256", "n_added", "n_changed", "n_removed", "transformation", "message"]
    return pd.DataFrame(rows, columns=cols)


def _num(value, fmt: str) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(int(value) if fmt == "d" else float(value), fmt)


def _print_diff(store, revision: int | None, handover: str | None, as_json: bool,
                output: str | None = None, overwrite: bool = False) -> None:
    from minemap.api import history_diff

    table = history_diff(store, revision=revision)
    if handover is not None:
        table = table[table["handover"] == handover]
    if output:
        from minemap.export import write_table

        write_table(table, output, overwrite=overwrite, sheet="history_diff")
        click.echo(f"wrote {len(table)} rows to {output}")
        return
    if as_json:
        rows = json.loads(table.to_json(orient="records"))
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not len(table):
        click.echo("no minefield record changed in that revision")
        return
    click.echo(f"revision {int(table['revision'].iloc[0])}:")
    for r in table.itertuples(index=False):
        moved = "" if r.change != "changed" else f", moved {_num(r.hausdorff_m, '.1f')} m"
        click.echo(
            f"  {r.handover} {r.record_id} {r.change}: mines {_num(r.mines_total_before, 'd')}"
            f" -> {_num(r.mines_total_after, 'd')} (AP {_num(r.mines_ap_before, 'd')} ->"
            f" {_num(r.mines_ap_after, 'd')}, AT {_num(r.mines_at_before, 'd')} ->"
            f" {_num(r.mines_at_after, 'd')}), area {_num(r.area_ha_before, '.2f')} ->"
            f" {_num(r.area_ha_after, '.2f')} ha{moved}"
        )
