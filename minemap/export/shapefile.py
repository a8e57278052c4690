"""Shapefile (a set of files, or zipped) with stable 10-byte field names."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas
import numpy as np
import pandas as pd
import pyogrio

from minemap._errors import Problem
from minemap.export.common import EMPTY_GEOMETRY_TYPE, _apply_umask, _ids, _ogr_error, _temp_dir
from minemap.export.frames import _for_ogr
from minemap.export.projection import Projection

#: Explicit, stable Shapefile (dBASE, 10-byte) names of known long columns.
#: Any other long name is cut to 10 bytes, with ``_1``, ``_2`` … on collision.
SHAPEFILE_FIELD_NAMES: dict[str, str] = {
    "mines_total": "mines_tot",
    "reliability": "reliab",
    "source_file": "src_file",
    "source_crs": "src_crs",
    "transformation": "transform",
    "misclosure_m": "miscl_m",
    "misclosure_ratio": "miscl_rat",
    "declination_deg": "decl_deg",
    "incident_id": "incid_id",
    "released_ha": "rel_ha",
    "released_pct": "rel_pct",
    "cleared_ha": "clr_ha",
    "cleared_pct": "clr_pct",
    "found_mines": "fnd_mines",
    "remaining_est": "remain_est",
    "last_release_date": "last_rel_d",
    "handover_date": "hand_date",
    "mines_recorded": "mines_rec",
    "found_inside": "found_in",
    "found_outside": "found_out",
    "accuracy_pct": "acc_pct",
    "outside_within_25m_pct": "out_25m_pc",
    "outside_within_50m_pct": "out_50m_pc",
    "outside_within_100m_pct": "out_100m_p",
    "outside_median_m": "out_med_m",
    "incidents_inside": "inc_in",
    "incidents_outside": "inc_out",
}

#: HXL hashtags of known columns (CSV with ``hxl=True``).  The layer's own id
#: column (:data:`ID_COLUMNS`) is tagged ``#meta+id``; unknown columns get

_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
# Stale spatial indexes of an overwritten shapefile would make GIS software
# skip features, so they are removed along with the old set.
_SHAPEFILE_STALE = (".qix", ".sbn", ".sbx")
_DBF_MAX_BYTES = 254


def shapefile_field_names(columns: Iterable[str]) -> dict[str, str]:
    """The stable mapping of column names to dBASE field names (≤ 10 bytes).

    Names that fit are kept; known long names use
    :data:`SHAPEFILE_FIELD_NAMES`; others are cut to 10 bytes of UTF-8.  A
    name that collides (case-insensitively, as dBASE does) with one already
    taken gets ``_1``, ``_2`` … in its last bytes.  The mapping depends only
    on the column names and their order.

    Parameters
    ----------
    columns
        Column names in order.

    Returns
    -------
    dict
        ``{full_name: short_name}`` in column order.
    """
    columns = list(columns)
    taken: set[str] = set()
    result: dict[str, str] = {}
    # Names that already fit are claimed first, so they never change because
    # some other column's shortened name happens to come earlier.
    for name in columns:
        if len(name.encode("utf-8")) <= 10 and name.lower() not in taken:
            result[name] = name
            taken.add(name.lower())
    for name in columns:
        if name in result:
            continue
        base = SHAPEFILE_FIELD_NAMES.get(name) or _cut_utf8(name, 10)
        short = base
        n = 0
        while short.lower() in taken:
            n += 1
            suffix = f"_{n}"
            short = _cut_utf8(base, 10 - len(suffix)) + suffix
        result[name] = short
        taken.add(short.lower())
    return {name: result[name] for name in columns}


def _cut_utf8(name: str, nbytes: int) -> str:
    """The longest prefix of `name` whose UTF-8 encoding fits in `nbytes`."""
    out = name.encode("utf-8")[:nbytes].decode("utf-8", "ignore")
    return out


def targets(path: Path) -> list[Path]:
    """Every file an unzipped Shapefile export writes."""
    return ([path.with_suffix(ext) for ext in _SHAPEFILE_PARTS]
            + [_sidecar(path), _transformation_sidecar(path)])


def _sidecar(shp: Path) -> Path:
    return shp.with_name(shp.stem + ".fieldnames.csv")


def _write_shapefile(path: Path, frame: geopandas.GeoDataFrame, geoms: np.ndarray, layer: str,
                     *, zipped: bool, overwrite: bool,
                     projection: Projection | None = None) -> list[str]:
    """A Shapefile set (or a zip of one) with the field-name sidecar.

    With a `projection`, the ``.prj`` holds its CRS and a sidecar
    ``<stem>.transformation.txt`` names the datum transformation, which a
    ``.prj`` cannot carry.
    """
    crs = projection.crs if projection else "EPSG:4326"
    df = _for_ogr(frame, geoms, drop_raw=True, crs=crs)
    names = shapefile_field_names([c for c in df.columns if c != df.geometry.name])
    df = df.rename(columns=names)
    warnings = []
    ids = _ids(frame, layer)
    for full, short in names.items():
        col = df[short]
        if col.dtype.kind in "biuf" or pd.api.types.is_numeric_dtype(col.dtype):
            continue
        lengths = np.array([len(v.encode("utf-8")) if isinstance(v, str) else 0
                            for v in col.tolist()])
        if len(lengths) and lengths.max() > _DBF_MAX_BYTES:
            i = int(np.argmax(lengths > _DBF_MAX_BYTES))
            count = int((lengths > _DBF_MAX_BYTES).sum())
            warnings.append(str(Problem(
                path.name, ids[i], f"field {full}: {count} value(s) longer than "
                f"{_DBF_MAX_BYTES} bytes are truncated by the dBASE format", "warning")))
    stem = path.stem
    kwargs: dict[str, Any] = {}
    if len(df) == 0:
        kwargs["geometry_type"] = EMPTY_GEOMETRY_TYPE[layer]
    with _temp_dir(path.parent) as tmpdir:
        shp = tmpdir / f"{stem}.shp"
        try:
            pyogrio.write_dataframe(df, shp, driver="ESRI Shapefile", encoding="UTF-8",
                                    layer=stem, **kwargs)
        except OSError:
            raise
        except Exception as exc:  # pyogrio raises several error types
            raise _ogr_error(path.name, layer, exc) from exc
        sidecar_text = _fieldnames_csv(names)
        note = _transformation_text(projection) if projection else None
        if zipped:
            tmpzip = tmpdir / "out.zip"
            with zipfile.ZipFile(tmpzip, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for ext in _SHAPEFILE_PARTS:
                    part = shp.with_suffix(ext)
                    if part.exists():
                        zf.write(part, arcname=f"{stem}{ext}")
                zf.writestr("fieldnames.csv", sidecar_text)
                if note:
                    zf.writestr(f"{stem}.transformation.txt", note)
            # Give the zip the permissions a plain open() would have.
            _apply_umask(tmpzip)
            os.replace(tmpzip, path)
        else:
            (tmpdir / "sidecar.csv").write_text(sidecar_text, encoding="utf-8")
            if note:
                (tmpdir / "transformation.txt").write_text(note, encoding="utf-8")
            if overwrite:
                for ext in _SHAPEFILE_STALE:
                    path.with_suffix(ext).unlink(missing_ok=True)
                if not note:
                    _transformation_sidecar(path).unlink(missing_ok=True)
            for ext in _SHAPEFILE_PARTS:
                part = shp.with_suffix(ext)
                if part.exists():
                    os.replace(part, path.with_suffix(ext))
            os.replace(tmpdir / "sidecar.csv", _sidecar(path))
            if note:
                os.replace(tmpdir / "transformation.txt", _transformation_sidecar(path))
    return warnings


def _transformation_sidecar(shp: Path) -> Path:
    return shp.with_name(shp.stem + ".transformation.txt")


def _transformation_text(projection: Projection) -> str:
    lines = [f"{k}: {v}" for k, v in projection.metadata().items()]
    return "minemap export: coordinates projected from WGS84\n" + "\n".join(lines) + "\n"


def _fieldnames_csv(names: dict[str, str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["full_name", "short_name"])
    for full, short in names.items():
        w.writerow([full, short])
    return buf.getvalue()
