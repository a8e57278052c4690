"""Magnetic declination from IGRF-14 and grid convergence."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import ppigrf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pygeomag import GeoMag
from pyproj import CRS, Geod, Transformer

from minemap.geo.dates import model_date
from minemap.geo.magnetic import (
    ModelRangeError,
    declination,
    declinations,
    grid_convergence,
)


def _ppigrf_declination(lon, lat, date):
    be, bn, _ = ppigrf.igrf(lon, lat, 0.0, dt.datetime(date.year, date.month, date.day))
    return math.degrees(math.atan2(float(np.ravel(be)[0]), float(np.ravel(bn)[0])))


@settings(max_examples=8, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(45.5, 47.6), st.floats(38.8, 40.6),
            st.dates(dt.date(1900, 1, 1), dt.date(2030, 1, 1)),
        ),
        min_size=1, max_size=4,
    )
)
def test_batch_equals_ppigrf_per_date(points):
    lons, lats, dates = zip(*points)
    got = declinations(lons, lats, dates)
    for g, (lon, lat, date) in zip(got, points):
        assert g == pytest.approx(_ppigrf_declination(lon, lat, date), abs=1e-9)


def test_igrf_agrees_with_wmm_2020():
    # Two independent models of the same field: IGRF-14 here, WMM2020 in pygeomag.
    wmm = GeoMag(coefficients_file="wmm/WMM_2020.COF")
    for lon, lat in [(46.93, 39.98), (47.14, 39.60), (46.65, 39.09)]:
        date = dt.date(2021, 6, 12)
        year = 2021 + (date - dt.date(2021, 1, 1)).days / 365.0
        ref = wmm.calculate(glat=lat, glon=lon, alt=0, time=year).d
        assert declination(lon, lat, date) == pytest.approx(ref, abs=0.3)


def test_1993_aghdam_is_east_and_smaller_than_today():
    d93 = declination(46.93, 39.98, "1993-08-20")
    d21 = declination(46.93, 39.98, "2021-06-12")
    assert 3.0 < d93 < 6.0
    assert d21 - d93 > 1.0


@pytest.mark.parametrize("date", ["1899-12-31", "2030-01-02", "1850"])
def test_out_of_range_refused(date):
    with pytest.raises(ModelRangeError, match="outside the IGRF-14 validity"):
        declination(46.9, 39.9, date)


def test_model_date():
    # The one date parser (minemap.geo.dates): "20/08/1993" is a date for every
    # reader now, so the magnetic model accepts it too (issue 10 item 3).
    assert model_date("1993-08-20") == dt.date(1993, 8, 20)
    assert model_date("20.08.1993") == model_date("20/08/1993") == dt.date(1993, 8, 20)
    assert model_date("1993-08") == dt.date(1993, 8, 15)
    assert model_date("1993") == dt.date(1993, 7, 1)
    assert model_date(dt.date(2001, 2, 3)) == dt.date(2001, 2, 3)
    assert declination(46.93, 39.98, "1993") == declination(46.93, 39.98, dt.date(1993, 7, 1))
    for bad in ("1993-02-30", "03/04/1993", "", "93", "1993-13"):
        with pytest.raises(ValueError):
            model_date(bad)


@pytest.mark.parametrize(("epsg", "lon", "lat"), [(28408, 46.93, 39.99), (28408, 45.0, 40.0),
                                                   (32638, 46.5, 39.5), (28409, 47.4, 39.1)])
def test_grid_convergence_is_true_azimuth_of_grid_north(epsg, lon, lat):
    crs = CRS.from_epsg(epsg)
    geog = crs.geodetic_crs
    fwd = Transformer.from_crs(geog, crs, always_xy=True)
    inv = Transformer.from_crs(crs, geog, always_xy=True)
    x, y = fwd.transform(lon, lat)
    lon2, lat2 = inv.transform(x, y + 10.0)
    geod = Geod(**{"a": geog.ellipsoid.semi_major_metre,
                   "rf": geog.ellipsoid.inverse_flattening})
    az = geod.inv(lon, lat, lon2, lat2)[0]
    assert grid_convergence(crs, lon, lat) == pytest.approx(az, abs=2e-5)
