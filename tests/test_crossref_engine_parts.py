"""Parts of the crossref engine checked against their plain definitions."""

from __future__ import annotations

import datetime as dt

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from minemap.crossref.overlay import _pairs, date_ranks

_day = st.dates(dt.date(1990, 1, 1), dt.date(2040, 12, 31)).map(dt.date.isoformat)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(_day, st.just("")), max_size=40))
def test_date_ranks_order_like_the_texts(dates):
    ranks, texts = date_ranks(np.array(dates, dtype=object))
    assert list(texts[ranks]) == dates
    for a, ra in zip(dates, ranks):
        assert (ra == 0) == (a == "")
        for b, rb in zip(dates, ranks):
            assert (ra < rb) == (a < b)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_pairs_contained_equals_unfiltered_predicate(seed):
    rng = np.random.default_rng(seed)
    fields = shapely.buffer(shapely.points(rng.uniform(0, 10, (30, 2))), rng.uniform(0.1, 1, 30))
    rel = shapely.buffer(shapely.points(rng.uniform(0, 10, (40, 2))), rng.uniform(0.1, 3, 40))
    # Boxes: their bounds coincide with their envelopes, the edge case of the box test.
    rel = np.concatenate([rel, shapely.envelope(fields[:5]), np.array([shapely.box(0, 0, 10, 10)])])
    shapely.prepare(rel)
    fi, ri, cont = _pairs(fields, shapely.STRtree(rel), rel)
    expected_fi, expected_ri = np.nonzero(shapely.intersects(fields[:, None], rel[None, :]))
    order = np.lexsort((expected_ri, expected_fi))
    got = np.lexsort((ri, fi))
    assert (fi[got] == expected_fi[order]).all() and (ri[got] == expected_ri[order]).all()
    assert (cont == shapely.contains_properly(rel[ri], fields[fi])).all()
