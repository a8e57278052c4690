"""The interactive map (DESIGN §7): a folium map of the store's frames.

The render package is the only part of minemap that imports folium.  Its parts:

* :mod:`~minemap.render.payload`: the frames as one escaped JSON object (the
  feature data, raw values, compact column-wise encoding, the palette);
* :mod:`~minemap.render.plugins`: the Leaflet plugins, one per module, each
  declaring its pinned files (heat, fullscreen, mouse position with MGRS,
  drawing, geodesic measure, marker clusters), and minemap's own JS, which
  only does what no plugin does (the escaped data layers, legend, timeline,
  the draw handler that exports the fields a drawn shape intersects);
* :mod:`~minemap.render.assets`: how a file enters a page (inlined offline,
  else loaded from jsDelivr at the same version with its integrity hash);
* :mod:`~minemap.render.basemap`: ``--basemap`` (online tiles, a tile folder,
  an ``.mbtiles`` file; local tiles inlined offline up to a cap).

Why our own layer code instead of ``folium.GeoJson`` with ``GeoJsonPopup``:
folium's popups insert values as raw HTML, ours set ``textContent`` only (a
record id ``<img src=x onerror=…>`` shows as text); folium renders a
``MacroElement`` through Jinja a second time, so data in a template would be
evaluated (``{{ … }}`` in a record id), whereas the data block here is a raw
element that is never templated; and one style per class with column-wise
properties keeps 50,000 fields within the size budget.
"""

from __future__ import annotations

import html
import math
import os
import re
from pathlib import Path
from typing import Any

import folium
import numpy as np
import pandas as pd
from folium.utilities import JsCode

from minemap import settings
from minemap._errors import UsageError
from minemap.export.common import is_write_error, remove_stale_temporaries, temp_name, write_error
from minemap.geo import districts as _districts
from minemap.records.schema import OUTCOMES, STATUSES
from minemap.render import basemap as _basemap
from minemap.render.payload import build_payload, check_layers, display_geometry, embed_json
from minemap.render.plugins import PLUGINS, MinemapLayers

__all__ = ["render_map", "save_map", "filter_frames", "display_geometry", "embed_json",
           "remote_references", "libraries", "SMALL_SCREEN"]

#: The layer control starts collapsed on screens this small or smaller
#: (width, height in CSS pixels): expanded, it would cover a quarter of them.
SMALL_SCREEN = (1280, 720)


def libraries() -> list[str]:
    """``name version (licence)`` of every library a page holds, minemap's own code last."""
    labels = [a.label for p in (*PLUGINS, MinemapLayers) for a in p.default_js]
    return list(dict.fromkeys(labels))


def _canonical(values: pd.Series) -> pd.Series:
    return values.map(lambda v: _districts.normalise(v) if isinstance(v, str) and v else None)


