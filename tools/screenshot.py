"""Screenshot of a minemap HTML map, via headless Chromium (docs/map.png).

Usage::

    python tools/screenshot.py MAP.html [-o docs/map.png] [--width 1400 --height 900]
    python tools/screenshot.py --demo [-o docs/map.png]   # renders a small map first

Network requests are aborted, so the picture is what an offline user sees
(online basemap tiles, if the map has any, stay blank).  Waits until the
map's layers are built (``window.minemap.ready``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def screenshot(html: Path, out: Path, *, width: int = 1400, height: int = 900,
               popup: bool = True) -> Path:
    """Write a PNG of ``html`` to ``out`` and return ``out``.

    Parameters
    ----------
    html
        A map written by ``minemap map`` or ``minemap.render.page.save_map``.
    out
        PNG to write (its folder is created).
    width, height
        Viewport in CSS pixels.
    popup
        Open the popup of the first minefield, to show one in the picture.
    """
    from playwright.sync_api import sync_playwright

    out.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:"))
                   else r.abort())
        page.goto(Path(html).resolve().as_uri())
        page.wait_for_function("window.minemap && window.minemap.ready", timeout=120_000)
        if popup and page.evaluate("minemap.fields.length"):
            page.evaluate("minemap.openPopup('fields', 0)")
        page.wait_for_timeout(600)  # popup fade-in and canvas paint
        page.screenshot(path=str(out))
        browser.close()
    return out


def _demo_map(path: Path) -> Path:
    """A small map of synthetic fields, for when no store is at hand."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_map import synthetic_fields

    from minemap.render.page import render_map, save_map

    fields = synthetic_fields(4000, seed=5)
    fields = fields.cx[46.85:47.0, 39.9:40.0] if len(fields.cx[46.85:47.0, 39.9:40.0]) else fields
    save_map(render_map(fields, offline=True, title="minemap demo (synthetic fields)"), path,
             overwrite=True)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html", nargs="?", type=Path, help="map HTML file")
    ap.add_argument("-o", "--output", type=Path, default=Path("docs/map.png"))
    ap.add_argument("--width", type=int, default=1400)
    ap.add_argument("--height", type=int, default=900)
    ap.add_argument("--no-popup", action="store_true")
    ap.add_argument("--demo", action="store_true", help="render a synthetic demo map first")
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"screenshot: {CHROMIUM} not found", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="minemap-shot-") as tmp:
        html = args.html
        if args.demo:
            html = _demo_map(Path(tmp) / "demo.html")
        if html is None or not Path(html).is_file():
            print(f"screenshot: {html}: no such map file (give MAP.html or --demo)", file=sys.stderr)
            return 2
        out = screenshot(Path(html), args.output, width=args.width, height=args.height,
                         popup=not args.no_popup)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
