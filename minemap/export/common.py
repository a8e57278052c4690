"""What every export format shares: layer names, checks, values, temporary files.

The format modules (:mod:`~minemap.export.geojson`, :mod:`~minemap.export.gpkg`,
…) build on these helpers; :func:`minemap.export.write` chooses the format.
Temporary files are named ``.minemap-tmp-<host>-<pid>-<random>-<name>`` so
that anyone can tell what they are, and a later export into the same folder
removes those a killed run left behind (:func:`remove_stale_temporaries`).
"""

from __future__ import annotations

import datetime as _dt
import errno
import json
import math
import os
import re
import secrets
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from minemap import settings
from minemap._errors import DataError, UsageError

if TYPE_CHECKING:
    import geopandas

# geopandas and shapely are imported where a layer needs them: a plain table
# (``crossref -o out.csv``) is written without them (issue 14).

#: Output extension → format name.  ``-`` (stdout) is GeoJSON.
FORMATS: dict[str, str] = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".geojsons": "geojsonseq",
    ".gpkg": "gpkg",
    ".shp": "shapefile",
    ".zip": "shapefile-zip",
    ".kml": "kml",
    ".gpx": "gpx",
    ".csv": "csv",
    ".xlsx": "xlsx",
}

#: Layers that can be exported (DESIGN §5, ``minemap export --layer``).
LAYERS: tuple[str, ...] = (
    "minefields", "clearance", "items", "incidents", "districts", "mine_rows", "crossref",
    "vertices", "remaining", "suspects",
)

#: Column identifying a feature of each layer, used in names and messages.
ID_COLUMNS: dict[str, str] = {
    "minefields": "record_id",
    "crossref": "record_id",
    "mine_rows": "record_id",
    "clearance": "report_id",
    "items": "item_id",
    "incidents": "incident_id",
    "districts": "district",
    "vertices": "record_id",
    "remaining": "record_id",
    "suspects": "suspect_id",
}

#: Geometry type declared for an empty layer (OGR formats need one).
EMPTY_GEOMETRY_TYPE: dict[str, str] = {
    "minefields": "Polygon",
    "crossref": "Polygon",
    "clearance": "Polygon",
    "districts": "Polygon",
    "items": "Point",
    "incidents": "Point",
    "mine_rows": "LineString",
    "vertices": "Point",
    "remaining": "Polygon",
    "suspects": "Polygon",
}

#: Columns holding counts: integral values are written as integers even when
#: the column is float (because of missing values or apportioned counts).
COUNT_COLUMNS: frozenset[str] = frozenset({
    "mines_ap", "mines_at", "mines_total", "mines", "row", "vertex", "killed", "injured",
    "found_mines", "remaining_est", "found_ap", "found_at", "found_uxo", "minefields",
    "mines_recorded", "found_inside", "found_outside", "incidents_inside",
    "incidents_outside", "revision",
})


RAW_COLUMN = "raw"
_RAW_COLUMN = RAW_COLUMN
# Characters that XML 1.0 cannot carry at all, even escaped.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# --------------------------------------------------------------------------- checks


def _format_of(path: Path) -> str:
    ext = path.suffix.lower()
    if ext not in FORMATS:
        valid = ", ".join(FORMATS)
        raise UsageError(f"{path}: unknown output extension {ext or '(none)'!r}; "
                         f"valid extensions: {valid} (or '-' for GeoJSON on stdout)")
    return FORMATS[ext]


def _check_layers(layers: dict[str, Any], fmt: str) -> None:
    if not isinstance(layers, dict) or not layers:
        raise UsageError("no layer to export; valid layers: " + ", ".join(LAYERS))
    for name in layers:
        if name not in LAYERS:
            raise UsageError(f"unknown layer {name!r}; valid layers: {', '.join(LAYERS)}")
    if fmt != "gpkg" and len(layers) != 1:
        raise UsageError(f"{fmt} output takes exactly one layer, got {len(layers)} "
                         f"({', '.join(layers)}); use .gpkg for several layers")


def _check_precision(precision: int | None, *, allow_coarse: bool) -> tuple[int, list[str]]:
    if precision is None:
        precision = settings.geojson_precision
    if isinstance(precision, bool) or not isinstance(precision, (int, np.integer)):
        raise UsageError(f"precision must be a whole number of decimals, not {precision!r}")
    precision = int(precision)
    if not 0 <= precision <= 15:
        raise UsageError(f"precision must be between 0 and 15 decimals, not {precision}")
    warnings = []
    if precision < settings.min_precision:
        metres = 111_320 * 10.0 ** -precision
        if not allow_coarse:
            raise UsageError(
                f"precision {precision} is coarser than {settings.min_precision} decimals "
                f"(a grid of about {metres:g} m can move a hazard boundary inward); "
                f"use allow_coarse (--allow-coarse) to export anyway")
        warnings.append(
            f"precision {precision} decimals: coordinates snapped to about {metres:g} m; "
            f"for hazard polygons this is a safety decision (boundaries may move inward "
            f"by up to about {metres * 0.71:g} m)")
    return precision, warnings