def filter_frames(
    frames: dict[str, Any],
    *,
    district: str | None = None,
    handover: str | None = None,
    status: str | None = None,
    mine_positions: bool = True,
) -> dict[str, Any]:
    """Keep part of the map's frames (``minemap map --district/--handover/--status``).

    Parameters
    ----------
    frames
        The frames of :func:`minemap.api.map_frames` (``minefields``,
        ``releases``, ``items``, ``rows``, ``mine_positions``, ``incidents``,
        ``districts``, ``timeline``); not modified.
    district
        Any spelling of a district name (:func:`minemap.geo.districts.normalise`):
        keeps the minefields, releases, items and incidents of that district.
    handover
        Keeps the minefields of that handover.
    status
        ``not_started``, ``in_progress`` or ``released``: keeps those fields.
    mine_positions
        False leaves out the estimated mine positions.

    Returns
    -------
    dict
        The same keys.  Mine rows, mine positions and the timeline keep only
        the rows of the minefields kept; district outlines are all kept.

    Raises
    ------
    UsageError
        An unknown district, handover or status.
    """
    out = dict(frames)
    fields = out["minefields"]
    keep = np.ones(len(fields), dtype=bool)
    canon = None
    if district is not None:
        canon = _districts.normalise(district)
        if canon is None:
            raise UsageError(f"--district {district!r}: unknown; choose one of "
                             f"{', '.join(_districts.CANONICAL)}")
        keep &= (_canonical(fields["district"]) == canon).to_numpy()
    if handover is not None:
        known = sorted(set(fields["handover"].astype(str)))
        if handover not in known:
            raise UsageError(f"--handover {handover!r}: unknown; choose one of "
                             f"{', '.join(known) or '(none)'}")
        keep &= (fields["handover"].astype(str) == handover).to_numpy()
    if status is not None:
        if status not in STATUSES:
            raise UsageError(f"--status {status!r}: choose one of {', '.join(STATUSES)}")
        keep &= (fields["status"] == status).to_numpy()
    filtered = not keep.all()
    if filtered:
        fields = fields[keep].reset_index(drop=True)
        out["minefields"] = fields
        kept = set(zip(fields["handover"].astype(str), fields["record_id"].astype(str)))

        def mine(df: Any) -> Any:
            if df is None or len(df) == 0:
                return df
            pairs = zip(df["handover"].astype(str), df["record_id"].astype(str))
            return df[np.fromiter((p in kept for p in pairs), dtype=bool, count=len(df))]

        out["timeline"] = mine(out.get("timeline"))
        rows = mine(out.get("rows"))
        out["rows"] = rows
        if out.get("mine_positions") is not None and mine_positions:
            # Positions carry no handover: recompute them from the rows kept.
            from minemap.readers.traverse import mine_positions as _positions

            out["mine_positions"] = _positions(rows) if rows is not None and len(rows) else None
    if canon is not None:
        for name in ("releases", "items", "incidents"):
            df = out.get(name)
            if df is not None and len(df) and "district" in df.columns:
                out[name] = df[(_canonical(df["district"]) == canon).to_numpy()]
    if not mine_positions:
        out["mine_positions"] = None
    return out


def _online_tiles(m: folium.Map, bm: _basemap.Basemap) -> None:
    if bm.kind == "online":
        if "osm" in bm.name:
            folium.TileLayer("OpenStreetMap", name="OpenStreetMap", control=True).add_to(m)
        if "esri" in bm.name:
            folium.TileLayer("Esri.WorldImagery", name="Imagery (Esri World Imagery)",
                             control=True).add_to(m)
    elif bm.kind == "url":
        folium.TileLayer(bm.name, name="Basemap", attr="Basemap tiles", control=True).add_to(m)
    elif bm.kind == "folder":
        url = bm.root.resolve().as_uri() + "/" + bm.template
        folium.TileLayer(url, name=html.escape(f"Local basemap ({bm.label})"),
                         attr=html.escape(f"Basemap: {bm.label} (local tiles)"), control=True,
                         min_native_zoom=bm.min_zoom, max_native_zoom=bm.max_zoom,
                         max_zoom=22).add_to(m)


