"""``minemap crossref``."""

from __future__ import annotations

from pathlib import Path

import click

from minemap.cli import options
from minemap.cli.progress import progress


@click.command("crossref")
@options.as_of_opt
@click.option("--by", type=click.Choice(["minefield", "district", "handover"]),
              default="minefield", show_default=True)
@options.revision_opt
@click.option("--records-revision", type=int, default=None, metavar="N",
              help="Take the minefield records as of revision N and everything else from"
              " --revision: how an earlier map fares against today's finds.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the table to .csv (rounded), .xlsx, .geojson or .gpkg.")
@click.option("--from", "date_from", default=None, metavar="D1",
              help="With --to and --by district|handover: the activity from D1 to D2"
              " (period_released_ha, period_cleared_ha, newly_released_ha, period_found_*)"
              " beside the state at D2.")
@click.option("--to", "date_to", default=None, metavar="D2", help="End of the --from period.")
@options.overwrite_opt
@options.json_opt
@click.pass_context
def command(ctx, as_of, by, revision, records_revision, date_from, date_to, output, overwrite,
            as_json):
    """Cross-reference records against land release, finds and reports."""
    if output:
        _check_output(Path(output), overwrite=overwrite)  # before the work, not after
    if (output and Path(output).suffix.lower() == ".csv" and by == "minefield"
            and as_of is None and revision is None and records_revision is None
            and date_from is None and date_to is None and _write_stored(ctx, Path(output),
                                                                        overwrite=overwrite)):
        return
    import pandas as pd

    from minemap.api import crossref

    with progress(ctx) as bar:
        table = crossref(options.get_store(ctx), by=by, as_of=as_of, revision=revision,
                         records_revision=records_revision, progress=bar.stage("crossref"),
                         geometry=bool(output) and not output.endswith((".csv", ".xlsx")),
                         date_from=date_from, date_to=date_to)
        if output:
            with bar.step(f"writing {output}"):
                _write(table, Path(output), overwrite=overwrite)
    if output:
        click.echo(f"wrote {len(table)} rows to {output}")
        return
    from minemap.cli.tables import print_table  # rich's tables: only for the terminal

    plain = pd.DataFrame(table.drop(columns=["geometry"], errors="ignore"))
    title_note = ""
    if as_json:
        click.echo(plain.to_json(orient="records", force_ascii=False, indent=1))
        return
    if by == "minefield":
        # The terminal shows the columns that answer "what remains"; -o and
        # --json give all of them.
        # Sorted by what probably remains, most first: "where are the mines?"
        plain = plain.sort_values("remaining_est", ascending=False, kind="stable")[
            ["record_id", "handover", "district", "mines_total", "area_ha", "released_ha",
             "cleared_ha", "found_mines", "remaining_est", "status"]]
        title_note = " (most remaining first)"
    if date_from or date_to:
        as_of = date_to
    title = (f"crossref by {by}" + (f" from {_iso(date_from)}" if date_from else "")
             + (f" as of {_iso(as_of)}" if as_of else "")
             + (title_note if by == "minefield" else ""))
    if by == "district":
        # The district table ends with its own total row (district ""); the
        # terminal shows the main figures, and the reported ones beside the
        # polygons' for the reported periods (all columns with -o/--json).
        main = [c for c in ("district", "minefields", "mines_recorded", "area_ha",
                            "released_ha", "cleared_ha", "found_ap", "found_at", "found_uxo",
                            "remaining_est", "period_cleared_ha", "newly_released_ha",
                            "reported_ha", "diff_cleared_ha") if c in plain]
        shown = plain[main].copy()
        shown["district"] = shown["district"].replace("", "total")
        print_table(shown, title=title, totals=False, transpose=False)
        return
    # A find or incident can lie in the footprints of several handovers, so
    # those counts are not summed across them.
    print_table(plain, title=title,
                no_total=("found_", "incidents_") if by == "handover" else ())


def _write_stored(ctx, path: Path, *, overwrite: bool) -> bool:
    """Write the stored table when it is current (no geopandas, shapely or pyproj)."""
    from minemap.export.csv import write_table_csv
    from minemap.materialised import stored_crossref

    table = stored_crossref(ctx.obj.get("store"))
    if table is None:
        return False
    with progress(ctx) as bar, bar.step(f"writing {path}"):
        write_table_csv(table, path, overwrite=overwrite)
    click.echo(f"wrote {len(table)} rows to {path}")
    return True


def _iso(value: str) -> str:
    from minemap.records.validate import parse_date

    return parse_date(value).isoformat()


def _check_output(path: Path, *, overwrite: bool) -> None:
    from minemap._errors import UsageError

    if path.suffix.lower() not in (".csv", ".xlsx", ".geojson", ".gpkg"):
        raise UsageError(f"{path}: crossref writes .csv, .xlsx, .geojson or .gpkg")
    if not path.parent.exists():
        raise UsageError(f"output directory does not exist: {path.parent}")
    if path.exists() and not overwrite:
        raise UsageError(f"{path} exists; pass --overwrite to replace it")


def _write(table, path: Path, *, overwrite: bool) -> None:
    import geopandas as gpd
    import pandas as pd

    from minemap._errors import UsageError
    from minemap.export import write, write_table

    ext = path.suffix.lower()
    if ext not in (".csv", ".xlsx", ".geojson", ".gpkg"):
        raise UsageError(f"{path}: crossref writes .csv, .xlsx, .geojson or .gpkg")
    if ext in (".csv", ".xlsx"):
        write_table(pd.DataFrame(table.drop(columns=["geometry"], errors="ignore")), path,
                    overwrite=overwrite, sheet="crossref")
        return
    if not isinstance(table, gpd.GeoDataFrame):
        raise UsageError(f"{path}: this table has no geometry; write .csv")
    write({"crossref": table}, path, overwrite=overwrite)
