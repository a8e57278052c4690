"""The one rounding rule for tables people read (DESIGN §12).

CSV files, terminal tables and spreadsheet number formats show what the data
support: hectares 2 decimals, percentages 1, metres 1, apportioned finds 1.
GeoPackage and JSON keep full precision, so nothing here is applied to them.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

#: Decimals by column-name suffix, checked in order.
SUFFIX_DECIMALS: tuple[tuple[str, int], ...] = (
    ("_ha", 2),
    ("_pct", 1),
    ("_m", 1),
)

#: Decimals of named columns that no suffix describes.  Finds may be
#: apportioned (fractional, flag ``apportioned``); remaining mines are an
#: estimate built from them.  Eastings and northings are metres.
NAMED_DECIMALS: dict[str, int] = {
    "found_mines": 1, "found_ap": 1, "found_at": 1, "found_uxo": 1,
    "period_found_ap": 1, "period_found_at": 1, "period_found_uxo": 1,
    "found_inside": 1, "found_outside": 1, "found_in_other_handovers": 1,
    "found_outside_in_other_handovers": 1,
    "remaining_est": 1, "mines_total": 1, "mines_recorded": 1,
    "utm_easting": 1, "utm_northing": 1, "crs_easting": 1, "crs_northing": 1,
    "x": 1, "y": 1,
    "declination_deg": 2, "misclosure_ratio": 0,
}


# A column of a before/after pair (history --diff, offsets) is rounded as
# the column it pairs: area_ha_before as area_ha, accuracy_pct_after as a %.
_PAIRED = re.compile(r"_(before|after)$")


def _base(column: str) -> str:
    return _PAIRED.sub("", str(column))


def is_measure(column: str) -> bool:
    """Whether `column` holds hectares, a percentage or metres (never shown whole)."""
    return _base(column).endswith(tuple(s for s, _ in SUFFIX_DECIMALS))


def decimals_for(column: str) -> int | None:
    """Decimals a reader is shown for `column`, or None (as it is)."""
    name = _base(column)
    if name in NAMED_DECIMALS:
        return NAMED_DECIMALS[name]
    for suffix, dec in SUFFIX_DECIMALS:
        if name.endswith(suffix):
            return dec
    return None


def round_value(value: object, column: str) -> object:
    """One value rounded by the rule (whole numbers stay whole)."""
    dec = decimals_for(column)
    if dec is None or isinstance(value, bool) or not isinstance(value, (float, np.floating)):
        return value
    if not np.isfinite(value):
        return value
    r = round(float(value), dec)
    return int(r) if r.is_integer() and abs(r) < 2.0 ** 53 else r


def round_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with its float columns rounded by the rule.

    Integral results become whole numbers where the whole column allows it,
    so ``12.0`` finds print as ``12``.
    """
    out = frame.copy()
    for c in out.columns:
        dec = decimals_for(c)
        s = out[c]
        if dec is None or not pd.api.types.is_float_dtype(s.dtype):
            continue
        r = s.round(dec)
        vals = r.to_numpy(dtype="float64", na_value=np.nan)
        ok = np.isfinite(vals)
        if ok.any() and (np.floor(vals[ok]) == vals[ok]).all():
            out[c] = pd.array(np.where(ok, vals, 0).astype("int64"), dtype="Int64")
            out.loc[~ok, c] = pd.NA
        else:
            out[c] = r
    return out


def excel_format(column: str, dtype: object, values: object = None) -> str | None:
    """The spreadsheet number format for a column (None: general).

    The format shows what the CSV shows (:func:`round_table`): decimals by
    the rule, and whole numbers whole, so that integer counts (and
    finds that happen to be whole) read ``12``, not ``12.0``; hectares,
    percentages and metres always keep their decimals.

    Parameters
    ----------
    column
        The column's name (its decimals come from :func:`decimals_for`).
    dtype
        The column's dtype.
    values
        The column's values, to tell whole counts in a float column.
    """
    if pd.api.types.is_bool_dtype(dtype):
        return None
    if pd.api.types.is_integer_dtype(dtype):
        return "#,##0"
    dec = decimals_for(column)
    if dec is None or not pd.api.types.is_numeric_dtype(dtype):
        return None
    if dec and values is not None and not is_measure(column):
        a = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype="float64")
        ok = np.isfinite(a)
        r = np.round(a[ok], dec)
        if ok.any() and (r == np.floor(r)).all():
            dec = 0
    return "#,##0" if dec == 0 else "#,##0." + "0" * dec