def render_map(
    minefields: Any,
    *,
    releases: Any = None,
    items: Any = None,
    rows: Any = None,
    mine_positions: Any = None,
    incidents: Any = None,
    districts: Any = None,
    remaining: Any = None,
    suspects: Any = None,
    shifted: Any = None,
    timeline: pd.DataFrame | None = None,
    offline: bool = False,
    basemap: str | None = None,
    title: str = "minemap",
    display_tolerance_m: float | None = None,
    choropleth: bool = False,
) -> folium.Map:
    """Build the interactive map (DESIGN §7, §12).

    Parameters
    ----------
    minefields
        GeoDataFrame (EPSG:4326) of recorded minefields with the crossref
        columns (``status``, ``released_pct``, ``remaining_est`` …) and
        ``revision``.  Every column but ``raw`` is embedded and exported by
        the draw-and-export control.
    releases, items, rows, mine_positions, incidents, districts
        Optional GeoDataFrames of the other layers (see ``minemap.records.schema``);
        ``mine_positions`` has ``record_id, row, n, mine_type``.  The district
        choropleth sums ``remaining_est`` of the minefields per district.
    remaining, suspects, shifted
        Optional polygon layers, each drawn (and in the legend) only when
        given: ``remaining`` each field minus its released land
        (``record_id, handover, remaining_est, status`` …, §12), ``suspects``
        suspected hazard areas (``suspect_id, found_ap, found_at, found_uxo,
        incidents, killed, injured`` …, §13) and ``shifted`` the outlines
        ``minemap offsets`` proposes (``record_id, handover, dx_m, dy_m`` …),
        dashed beside the recorded ones.  Popups list every column, as text.
    timeline
        DataFrame ``handover, record_id, date, status, released_pct``: each
        field's state from each date on.  A field without rows keeps its
        current status throughout; a field with rows is ``not_started``
        before its first one.  The slider steps by week from the earliest to
        the latest date and starts at the latest (the current state); at a
        past date releases (by ``date_end``), items and incidents dated later
        are hidden.
    offline
        Inline every library and local tile: the page makes no network
        request.  Online, libraries load from jsDelivr at the same pinned
        versions, with their integrity hashes.
    basemap
        ``None`` (OpenStreetMap and Esri imagery online, nothing offline),
        ``"none"``, ``"osm"``, ``"esri"``, a ``{z}/{x}/{y}`` tile folder (or
        template ``"path/{z}/{x}/{y}.png"``), an ``.mbtiles`` file, or (online
        only) a tile URL template.  See :mod:`minemap.render.basemap`.
    title
        Shown on the map and as the page title.
    display_tolerance_m
        Display simplification in metres (``settings.display_tolerance_m`` if
        None).  A field is drawn with its recorded geometry (rounded to 6
        decimals, ≤ 0.08 m) when that has no more vertices than the
        simplified one and the tolerance is ≥ 0.08 m; otherwise with the
        simplified outward geometry, which contains the record.
    choropleth
        Show the district choropleth of remaining mines when the map opens
        (it needs ``districts``, and is in the layer control either way).

    Returns
    -------
    folium.Map
        Displays in Jupyter; write it with :func:`save_map`.

    Raises
    ------
    DataError
        A record without drawable geometry, an unknown status or outcome, or
        missing columns; the message names the file and the record.
    UsageError
        A basemap that does not exist, or an online basemap asked for an
        offline map.
    """
    tol = settings.display_tolerance_m if display_tolerance_m is None else float(display_tolerance_m)
    if not math.isfinite(tol) or tol < 0:
        raise UsageError(f"display_tolerance_m must be a non-negative number, not {tol}")
    bm = _basemap.check_basemap(basemap, offline=offline)
    fields, layers = check_layers(minefields, {
        "releases": releases, "items": items, "rows": rows, "positions": mine_positions,
        "incidents": incidents, "districts": districts, "remaining": remaining,
        "suspects": suspects, "shifted": shifted})
    data, warnings = build_payload(fields, layers, timeline=timeline, tolerance_m=tol, title=title)
    inline = bm.kind == "mbtiles" or (bm.kind == "folder" and offline)
    if inline and "bounds" in data:
        data["basemap"], bm_warn = _basemap.inline_tiles(bm, tuple(data["bounds"]))
        warnings += bm_warn
    elif bm.kind != "none":
        data["basemap"] = {"attribution": "online tiles" if bm.kind in ("online", "url")
                           else f"{bm.label} (local tiles)"}

    m = folium.Map(location=[40.0, 46.9], zoom_start=9, tiles=None, prefer_canvas=True,
                   control_scale=True)
    # The plugins add Leaflet and their own files; folium's CDN links
    # (Leaflet, jQuery, Bootstrap, Font Awesome, awesome-markers) are not needed.
    m.default_js = []
    m.default_css = []
    for plugin in PLUGINS:
        plugin(offline=offline).add_to(m)
    if not inline:
        _online_tiles(m, bm)

    groups: dict[str, folium.FeatureGroup] = {}

    def group(key: str, label: str, show: bool = True) -> None:
        # Leaflet writes layer-control labels as HTML: escape them.
        fg = folium.FeatureGroup(name=html.escape(label), show=show)
        fg.add_to(m)
        groups[key] = fg

    if inline and data.get("basemap", {}).get("tiles"):
        group("basemap", f"Basemap: {bm.label}")
    _groups(group, data, fields, layers, choropleth)
    MinemapLayers(data, {k: g.get_name() for k, g in groups.items()}, libraries(),
                  offline=offline).add_to(m)
    small = JsCode(f"(window.innerWidth <= {SMALL_SCREEN[0]} || window.innerHeight <= {SMALL_SCREEN[1]})")
    folium.LayerControl(collapsed=small).add_to(m)
    m._minemap = {"offline": bool(offline), "warnings": warnings, "title": str(title)}
    return m


