"""The demo: a store built from ``sample_maps/``, then every output.

It follows ``sample_maps/manifest.json`` (written by the sample generator),
so the import plan lives beside the data it describes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

from minemap._errors import UsageError
from minemap.store import Store, is_url


def find_samples(samples: str | os.PathLike | None = None) -> Path:
    """The sample_maps folder: given, ``./sample_maps``, or the repository's."""
    candidates = [Path(samples)] if samples else [
        Path("sample_maps"), Path(__file__).resolve().parents[1] / "sample_maps"
    ]
    for c in candidates:
        if (c / "manifest.json").exists():
            return c
    raise UsageError(f"no sample_maps/manifest.json found (looked in "
                     f"{', '.join(map(str, candidates))})")


def run_demo(
    outdir: str | os.PathLike,
    *,
    samples: str | os.PathLike | None = None,
    store: str | os.PathLike | None = None,
    offline: bool = True,
    overwrite: bool = False,
) -> Iterator[str]:
    """Import the samples into a fresh store and write the outputs.

    Yields
    ------
    str
        One line per step, for the terminal.
    """
    from minemap import api, imports
    from minemap.export import write_table, write_table_csv
    from minemap.render.page import save_map

    src = find_samples(samples)
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    if store and is_url(store):
        # A database is never emptied by the demo: it must hold no store yet.
        st = Store(str(store))
        if st.exists() and st.latest_revision():
            raise UsageError(f"{st.location} holds a store; the demo builds a fresh store"
                             " (give an empty database)")
    else:
        store_path = Path(store) if store else out / "minemap.gpkg"
        if store_path.exists():
            if not overwrite:
                raise UsageError(f"{store_path} exists; the demo builds a fresh store"
                                 " (pass --overwrite to replace it)")
            store_path.unlink()
        st = Store(store_path)
    manifest = json.loads((src / "manifest.json").read_text())
    for step in manifest["steps"]:
        files = [src / s for s in step["sources"]]
        kind = step["kind"]
        if kind == "districts":
            res, _ = imports.import_districts(files[0], store=st,
                                              name_field=step.get("name_field"))
            what = "districts"
        elif kind == "records":
            res, _ = imports.import_records(
                files, store=st, handover=step["handover"],
                handover_date=step.get("handover_date"), layer=step.get("layer"),
                allow_removals=step.get("allow_removals", False),
            )
            what = f"handover {step['handover']}" + (f" ({step['note']})" if step.get("note")
                                                     else "")
        elif kind == "clearance":
            res, _ = imports.import_clearance(files, store=st)
            what = "clearance"
        elif kind == "incidents":
            res, _ = imports.import_incidents(files, store=st)
            what = "incidents"
        elif kind == "reports":
            res, _ = imports.import_report(files, store=st)
            what = "weekly reports"
        else:
            raise UsageError(f"manifest.json: unknown step kind {kind!r}")
        yield (f"revision {res.revision}: {what}: {len(res.added)} added, {len(res.changed)}"
               f" changed, {len(res.removed)} removed")

    m = api.render_map(st, offline=offline)
    for w in save_map(m, out / "map.html", overwrite=overwrite):
        yield f"warning: {w}"
    yield f"wrote {out / 'map.html'}"
    for by in ("minefield", "district", "handover"):
        path = out / f"crossref_by_{by}.csv"
        write_table_csv(api.crossref(st, by=by, geometry=False), path, overwrite=overwrite)
        yield f"wrote {path}"
    path = out / "crossref_by_district.xlsx"
    write_table(api.crossref(st, by="district"), path, overwrite=overwrite, sheet="district")
    yield f"wrote {path}"
    path = out / "reports_reconciliation.csv"
    write_table_csv(api.reconcile(st), path, overwrite=overwrite)
    yield f"wrote {path}"
    exports = [
        ("minefields.geojson", ["minefields"], {}),
        ("crossref.geojson", ["crossref"], {}),
        ("minemap_layers.gpkg", ["crossref", "clearance", "items", "incidents", "districts",
                                 "mine_rows"], {}),
        ("minefields_shp.zip", ["crossref"], {}),
        ("minefields.kml", ["crossref"], {}),
        ("turning_points.gpx", ["minefields"], {}),
        ("minefields_hxl.csv", ["crossref"], {"hxl": True}),
        ("turning_points.csv", ["vertices"], {}),
        ("crossref_sk42.gpkg", ["crossref"], {"crs": "SK-42", "district": "Aghdam"}),
        ("aghdam_in_progress.geojson", ["crossref"], {"district": "Aghdam",
                                                       "status": "in_progress"}),
        ("remaining_hazard.geojson", ["remaining"], {}),
    ]
    for name, layers, opts in exports:
        for w in api.export(out / name, store=st, layers=layers, overwrite=overwrite, **opts):
            yield f"warning: {w}"
        yield f"wrote {out / name}"
    # How accurate was each map (DESIGN §13): the shift estimates and the
    # suspected areas beyond every map.
    path = out / "offsets.csv"
    write_table_csv(api.offsets(st), path, overwrite=overwrite)
    yield f"wrote {path}"
    from minemap.export import write

    path = out / "suspects.geojson"
    for w in write({"suspects": api.suspects(st)}, path, overwrite=overwrite):
        yield f"warning: {w}"
    yield f"wrote {path}"
    # Printable sheets: one traverse record (its TPs in the record's order)
    # and one district.
    for name, opts in (("sheet_GUB-0101.pdf", {"record": "GUB-0101"}),
                       ("sheet_district_Shusha.pdf", {"district": "Shusha"})):
        api.sheet(out / name, store=st, overwrite=overwrite, **opts)
        yield f"wrote {out / name}"
