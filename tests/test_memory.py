"""Memory the crossref frees goes back to the system; chunks follow the fields' layout."""

from __future__ import annotations

import ctypes
import importlib
import sys

import numpy as np
import pytest
import shapely
from shapely.geometry import box

from minemap._memory import release_freed_memory
from minemap.crossref import crossref_minefields

MF = importlib.import_module("minemap.crossref.minefields")


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20


def _glibc() -> bool:
    try:
        ctypes.CDLL("libc.so.6").malloc_trim  # noqa: B018 - probing for the symbol
    except (OSError, AttributeError):
        return False
    return True


@pytest.mark.skipif(not sys.platform.startswith("linux") or not _glibc(), reason="glibc only")
def test_freed_holes_in_the_heap_go_back_to_the_system():
    # Every other 16 KB block freed: holes glibc keeps unless trimmed (the
    # blocks left in between stop it from shrinking the heap by itself).
    blocks = [np.ones(2048) for _ in range(12_000)]  # 16 KB each, about 190 MB
    kept = blocks[1::2]
    del blocks
    before = _rss_mb()
    release_freed_memory()
    after = _rss_mb()
    assert before - after > 60, (before, after)
    assert all(k[0] == 1.0 for k in kept[:: len(kept) // 10])


def test_release_freed_memory_is_harmless_when_nothing_was_freed():
    release_freed_memory()
    release_freed_memory()


def test_spatial_order_walks_a_grid_cell_to_neighbouring_cell():
    # A Hilbert curve visits the cells of an 8 × 8 grid so that each cell is
    # next to the one before it; empty and missing shapes come last.
    cells = [(i, j) for i in range(8) for j in range(8)]
    rng = np.random.default_rng(1)
    rng.shuffle(cells)
    geoms = np.array([box(i, j, i + 1, j + 1) for i, j in cells]
                     + [shapely.Polygon(), None], dtype=object)
    order = MF._spatial_order(geoms)
    assert sorted(order) == list(range(len(geoms)))
    assert set(order[-2:]) == {64, 65}
    steps = [(cells[a], cells[b]) for a, b in zip(order[:63], order[1:64])]
    assert all(abs(x0 - x1) + abs(y0 - y1) == 1 for (x0, y0), (x1, y1) in steps)


def test_crossref_leaves_no_prepared_field_behind():
    # A prepared geometry keeps the indexes its tests built: the crossref
    # drops those it made, chunk by chunk.
    import geopandas as gpd
    fields = gpd.GeoDataFrame({"handover": ["h"] * 3, "record_id": list("abc"),
                               "mines_total": [1, 2, 3]},
                              geometry=[box(46.0 + k * 0.01, 39.5, 46.005 + k * 0.01, 39.505)
                                        for k in range(3)], crs="EPSG:4326")
    releases = gpd.GeoDataFrame({"report_id": ["r"], "date_end": ["2022-01-01"],
                                 "outcome": ["cleared"]},
                                geometry=[box(46.0, 39.5, 46.003, 39.503)], crs="EPSG:4326")
    table = crossref_minefields(fields, releases, None, n_jobs=1)
    assert table["released_ha"].iloc[0] > 0
    assert not shapely.is_prepared(np.asarray(fields.geometry.values, dtype=object)).any()