def _groups(group: Any, data: dict[str, Any], fields: Any, layers: dict[str, Any],
            choropleth: bool) -> None:
    """One folium FeatureGroup per layer the page holds, in the layer control's order."""
    counts = fields["status"].value_counts()
    if "districts" in data:
        # Off unless asked for: under the fields its fill would tint their
        # status colours.
        group("choropleth", "Districts: remaining mines (choropleth)", show=bool(choropleth))
    if "releases" in data:
        oc = layers["releases"]["outcome"].value_counts()
        for o in OUTCOMES:
            group(f"releases_{o}", f"Land release: {o} ({int(oc.get(o, 0))})")
    for s in STATUSES:
        group(f"fields_{s}", f"Minefields: {s.replace('_', ' ')} ({int(counts.get(s, 0))})")
    group("review", "Minefields for review (self-intersecting, misclosure)", show=False)
    if "remaining" in data:
        group("remaining", f"Remaining hazard ({len(layers['remaining'])})")
    if "shifted" in data:
        group("shifted", f"Proposed shifted outlines ({len(layers['shifted'])})")
    if "suspects" in data:
        group("suspects", f"Suspected hazard areas ({len(layers['suspects'])})")
    if "rows" in data:
        group("rows", "Mine rows")
    if "positions" in data:
        group("positions", "Estimated mine positions")
    if "items" in data:
        group("items", f"Found items ({len(layers['items'])})")
    if "incidents" in data:
        group("incidents", f"Incidents ({len(layers['incidents'])})")
    if "districts" in data:
        group("districts", "Districts: outlines and labels")
    group("heat", "Remaining mine density (heat)", show=False)


_REMOTE = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*?\b(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", re.I)


def remote_references(page: str) -> list[str]:
    """``<script src>``/``<link href>`` (and img/iframe) that point at the network."""
    return [m.group(0) for m in _REMOTE.finditer(page)]


def save_map(m: folium.Map, path: str | os.PathLike, *, overwrite: bool = False) -> list[str]:
    """Write the map as one HTML file.

    Parameters
    ----------
    m
        A map from :func:`render_map`.
    path
        Output ``.html`` file.
    overwrite
        Replace an existing file.

    Returns
    -------
    list of str
        Warnings: size above ``settings.html_budget_mb``, timeline records not
        found, remote references in an offline map.

    Raises
    ------
    UsageError
        If ``path`` exists and ``overwrite`` is false, or its folder does not
        exist.
    """
    path = Path(path)
    parent = path.parent
    if not parent.is_dir():
        raise UsageError(f"output directory does not exist: {parent}")
    if path.exists() and not overwrite:
        raise UsageError(f"{path}: already exists (use --overwrite to replace it)")
    meta = getattr(m, "_minemap", {})
    warnings = list(meta.get("warnings", []))
    page = m.get_root().render()
    data = page.encode("utf-8")
    size_mb = len(data) / 1e6
    if size_mb > settings.html_budget_mb:
        warnings.append(
            f"{path.name} is {size_mb:.1f} MB, above html_budget_mb={settings.html_budget_mb:g}: "
            "raise --display-tolerance (e.g. 5), filter the fields with --district, --handover "
            "or --status, or leave out mine positions with --no-mine-positions (in Python: "
            "display_tolerance_m=, filter_frames(), mine_positions=None)")
    if meta.get("offline"):
        remote = remote_references(page)
        if remote:
            warnings.append(f"{path.name}: offline map still references the network: "
                            + "; ".join(remote[:3]))
    # The exports' recognisable temporaries: a killed run's leftovers are
    # removed by the next run into this folder (issue 15).
    remove_stale_temporaries(parent)
    tmp = parent / temp_name(path.name)
    # os.open with 0o666 lets the umask decide the permissions (a map is not
    # private), as a plain open() would.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if not overwrite and path.exists():
            raise UsageError(f"{path}: already exists (use --overwrite to replace it)")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if is_write_error(exc):
            raise write_error(path, exc) from None
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return warnings
