"""Printable sheets (DESIGN §12): PDF text, page size, fonts, the rendered page."""

from __future__ import annotations

import math
import shutil
import subprocess
import warnings
from pathlib import Path

import matplotlib.image as mpimg
import mgrs
import numpy as np
import pypdf
import pytest
from pyproj import CRS

import minemap
import minemap.api  # the sheet API; minemap itself loads it lazily
from minemap.sheets import grid

DATA = Path(__file__).parent / "data"
A4_PT = (595.3, 841.9)
A3_PT = (841.9, 1190.6)


def _traverse(tmp_path: Path, *, synthetic: bool) -> Path:
    text = (DATA / "traverse" / "agd_0142.yaml").read_text(encoding="utf-8")
    text = text.replace("handover: aghdam-2021-06-12", "handover: Ağdərə-Шуша-2021")
    text = text.replace("mine_types: [PMN-2, TM-62M]", "mine_types: [ПМН-2, TM-62M]")
    if synthetic:
        text = "# SYNTHETIC sample minefield record for a test - not real data.\n" + text
    path = tmp_path / ("synthetic.yaml" if synthetic else "real.yaml")
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def store(tmp_path) -> Path:
    path = tmp_path / "s.gpkg"
    minemap.import_records([_traverse(tmp_path, synthetic=True)],
                           handover="Ağdərə-Шуша-2021", store=path)
    return path


def _pdf(path: Path) -> tuple[list[str], list[tuple[float, float]]]:
    reader = pypdf.PdfReader(path)
    texts = [page.extract_text() for page in reader.pages]
    sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages]
    return texts, sizes


def _spaced(ref: str) -> str:
    return f"{ref[:3]} {ref[3:5]} {ref[5:10]} {ref[10:]}"


def test_record_sheet_text_size_and_fonts(tmp_path, store):
    out = tmp_path / "agd.pdf"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pages = minemap.api.sheet(out, store=store, record="AGD-0142")
    assert pages == 1
    assert not [w for w in caught if "Glyph" in str(w.message)]  # every letter has a glyph
    (text,), (size,) = _pdf(out)
    assert size == pytest.approx(A4_PT, abs=1)
    for word in ("Minefield AGD-0142", "SYNTHETIC", "Ağdərə-Шуша-2021", "ПМН-2",
                 "not_started", "legend", "turning point", "true north", "printed",
                 "store revision 1", "EPSG:28408", "Pulkovo 1942"):
        assert word in text, word
    # The TP table: every turning point's MGRS, computed here from the
    # stored vertices with the mgrs package.
    verts = minemap.open_store(store).read("vertices")
    m = mgrs.MGRS()
    for label, g in zip(verts["label"], verts.geometry):
        assert label in text
        assert _spaced(m.toMGRS(g.y, g.x, MGRSPrecision=5)) in text


def test_sheet_of_real_data_has_no_synthetic_mark(tmp_path):
    store = tmp_path / "s.gpkg"
    minemap.import_records([_traverse(tmp_path, synthetic=False)],
                           handover="Ağdərə-Шуша-2021", store=store)
    out = tmp_path / "real.pdf"
    minemap.api.sheet(out, store=store, record="AGD-0142", paper="A3")
    (text,), (size,) = _pdf(out)
    assert size == pytest.approx(A3_PT, abs=1)
    assert "SYNTHETIC" not in text


def test_district_sheet_lists_every_field(tmp_path):
    from tests.conftest import fields_file

    src = fields_file(tmp_path / "f.geojson", 30)
    store = tmp_path / "s.gpkg"
    minemap.import_records([src], handover="h1", store=store)
    out = tmp_path / "d.pdf"
    pages = minemap.api.sheet(out, store=store, district="Ağdam")
    texts, sizes = _pdf(out)
    assert pages == len(texts) == 2  # the map, then the list of its fields
    assert all(s == pytest.approx(A4_PT, abs=1) for s in sizes)
    assert "District Aghdam" in texts[0] and "fields: 30" in texts[0]
    for i in range(1, 31):
        assert f"AGD-{i:04d}" in texts[1]