def _check_target(path: Path, targets: list[Path], *, overwrite: bool) -> None:
    """Refuse before any work: no directory, not writable, or existing `targets`."""
    parent = path.parent
    if not parent.is_dir():
        raise UsageError(f"output directory does not exist: {parent}")
    if path.is_dir():
        raise UsageError(f"output path is a directory: {path}")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"output directory is not writable: {parent}")
    if not overwrite:
        for target in targets:
            if target.exists():
                raise UsageError(f"{target} exists; pass --overwrite to replace it")


def _as_wgs84(gdf: Any, file: str, layer: str) -> geopandas.GeoDataFrame:
    import geopandas
    import shapely

    if not isinstance(gdf, geopandas.GeoDataFrame):
        raise UsageError(f"layer {layer}: expected a GeoDataFrame, got {type(gdf).__name__}")
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    elif gdf.crs is None and len(gdf):
        b = shapely.total_bounds(gdf.geometry.values)
        if np.isfinite(b).all() and (b[0] < -180 or b[2] > 180 or b[1] < -90 or b[3] > 90):
            raise DataError(f"{file}: layer {layer}: frame has no CRS and coordinates outside "
                            f"longitude/latitude range {tuple(float(v) for v in b)}")
    return gdf


class _Ids:
    """Record names for messages, looked up only when a message needs one."""

    def __init__(self, frame: pd.DataFrame, layer: str) -> None:
        col = ID_COLUMNS.get(layer)
        self._values = frame[col] if col and col in frame.columns else None
        self._n = len(frame)

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Iterator[str]:
        if self._values is None:
            return (f"feature {i + 1}" for i in range(self._n))
        vals = self._values.tolist()
        return (str(v) if _present(v) and str(v) else f"feature {i + 1}"
                for i, v in enumerate(vals))

    def __getitem__(self, i: int) -> str:
        v = self._values.iloc[int(i)] if self._values is not None else None
        return str(v) if _present(v) and str(v) else f"feature {int(i) + 1}"


def _ids(frame: pd.DataFrame, layer: str) -> _Ids:
    return _Ids(frame, layer)


def _present(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return False
    return not (isinstance(v, float) and math.isnan(v))



def _fmt(v: float, precision: int) -> str:
    s = f"{v:.{precision}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s == "-0" else s



# --------------------------------------------------------------------------- values


def _column_values(s: pd.Series, name: str) -> list:
    """Python values of a column for JSON/CSV/KML: None for missing, ISO dates,
    integral counts as int."""
    dtype = s.dtype
    n = len(s)
    if n == 0:
        return []
    if isinstance(dtype, pd.DatetimeTZDtype) or dtype.kind == "M":
        return _iso_datetimes(s)
    if pd.api.types.is_bool_dtype(dtype):
        mask = s.isna().to_numpy()
        vals = s.to_numpy(dtype=object, na_value=None).tolist()
        return [None if m else bool(v) for v, m in zip(vals, mask)]
    if pd.api.types.is_integer_dtype(dtype):
        mask = s.isna().to_numpy()
        vals = s.to_numpy(dtype="int64", na_value=0).tolist()
        if mask.any():
            for i in np.flatnonzero(mask):
                vals[i] = None
        return vals
    if pd.api.types.is_float_dtype(dtype):
        a = s.to_numpy(dtype="float64", na_value=np.nan)
        bad = ~np.isfinite(a)
        vals = a.tolist()
        if name in COUNT_COLUMNS:
            integral = ~bad & (np.floor(a) == a) & (np.abs(a) < 2.0 ** 53)
            for i in np.flatnonzero(integral):
                vals[i] = int(vals[i])
        for i in np.flatnonzero(bad):
            vals[i] = None
        return vals
    vals = s.to_numpy(dtype=object)
    out = vals.tolist()
    for i, v in enumerate(out):
        if type(v) is str:
            continue
        out[i] = _py_value(v, name)
    return out


def _py_value(v: Any, name: str) -> Any:
    if not _present(v):
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, (pd.Timestamp, _dt.datetime)):
        return _iso_datetime(pd.Timestamp(v))
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        if not math.isfinite(v):
            return None
        if name in COUNT_COLUMNS and v.is_integer() and abs(v) < 2.0 ** 53:
            return int(v)
        return v
    if isinstance(v, (bool, int)):
        return v
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    shapely = sys.modules.get("shapely")  # no geometry can exist before shapely is imported
    if shapely is not None and isinstance(v, shapely.Geometry):
        return v.wkt
    if isinstance(v, (list, tuple, dict)):
        return v
    return str(v)


