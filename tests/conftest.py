"""Shared fixtures: a CLI runner, temporary stores and record files built in code."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import settings as hypothesis_settings
from pyproj import Transformer

# CI runs the property tests on a fixed sequence of examples, so that a
# submission's result does not depend on the draw; locally they explore.
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

# Fields are laid out in UTM 38N (metres) near Aghdam, then projected to
# WGS84, so that expected areas and overlaps are known in metres.
UTM = "EPSG:32638"
ORIGIN = (650_000.0, 4_427_000.0)  # about 46.75 E, 39.98 N
_TO_LL = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)


def utm_to_ll(geom: shapely.Geometry) -> shapely.Geometry:
    """A UTM 38N geometry in WGS84 lon/lat."""
    return shapely.transform(geom, lambda xy: np.column_stack(_TO_LL.transform(xy[:, 0], xy[:, 1])))


def rect(x: float, y: float, w: float, h: float) -> shapely.Polygon:
    """A w × h metre rectangle whose south-west corner is (x, y) metres from ORIGIN."""
    x0, y0 = ORIGIN[0] + x, ORIGIN[1] + y
    return utm_to_ll(shapely.box(x0, y0, x0 + w, y0 + h))


def feature(props: dict, geom: shapely.Geometry | None) -> dict:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": None if geom is None else json.loads(shapely.to_geojson(geom)),
    }


def write_geojson(path: Path, features: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def fields_file(path: Path, n: int = 3, *, prefix: str = "AGD", ap: int = 10, at: int = 2,
                handover: str | None = None, start: int = 1) -> Path:
    """n separate 100 m × 100 m fields on a 200 m grid, 150 to a row."""
    feats = []
    for i in range(start, start + n):
        props = {"record_id": f"{prefix}-{i:04d}", "mines_ap": ap, "mines_at": at,
                 "district": "Agdam", "mine_types": "PMN-2;TM-62M"}
        if handover:
            props["handover"] = handover
        feats.append(feature(props, rect(200.0 * (i % 150), 200.0 * (i // 150), 100, 100)))
    return write_geojson(path, feats)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store.gpkg"


@pytest.fixture
def cli(runner, store_path):
    """Invoke ``minemap --store <tmp> ARGS…``; returns the click Result."""
    from minemap.cli.main import cli as group

    def invoke(*args, **kw):
        return runner.invoke(group, ["--store", str(store_path), *map(str, args)], **kw)

    return invoke


# --------------------------------------------------------------------------- PostGIS

_PG_SKIPPED: list[str] = []


@pytest.fixture(scope="session")
def pg_url():
    """The URL of a throwaway PostgreSQL + PostGIS cluster for this test session.

    The tests that use it are skipped only where PostgreSQL or PostGIS truly cannot be
    installed, and the summary then says so loudly (see ``pytest_terminal_summary``).
    """
    from tests.pgcluster import Unavailable, cluster

    try:
        with cluster() as url:
            yield url
    except Unavailable as exc:
        _PG_SKIPPED.append(str(exc))
        pytest.skip(f"PostGIS store tests need PostgreSQL + PostGIS: {exc}")


def pytest_terminal_summary(terminalreporter):
    skipped = [r for r in terminalreporter.stats.get("skipped", [])
               if "PostGIS store tests" in str(getattr(r, "longrepr", ""))]
    if skipped or _PG_SKIPPED:
        terminalreporter.section("POSTGIS TESTS SKIPPED", sep="!", red=True, bold=True)
        terminalreporter.write_line(
            f"{len(skipped)} PostGIS store tests did not run: PostgreSQL + PostGIS is not "
            "available on this machine (make test installs postgresql-15-postgis-3 with apt).",
            red=True, bold=True)