def test_rendered_page_shows_the_field_in_its_status_colour(tmp_path, store):
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    out = tmp_path / "agd.pdf"
    minemap.api.sheet(out, store=store, record="AGD-0142")
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-singlefile", str(out),
                    str(tmp_path / "page")], check=True)
    img = mpimg.imread(tmp_path / "page.png")[..., :3]
    h, w = img.shape[:2]
    assert w / h == pytest.approx(A4_PT[0] / A4_PT[1], rel=0.02)
    # not_started #d7191c at alpha 0.35 over white.
    fill = 1 - 0.35 * (1 - np.array([0xd7, 0x19, 0x1c]) / 255)
    near = np.abs(img - fill).max(axis=2) < 0.04
    assert near.sum() > 0.005 * h * w
    # ... inside the map frame (the upper half), not only in the legend.
    assert near[: h // 2].sum() > near.sum() * 0.8


def test_sheet_cli_rules(tmp_path, store, cli, runner):
    from minemap.cli.main import cli as group

    def run(*args):
        return runner.invoke(group, ["--store", str(store), "sheet", *map(str, args)])

    out = tmp_path / "s.pdf"
    assert run("-o", out).exit_code == 2
    assert run("-o", out, "--record", "AGD-0142", "--district", "Aghdam").exit_code == 2
    assert run("-o", tmp_path / "s.png", "--record", "AGD-0142").exit_code == 2
    res = run("-o", out, "--record", "NOPE")
    assert res.exit_code == 2 and "NOPE" in res.output
    out.write_text("old")
    res = run("-o", out, "--record", "AGD-0142")
    assert res.exit_code == 2 and "--overwrite" in res.output and out.read_text() == "old"
    res = run("-o", out, "--record", "AGD-0142", "--overwrite", "--paper", "a3")
    assert res.exit_code == 0, res.output
    assert _pdf(out)[1][0] == pytest.approx(A3_PT, abs=1)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".minemap")) == []


# ---------------------------------------------------------------------- grid maths


def test_grid_step_and_lines():
    assert grid.grid_step(450) == 100
    assert grid.grid_step(3_000) == 500
    assert grid.grid_step(30_000) == 5_000
    assert list(grid.grid_lines(620_050, 620_420, 100)) == [620_100, 620_200, 620_300,
                                                            620_400]


def test_mgrs_labels_match_the_mgrs_package():
    utm = CRS.from_epsg(32638)
    xs = np.array([620_000.0, 621_000.0, 700_000.0])
    labels = grid.mgrs_labels(utm, xs, 4_358_500.0, "x", 1000)
    m = mgrs.MGRS()
    from pyproj import Transformer

    tr = Transformer.from_crs(utm, "EPSG:4326", always_xy=True)
    for x, label in zip(xs, labels):
        lon, lat = tr.transform(x, 4_358_500.0)
        ref = m.toMGRS(lat, lon, MGRSPrecision=5)
        assert label == f"{ref[3:5]} {ref[5:7]}"


@pytest.mark.parametrize(("lon", "lat"), [(46.39, 39.37), (44.2, 40.1), (47.5, 38.9)])
def test_true_north_angle_is_the_grid_convergence(lon, lat):
    # Convergence of transverse Mercator: (lon - lon0) · sin(lat), to first order;
    # true north lies west of grid north east of the central meridian.
    expected = -(lon - 45.0) * math.sin(math.radians(lat))
    assert grid.true_north_angle(CRS.from_epsg(32638), lon, lat) == pytest.approx(
        expected, abs=0.01)


def test_scale_bar_and_scale():
    assert grid.bar_length(1_000) == 250
    assert grid.bar_length(12_000) == 2_500
    assert grid.nice_scale(3_612.3) == 3_600
    # 500 m of ground over 0.175 m of paper.
    assert grid.nice_scale(grid.scale_denominator(500, 0.175)) == 2_900


def test_synthetic_markers():
    from minemap.sheets import is_synthetic

    assert is_synthetic('{"record_id": "A", "synthetic": true}')
    assert is_synthetic("# SYNTHETIC sample\nrecord_id: A\n")
    assert is_synthetic("record_id: A\nsynthetic: true\n")
    assert not is_synthetic('{"record_id": "A", "note": "not synthetic"}')
    assert not is_synthetic("record_id: SYNTHETIC-1\n")
    assert not is_synthetic(None)



def test_small_fields_get_a_fine_grid():
    assert grid.grid_step(70) == 10
    utm = CRS.from_epsg(32638)
    # 10 m lines show four digits of each coordinate within the square.
    assert grid.mgrs_labels(utm, np.array([671_480.0]), 4_424_470.0, "x", 10) == ["PK 7148"]
