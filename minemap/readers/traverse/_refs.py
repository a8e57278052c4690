"""A traverse's reference point: MGRS, lat/lon in a geographic CRS, or easting/northing.

Every form ends as a :class:`~._spec.Ref`: the raw coordinates as given, the
WGS84 position, and the plane (the source's projected CRS, or the UTM zone
of the point) in which a grid traverse is walked.  SK-42 Gauss-Krüger
eastings carry their zone in the leading digits; a missing or contradicting
prefix is refused, and a point outside the area of interest is refused with
a hint when swapped axes would put it inside.
"""

from __future__ import annotations

import math
import warnings

from minemap._errors import UsageError
from minemap.geo.crs import is_sk42, utm_epsg
from minemap.readers.traverse._spec import (
    Ctx,
    Ref,
    missing,
    number,
    plane,
    user_crs,
    wgs84,
    whole,
)
from minemap.readers.traverse_text import REF_FIELDS

_KINDS = (("mgrs", {"mgrs"}), ("lat/lon", {"lat", "lon"}),
          ("easting/northing", {"easting", "northing"}))


def parse_ref(ref: object, name: str, line: int | None, ctx: Ctx) -> Ref | None:
    """The record's reference point, or None with its errors in ``ctx``."""
    if missing(ref):
        ctx.error(name, "missing reference_point", line=line)
        return None
    if not isinstance(ref, dict):
        ctx.error(name, "reference_point must be a mapping", line=line)
        return None
    line = getattr(ref, "line", line)
    if "x" in ref or "y" in ref:
        ctx.error(name, "reference_point uses x/y: give easting and northing (in Soviet "
                  "notation X is the northing)", line=line)
        return None
    for key in ref.keys() - REF_FIELDS:
        ctx.warn(name, f"unknown reference_point field {key!r} ignored", line=line)
    has = {k for k in ref if not missing(ref[k])}
    kinds = [k for k, keys in _KINDS if has & keys]
    if len(kinds) != 1:
        what = "none" if not kinds else " and ".join(kinds)
        ctx.error(name, "reference_point needs exactly one of mgrs, lat/lon or "
                  f"easting/northing (got {what})", line=line)
        return None
    try:
        if kinds[0] == "mgrs":
            r = _ref_mgrs(str(ref["mgrs"]).strip(), name, line, ctx)
        elif kinds[0] == "lat/lon":
            r = _ref_latlon(ref, has, ctx.aoi)
        else:
            r = _ref_projected(ref, has, ctx.aoi)
    except (ValueError, UsageError) as exc:
        ctx.error(name, str(exc), line=line)
        return None
    return _check_aoi(r, name, line, ctx)


def _ref_latlon(ref: dict, has: set[str], aoi: tuple[float, float, float, float]) -> Ref:
    if not {"lat", "lon"} <= has:
        raise ValueError("reference_point needs both lat and lon")
    lat, lon = number(ref["lat"], "lat"), number(ref["lon"], "lon")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"lat {lat} / lon {lon} out of range")
    crs_text = "EPSG:4326" if missing(ref.get("crs")) else str(ref["crs"]).strip()
    crs, crs_label = user_crs(crs_text)
    if not crs.is_geographic:
        raise ValueError(f"{crs_label} is not geographic; give easting/northing")
    source = wgs84(crs_label, aoi)
    wlon, wlat = source.transformer.transform(lon, lat)
    pl = plane(utm_name(wlon, wlat), aoi)
    x, y = pl.to_wgs.transformer.transform(wlon, wlat, direction="INVERSE")
    return Ref(crs_label, source.description, lon, lat, wlon, wlat, pl, x, y, source, False)


def _ref_projected(ref: dict, has: set[str], aoi: tuple[float, float, float, float]) -> Ref:
    if not {"easting", "northing"} <= has:
        raise ValueError("reference_point needs both easting and northing")
    east, north = number(ref["easting"], "easting"), number(ref["northing"], "northing")
    if missing(ref.get("crs")):
        raise ValueError("reference_point has easting/northing but no crs")
    crs_text = str(ref["crs"]).strip()
    zone = None if missing(ref.get("zone")) else whole(ref["zone"], "zone")
    if is_sk42(crs_text):
        east, crs_label = _sk42_zone(east, zone)
    else:
        _, crs_label = user_crs(crs_text)
        _check_gk_prefix(east, north, crs_label)
    crs, crs_label = user_crs(crs_label)
    if not crs.is_projected:
        raise ValueError(f"{crs_label} is not a projected CRS; give lat/lon")
    pl = plane(crs_label, aoi)
    wlon, wlat = pl.to_wgs.transformer.transform(east, north)
    if not (math.isfinite(wlon) and math.isfinite(wlat)):
        raise ValueError(f"easting {east} / northing {north} cannot be transformed "
                         f"from {crs_label}")
    return Ref(crs_label, pl.to_wgs.description, east, north, wlon, wlat, pl, east, north,
               pl.to_wgs, True)


