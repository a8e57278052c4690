"""Drawing a :class:`~minemap.sheets.content.Sheet` as a PDF with matplotlib.

The map is drawn in the UTM zone of the sheet's centre (grid north up), with
grid lines labelled in MGRS, a scale bar, a north arrow showing true north,
and a legend in the palette every client shares (:mod:`minemap.styles`).
Text is set in DejaVu Sans, which ships with matplotlib and covers
Azerbaijani and Cyrillic, and embedded as TrueType so that a PDF reader can
search it.  Only the object-oriented API is used (no pyplot state).
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import geopandas
import matplotlib
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from minemap import styles
from minemap.geo.crs import utm_crs
from minemap.sheets import grid
from minemap.sheets.content import Sheet, _fmt

#: Paper sizes (inches, portrait).
PAPER_SIZES: dict[str, tuple[float, float]] = {"A4": (8.27, 11.69), "A3": (11.69, 16.54)}
_MAP_BOX = (0.08, 0.40, 0.84, 0.50)   # left, bottom, width, height (figure fraction)
_RC = {"font.family": "DejaVu Sans", "pdf.fonttype": 42, "axes.unicode_minus": False}
_FIRST_ROWS = 22
_PAGE_ROWS = 50
_MARKERS = {"AP": "^", "AT": "s", "UXO": "o"}


def render(sheet: Sheet, path: Path, *, paper: str = "A4", version: str = "") -> int:
    """Write `sheet` to a PDF at `path`; returns the number of pages."""
    size = PAPER_SIZES[paper]
    k = size[0] / PAPER_SIZES["A4"][0]  # text grows with the paper
    with matplotlib.rc_context(_RC), PdfPages(path, metadata=_metadata(sheet)) as pdf:
        fig = Figure(figsize=size)
        utm = _draw_map(fig, sheet, k)
        rows = _table_rows(sheet)
        _draw_header(fig, sheet, k)
        if sheet.tps is not None:
            # A record: its TP table beside its counts and provenance.
            _draw_text(fig, _side_lines(sheet, k, with_provenance=True), 0.58, k)
            _draw_table(fig, rows[0], rows[1][:_FIRST_ROWS], (0.05, 0.05, 0.50, 0.31), k)
            rest = rows[1][_FIRST_ROWS:]
        else:
            # A district or handover: counts and provenance here, the list of
            # its fields on the next pages.
            _draw_text(fig, _side_lines(sheet, k, with_provenance=False), 0.06, k)
            _draw_text(fig, _provenance_lines(sheet, k), 0.52, k)
            rest = rows[1]
        _draw_footer(fig, sheet, utm, k, version)
        pdf.savefig(fig)
        pages = 1
        while rest:
            fig = Figure(figsize=size)
            fig.text(0.05, 0.965, f"{sheet.title} (continued)", fontsize=12 * k,
                     weight="bold")
            if sheet.synthetic:
                fig.text(0.95, 0.965, "SYNTHETIC", color="#b2182b", fontsize=12 * k,
                         weight="bold", ha="right")
            _draw_table(fig, rows[0], rest[:_PAGE_ROWS], (0.05, 0.07, 0.90, 0.86), k)
            _draw_footer(fig, sheet, utm, k, version)
            pdf.savefig(fig)
            pages += 1
            rest = rest[_PAGE_ROWS:]
    return pages


def _metadata(sheet: Sheet) -> dict[str, str]:
    subject = "SYNTHETIC sample data" if sheet.synthetic else "minemap sheet"
    return {"Title": sheet.title, "Subject": subject, "Creator": "minemap"}


def _extent(sheet: Sheet, utm) -> tuple[float, float, float, float]:
    b = sheet.fields.to_crs(utm).total_bounds
    if sheet.tps is not None and len(sheet.tps):
        # The reference point is where a team starts: keep it on the map.
        tps = geopandas.GeoSeries(geopandas.points_from_xy(sheet.tps["lon"], sheet.tps["lat"]),
                                  crs="EPSG:4326").to_crs(utm).total_bounds
        b = (min(b[0], tps[0]), min(b[1], tps[1]), max(b[2], tps[2]), max(b[3], tps[3]))
    w, h = max(b[2] - b[0], 50.0), max(b[3] - b[1], 50.0)
    cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
    return cx - 0.6 * w, cy - 0.6 * h, cx + 0.6 * w, cy + 0.6 * h


def _fit_aspect(ext, box_w_in: float, box_h_in: float):
    x0, y0, x1, y1 = ext
    w, h = x1 - x0, y1 - y0
    ratio = box_w_in / box_h_in
    if w / h < ratio:
        w = h * ratio
    else:
        h = w / ratio
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def _draw_map(fig: Figure, sheet: Sheet, k: float):
    b = sheet.fields.total_bounds
    lon, lat = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
    utm = utm_crs(lon, lat)
    ax = fig.add_axes(_MAP_BOX)
    W, H = fig.get_size_inches()
    box_w, box_h = _MAP_BOX[2] * W, _MAP_BOX[3] * H
    x0, y0, x1, y1 = _fit_aspect(_extent(sheet, utm), box_w, box_h)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    _draw_layers(ax, sheet, utm, k)
    step = grid.grid_step(max(x1 - x0, y1 - y0))
    xs, ys = grid.grid_lines(x0, x1, step), grid.grid_lines(y0, y1, step)
    ax.set_xticks(xs, grid.mgrs_labels(utm, xs, (y0 + y1) / 2, "x", step), fontsize=6.5 * k)
    ax.set_yticks(ys, grid.mgrs_labels(utm, ys, (x0 + x1) / 2, "y", step), fontsize=6.5 * k,
                  rotation=90, va="center")
    ax.grid(True, color="#808080", linewidth=0.4, alpha=0.8)
    ax.set_ylabel("")
    ax.tick_params(top=True, right=True, labeltop=True, labelright=False, length=3)
    zone = utm.utm_zone or ""
    ax.set_xlabel(f"UTM zone {zone} (EPSG:{utm.to_epsg()}), grid {step:,} m; labels: MGRS "
                  f"100 km square and grid digits", fontsize=7 * k)
    _scale_bar(ax, x0, y0, x1, y1, k, box_w)
    _north_arrow(ax, utm, lon, lat, x0, y0, x1, y1, k)
    _legend(ax, sheet, k)
    if sheet.synthetic:
        ax.text(0.5, 0.5, "SYNTHETIC", transform=ax.transAxes, fontsize=60 * k,
                color="#b2182b", alpha=0.12, rotation=30, ha="center", va="center",
                weight="bold", zorder=0)
    return utm


def _draw_layers(ax, sheet: Sheet, utm, k: float) -> None:
    if len(sheet.releases):
        rel = sheet.releases.to_crs(utm)
        for outcome, part in rel.groupby(rel["outcome"].astype(str)):
            colour = styles.OUTCOME.get(outcome, "#999999")
            part.plot(ax=ax, facecolor=colour, edgecolor=colour, alpha=0.35, linewidth=0.6,
                      hatch="///", zorder=2)
    fields = sheet.fields.to_crs(utm)
    for status, part in fields.groupby(fields["status"].astype(str)):
        colour = styles.STATUS.get(status, styles.REVIEW)
        part.plot(ax=ax, facecolor=colour, edgecolor="none", alpha=0.35, zorder=3)
        part.boundary.plot(ax=ax, color=colour, linewidth=1.3, zorder=4)
    if len(sheet.items):
        its = sheet.items.to_crs(utm)
        for kind, part in its.groupby(its["item_type"].astype(str)):
            ax.scatter(part.geometry.x, part.geometry.y, s=14 * k, marker=_MARKERS.get(kind, "o"),
                       color=styles.ITEM.get(kind, "#525252"), edgecolor="white",
                       linewidth=0.4, zorder=6)
    if sheet.tps is not None and len(sheet.tps):
        tps = geopandas.GeoDataFrame(sheet.tps, geometry=geopandas.points_from_xy(
            sheet.tps["lon"], sheet.tps["lat"]), crs="EPSG:4326").to_crs(utm)
        for row, g in zip(sheet.tps.itertuples(), tps.geometry):
            ref = row.point_type == "reference"
            ax.plot(g.x, g.y, marker="^" if ref else "o", markersize=(5 if ref else 3) * k,
                    color="black", zorder=7)
            ax.annotate(row.label, (g.x, g.y), xytext=(3, 3), textcoords="offset points",
                        fontsize=6.5 * k, zorder=8,
                        bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                              "alpha": 0.7})
    if 1 < len(sheet.fields) <= 30:
        for rid, g in zip(fields["record_id"], fields.geometry.representative_point()):
            ax.annotate(str(rid), (g.x, g.y), fontsize=5 * k, ha="center", zorder=8)


def _scale_bar(ax, x0, y0, x1, y1, k: float, box_w_in: float) -> None:
    length = grid.bar_length(x1 - x0)
    bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    bh = 0.012 * (y1 - y0)
    ax.add_patch(Rectangle((bx - 0.01 * (x1 - x0), by - 2.4 * bh), length + 0.02 * (x1 - x0),
                           4.6 * bh, facecolor="white", edgecolor="none", alpha=0.85,
                           zorder=9))
    for i in range(4):
        ax.add_patch(Rectangle((bx + i * length / 4, by), length / 4, bh, zorder=10,
                               facecolor="black" if i % 2 == 0 else "white",
                               edgecolor="black", linewidth=0.6))
    for frac in (0, 0.5, 1):
        label = f"{int(length * frac):,}" + (" m" if frac == 1 else "")
        ax.text(bx + length * frac, by - 0.4 * bh, label, ha="center", va="top",
                fontsize=6.5 * k, zorder=10)
    n = grid.nice_scale(grid.scale_denominator(x1 - x0, box_w_in * 0.0254))
    ax.text(bx, by + 1.5 * bh, f"1:{n:,} (grid distances)", fontsize=6.5 * k, zorder=10)


def _north_arrow(ax, utm, lon, lat, x0, y0, x1, y1, k: float) -> None:
    angle = grid.true_north_angle(utm, lon, lat)
    length = 0.08 * (y1 - y0)
    cx, cy = x1 - 0.07 * (x1 - x0), y1 - 0.16 * (y1 - y0)
    dx, dy = length * math.sin(math.radians(angle)), length * math.cos(math.radians(angle))
    ax.annotate("", xy=(cx + dx, cy + dy), xytext=(cx, cy), zorder=10,
                arrowprops={"arrowstyle": "-|>,head_width=0.4,head_length=0.8",
                            "color": "black", "linewidth": 1.5})
    ax.text(cx + dx * 1.15, cy + dy * 1.15, "N", ha="center", va="bottom",
            fontsize=11 * k, weight="bold", zorder=10)
    side = "east" if angle > 0 else "west"
    ax.text(cx, cy - 0.02 * (y1 - y0), f"true north\n{abs(angle):.2f}° {side} of grid",
            ha="center", va="top", fontsize=5.5 * k, zorder=10)


def _legend(ax, sheet: Sheet, k: float) -> None:
    handles = [Patch(facecolor=c, edgecolor=c, alpha=0.6, label=s.replace("_", " "))
               for s, c in styles.STATUS.items()]
    if len(sheet.releases):
        shown = set(sheet.releases["outcome"].astype(str))
        handles += [Patch(facecolor=c, edgecolor=c, alpha=0.35, hatch="///",
                          label=f"released: {o}") for o, c in styles.OUTCOME.items()
                    if o in shown]
    if len(sheet.items):
        shown = set(sheet.items["item_type"].astype(str))
        handles += [Line2D([], [], linestyle="none", marker=_MARKERS[t], color=c,
                           label=f"found {t}") for t, c in styles.ITEM.items() if t in shown]
    if sheet.tps is not None and len(sheet.tps):
        handles.append(Line2D([], [], linestyle="none", marker="o", color="black",
                              markersize=3, label="turning point"))
        if (sheet.tps["point_type"] == "reference").any():
            handles.append(Line2D([], [], linestyle="none", marker="^", color="black",
                                  label="reference point"))
    ax.legend(handles=handles, loc="lower right", fontsize=6.5 * k, framealpha=0.9,
              title="legend", title_fontsize=7 * k)


def _draw_header(fig: Figure, sheet: Sheet, k: float) -> None:
    fig.text(0.05, 0.965, sheet.title, fontsize=16 * k, weight="bold", va="center")
    fig.text(0.05, 0.94, sheet.subtitle, fontsize=9 * k, va="center")
    fig.text(0.95, 0.965, f"printed {sheet.printed}", fontsize=8 * k, ha="right",
             va="center")
    fig.text(0.95, 0.945, sheet.state, fontsize=7 * k, ha="right", va="center")
    if sheet.synthetic:
        fig.text(0.5, 0.925, "SYNTHETIC — sample data, not real minefield records",
                 fontsize=10 * k, color="#b2182b", weight="bold", ha="center", va="center")


def _table_rows(sheet: Sheet) -> tuple[list[str], list[list[str]]]:
    if sheet.tps is not None:
        t = sheet.tps
        head = ["TP", "lat", "lon", "MGRS", "UTM E", "UTM N"]
        rows = [[r.label, f"{r.lat:.6f}", f"{r.lon:.6f}", _mgrs_spaced(r.mgrs),
                 f"{r.utm_zone} {r.utm_easting:,.1f}", f"{r.utm_northing:,.1f}"]
                for r in t.itertuples()]
        return head, rows
    t = sheet.records if sheet.records is not None else pd.DataFrame()
    head = [str(c).replace("_", " ") for c in t.columns]
    rows = [[_fmt(v, str(c)) for c, v in zip(t.columns, row)]
            for row in t.itertuples(index=False)]
    return head, rows


def _mgrs_spaced(ref: str) -> str:
    """``38SNK6477328431`` → ``38S NK 64773 28431`` (as printed on maps)."""
    digits = len(ref) - 5
    if digits < 2 or digits % 2:
        return ref
    half = digits // 2
    return f"{ref[:3]} {ref[3:5]} {ref[5:5 + half]} {ref[5 + half:]}"


def _draw_table(fig: Figure, head: list[str], rows: list[list[str]], box, k: float) -> None:
    ax = fig.add_axes(box)
    ax.axis("off")
    if not rows:
        return
    table = ax.table(cellText=rows, colLabels=head, loc="upper left", cellLoc="left",
                     colLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(6.5 * k)
    table.auto_set_column_width(list(range(len(head))))
    height = min(1.0 / (len(rows) + 1), 0.05)
    for (r, _), cell in table.get_celld().items():
        cell.set_height(height)
        cell.set_linewidth(0.3)
        if r == 0:
            cell.set_text_props(weight="bold")
            cell.set_facecolor("#eeeeee")


def _provenance_lines(sheet: Sheet, k: float) -> list[tuple[str, bool]]:
    lines = [("provenance", True)]
    for p in sheet.provenance:
        wrapped = textwrap.wrap(p, width=int(52 * k)) or [""]
        lines += [(w, False) for w in wrapped]
    return lines


def _side_lines(sheet: Sheet, k: float, *, with_provenance: bool) -> list[tuple[str, bool]]:
    lines = [("counts", True)] + [(f"{a}: {b}", False) for a, b in sheet.counts]
    if with_provenance:
        lines += [("", False)] + _provenance_lines(sheet, k)
    return lines


def _draw_text(fig: Figure, lines: list[tuple[str, bool]], x: float, k: float) -> None:
    y = 0.355
    step = 0.0125
    for text, bold in lines:
        if y < 0.07:
            break
        fig.text(x, y, text, fontsize=(7.5 if bold else 6.5) * k,
                 weight="bold" if bold else "normal", va="top")
        y -= step


def _draw_footer(fig: Figure, sheet: Sheet, utm, k: float, version: str) -> None:
    text = (f"minemap {version} · {sheet.state} · printed {sheet.printed} · coordinates WGS84 "
            f"(EPSG:4326); UTM {utm.utm_zone} (EPSG:{utm.to_epsg()}); MGRS to 1 m")
    fig.text(0.05, 0.025, text, fontsize=5.5 * k, color="#404040")
    if sheet.notes:
        fig.text(0.05, 0.012, "note: " + "; ".join(sheet.notes), fontsize=5.5 * k,
                 color="#b2182b")

