"""Terminal output shared by commands (not a command itself)."""

from __future__ import annotations

import click

from minemap.store.gpkg import ImportResult


def _ids(ids: list[str], verbose: int) -> str:
    if not ids:
        return ""
    shown = ids if verbose or len(ids) <= 10 else ids[:10]
    more = "" if len(shown) == len(ids) else f", … ({len(ids) - len(shown)} more; -v lists all)"
    return " (" + ", ".join(shown) + more + ")"


def report_import(ctx: click.Context, result: ImportResult, problems: list, what: str) -> None:
    """The warnings of an import, then its summary line."""
    from minemap.cli.main import echo_problems

    echo_problems([p for p in problems if p.severity == "warning"], quiet=ctx.obj["quiet"])
    print_import(ctx, result, what, result.read)


def print_import(ctx: click.Context, result: ImportResult, what: str, n: int) -> None:
    """One summary line per import, and the ids removed."""
    if result.noop:
        click.echo(f"{what}: {result.noop_reason}")
        return
    v = ctx.obj.get("verbose", 0)
    click.echo(
        f"revision {result.revision}: {what}: {n} read; {len(result.added)} added,"
        f" {len(result.changed)} changed, {len(result.removed)} removed"
    )
    if result.removed:
        click.echo("removed" + _ids(result.removed, v))
    if v and result.added:
        click.echo("added" + _ids(result.added, v))
    if v and result.changed:
        click.echo("changed" + _ids(result.changed, v))