def _sk42_zone(east: float, zone: int | None) -> tuple[float, str]:
    """The full Gauss-Krüger easting and its EPSG code, from the prefix or ``zone``."""
    if zone is None:
        if east < 1_000_000:
            raise ValueError(f"SK-42 easting {east} lacks its zone prefix "
                             "(give the full easting, e.g. 8664944, or zone)")
        zone = int(east // 1_000_000)
    elif east < 1_000_000:
        east += zone * 1_000_000
    elif int(east // 1_000_000) != zone:
        raise ValueError(f"easting {east} has zone prefix {int(east // 1_000_000)} "
                         f"but zone is {zone}")
    if not 2 <= zone <= 32:
        raise ValueError(f"SK-42 zone {zone} (from the easting) does not exist "
                         "(EPSG:28402-28432)")
    return east, f"EPSG:{28400 + zone}"


def _check_gk_prefix(east: float, north: float, crs_label: str) -> None:
    """An EPSG Gauss-Krüger code must match the easting's zone prefix."""
    code = crs_label.split(":")[-1]
    if not (crs_label.startswith("EPSG:") and code.isdigit()
            and 28402 <= int(code) <= 28432):
        return
    gk = int(code) - 28400
    prefix = int(east // 1_000_000)
    if prefix != gk:
        hint = "; easting and northing look swapped" if int(north // 1_000_000) == gk else ""
        raise ValueError(f"easting {east} has zone prefix {prefix} but "
                         f"{crs_label} is Gauss-Krüger zone {gk}{hint}")


def utm_name(lon: float, lat: float) -> str:
    """``EPSG:326zz`` of the UTM zone holding the point (the one UTM rule)."""
    return f"EPSG:{utm_epsg(lon, lat)}"


def _ref_mgrs(text: str, name: str, line: int | None, ctx: Ctx) -> Ref:
    import mgrs

    conv = mgrs.MGRS()
    compact = "".join(text.split()).upper()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            zone, hemi, east, north = conv.MGRSToUTM(compact)
        except Exception as exc:  # mgrs raises bare MGRSError/ValueError/RuntimeError
            raise ValueError(f"cannot read MGRS {text!r}: {exc}".splitlines()[0]) from None
    for w in caught:
        ctx.warn(name, f"MGRS {text!r}: {str(w.message).strip()}", line=line)
    code = (32600 if hemi == "N" else 32700) + int(zone)
    pl = plane(f"EPSG:{code}", ctx.aoi)
    lon, lat = pl.to_wgs.transformer.transform(east, north)
    return Ref(f"EPSG:{code}", pl.to_wgs.description, east, north, lon, lat, pl,
               east, north, pl.to_wgs, True)


def _check_aoi(ref: Ref, name: str, line: int | None, ctx: Ctx) -> Ref | None:
    w, s, e, n = ctx.aoi
    if w <= ref.lon <= e and s <= ref.lat <= n:
        return ref
    hint = ""
    if w <= ref.lat <= e and s <= ref.lon <= n:
        hint = "; lat and lon look swapped"
    elif ref.source_is_plane and _swapped_inside(ref, ctx.aoi):
        hint = "; easting and northing look swapped"
    ctx.error(name, f"reference point (lon {ref.lon:.5f}, lat {ref.lat:.5f}) is outside the "
              f"area of interest {tuple(ctx.aoi)}{hint}", line=line)
    return None


def _swapped_inside(ref: Ref, aoi: tuple[float, float, float, float]) -> bool:
    # Easting and northing swapped (EPSG:28408 lists the northing first)?
    # For Gauss-Krüger the zone would then come from the northing.
    w, s, e, n = aoi
    names = [ref.plane.name]
    code = ref.plane.name.split(":")[-1]
    if code.isdigit() and 28402 <= int(code) <= 28432 and 2 <= ref.raw_y // 1e6 <= 32:
        names.append(f"EPSG:{28400 + int(ref.raw_y // 1e6)}")
    for crs_name in names:
        try:
            lon, lat = plane(crs_name, aoi).to_wgs.transformer.transform(ref.raw_y, ref.raw_x)
        except Exception:  # noqa: BLE001 - only a hint
            continue
        if w <= lon <= e and s <= lat <= n:
            return True
    return False
