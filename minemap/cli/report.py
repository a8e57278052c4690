"""Terminal output shared by commands (not a command itself)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from minemap._errors import Problem, problem_kind

if TYPE_CHECKING:  # the store pulls in geopandas; only its type is needed here
    from minemap.store import ImportResult

#: Warnings of one kind printed before the rest are summed up in one line.
SHOWN_PER_KIND = 20

# The validate --kind that runs the checks of each import command.
_VALIDATE_KIND = {"import-records": "records", "import-clearance": "clearance",
                  "import-incidents": "incidents", "import-report": "reports"}
# Import options that validate takes too and that change what it finds.
_VALIDATE_OPTIONS = ("handover", "handover_date", "layer", "crs", "repair")


def _ids(ids: list[str], verbose: int) -> str:
    if not ids:
        return ""
    shown = ids if verbose or len(ids) <= 10 else ids[:10]
    more = "" if len(shown) == len(ids) else f", … ({len(ids) - len(shown)} more; -v lists all)"
    return " (" + ", ".join(shown) + more + ")"


def echo_warnings(problems: Sequence[Problem], *, every: bool = False,
                  hint: str | None = None) -> None:
    """Print warnings to stderr: the first 20 of each kind, then how many more.

    Parameters
    ----------
    problems
        Problems in the order found; errors among them are ignored here.
    every
        Print every warning (``validate --all``).
    hint
        The command that lists them all, named in each summary line.
    """
    counts: dict[str, int] = {}
    for p in problems:
        if p.severity != "warning":
            continue
        kind = problem_kind(p)
        counts[kind] = counts.get(kind, 0) + 1
        if every or counts[kind] <= SHOWN_PER_KIND:
            click.echo(f"warning: {p}", err=True)
    for kind, n in counts.items():
        more = 0 if every else n - SHOWN_PER_KIND
        if more > 0:
            s = "" if more == 1 else "s"
            click.echo(f"… and {more:,} more {kind} warning{s}"
                       + (f"; {hint} lists them all" if hint else ""), err=True)


def validate_hint(ctx: click.Context) -> str | None:
    """The ``minemap validate --all`` command line that repeats an import's checks.

    ``None`` for the commands that validate does not cover.
    """
    kind = _VALIDATE_KIND.get(ctx.info_name or "")
    if kind is None:
        return None
    params = ctx.params
    args = ["minemap", "validate"] + (["--kind", kind] if kind != "records" else [])
    if kind != "reports":  # validate takes no options for report texts
        for name in _VALIDATE_OPTIONS:
            if params.get(name):
                args += ["--" + name.replace("_", "-"), str(params[name])]
        for field, column in (params.get("column_map") or {}).items():
            args += ["--map", f"{field}={column}"]
        if params.get("accept_misclosure"):
            args.append("--accept-misclosure")
    args.append("--all")
    args += [str(f) for f in params.get("sources") or params.get("files") or ()]
    return f"`{shlex.join(args)}`"


def write_warnings(path: str | Path, problems: Sequence[Problem], *,
                   overwrite: bool = False) -> int:
    """Write every warning as CSV or XLSX (file, record, kind, message); return how many.

    Written like every table (:func:`minemap.export.write_table`): refused
    over an existing file without ``overwrite``, atomically, with cells a
    spreadsheet would run neutralised.
    """
    import pandas as pd

    from minemap.export import write_table

    rows = [(p.file, p.record, problem_kind(p),
             p.message if p.leg is None else f"leg {p.leg}: {p.message}")
            for p in problems if p.severity == "warning"]
    write_table(pd.DataFrame(rows, columns=["file", "record", "kind", "message"]), path,
                overwrite=overwrite, sheet="warnings")
    return len(rows)


def report_import(ctx: click.Context, result: ImportResult, problems: list, what: str) -> None:
    """The warnings of an import (summarised by kind; all with -v), then its summary line."""
    if not ctx.obj["quiet"]:
        echo_warnings(problems, every=bool(ctx.obj.get("verbose")), hint=validate_hint(ctx))
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