def _iso_datetime(ts: pd.Timestamp) -> str:
    if ts.tzinfo is None and ts == ts.normalize():
        return ts.strftime("%Y-%m-%d")
    return ts.isoformat()


def _iso_datetimes(s: pd.Series) -> list:
    mask = s.isna().to_numpy()
    valid = s[~mask]
    dates_only = s.dt.tz is None and bool((valid == valid.dt.normalize()).all())
    text = s.dt.strftime("%Y-%m-%d") if dates_only else s.map(
        lambda t: t.isoformat() if _present(t) else None)
    vals = text.tolist()
    return [None if m else v for v, m in zip(vals, mask)]


def _attribute_columns(frame: geopandas.GeoDataFrame, *, drop_raw: bool) -> list[str]:
    geom = frame.geometry.name
    cols = [c for c in frame.columns if c != geom]
    if drop_raw:
        cols = [c for c in cols if c != _RAW_COLUMN]
    return cols


def _text(v: Any) -> str:
    """A value as text for CSV, KML and GPX ('' for missing)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple, dict)):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(v: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula.

    Text starting with ``= + - @``, a tab or a carriage return is prefixed
    with an apostrophe (the OWASP advice against CSV injection); numbers are
    left as they are, so negative values stay numbers.
    """
    text = _text(v)
    if isinstance(v, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _xml_text(s: str) -> str:
    return _XML_INVALID.sub("\ufffd", s)



# --------------------------------------------------------------------------- files


#: Prefix of every temporary file or folder an export writes beside its output.
TEMP_PREFIX = ".minemap-tmp-"
#: A temporary of another machine (or of a process that cannot be checked) is
#: stale only after this long without a change.
STALE_AFTER_S = 24 * 3600.0
_HOST = re.sub(r"[^A-Za-z0-9]+", "", socket.gethostname())[:20] or "host"
_TEMP_NAME = re.compile(re.escape(TEMP_PREFIX) + r"(?P<host>[A-Za-z0-9]+)-(?P<pid>\d+)-")


def temp_name(name: str) -> str:
    """A recognisable, unique temporary name for an output called `name`."""
    return f"{TEMP_PREFIX}{_HOST}-{os.getpid()}-{secrets.token_hex(4)}-{name}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _newest_mtime(path: Path) -> float:
    try:
        newest = path.lstat().st_mtime
        if path.is_dir() and not path.is_symlink():
            for child in path.iterdir():
                newest = max(newest, child.lstat().st_mtime)
    except OSError:
        return time.time()
    return newest


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporaries that killed exports left in `folder`.

    A temporary is stale when the process that made it (named in it) is no
    longer running on this machine, or, for one made elsewhere, when nothing
    in it changed for :data:`STALE_AFTER_S`.  Live exports, also concurrent
    ones, are never touched.

    Returns
    -------
    list of Path
        What was removed.
    """
    removed = []
    try:
        entries = list(Path(folder).glob(TEMP_PREFIX + "*"))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        m = _TEMP_NAME.match(entry.name)
        if m and m["host"] == _HOST:
            stale = int(m["pid"]) != os.getpid() and not _alive(int(m["pid"]))
        else:
            stale = now - _newest_mtime(entry) > STALE_AFTER_S
        if not stale:
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
        except OSError:
            pass  # another run removed it first, or it is not ours to remove
    return removed


#: OS errors that mean "this file cannot be written here" rather than a bug.
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO,
                          errno.EACCES, errno.EPERM})


def is_write_error(exc: BaseException) -> bool:
    """Whether `exc` is a storage failure (a full disk, read-only media, …)."""
    return isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS


def write_error(path: str | os.PathLike, exc: OSError) -> DataError:
    """One line naming the output file for an OS error while writing it."""
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        reason = "no space left on device"
    elif exc.errno == errno.EDQUOT:
        reason = "disk quota exceeded"
    return DataError(f"{os.fspath(path)}: could not write: {reason}; nothing was written")


@contextmanager
def _atomic_text(path: Path) -> Iterator[IO[str]]:
    """A text file written under a temporary name beside `path`, then renamed."""
    tmp = path.with_name(temp_name(path.name))
    # os.open with 0o666 lets the umask decide the permissions, as a plain
    # open() would; mkstemp would leave the export readable by its owner only.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def _temp_dir(parent: Path) -> Iterator[Path]:
    tmp = parent / temp_name("dir")
    tmp.mkdir(mode=0o700)
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _ogr_error(file: str, layer: str, exc: Exception) -> DataError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return DataError(f"{file}: layer {layer}: could not be written: {first}")


def _apply_umask(path: Path) -> None:
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)
