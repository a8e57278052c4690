#!/usr/bin/env python
"""Generate the synthetic sample maps committed under ``sample_maps/``.

Everything written here is SYNTHETIC: plausible in shape, place and number,
but not real minefield data.  The only real texts in ``sample_maps/`` are the
two published weekly reports, which are copied in by hand and never written
by this script.

The generator is deterministic: one fixed seed, ``numpy.random.Generator``
with ``PCG64``, no set iteration over strings, fixed timestamps in the zip and
GeoPackage files.  Run it from the repository root::

    .venv/bin/python tools/make_sample_maps.py            # writes sample_maps/
    .venv/bin/python tools/make_sample_maps.py --out DIR  # anywhere else

See ``sample_maps/README.md`` for what each file holds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import mgrs
import numpy as np
import pyogrio
import shapely
import shapely.affinity
from pyproj import Geod, Proj, Transformer
from pyproj.aoi import AreaOfInterest
from pyproj.transformer import TransformerGroup

SEED = 20211204
AOI = (45.55, 38.85, 47.55, 40.55)  # west, south, east, north (DESIGN §3)
UTM = "EPSG:32638"
GK8 = "EPSG:28408"

H_AGHDAM = "aghdam-2021-06-12"
H_FZ = "fuzuli-zangilan-2021-07-03"
H_DEC = "remaining-2021-12-04"
HANDOVER_DATES = {H_AGHDAM: "2021-06-12", H_FZ: "2021-07-03", H_DEC: "2021-12-04"}

#: DESIGN §3 centres (lat, lon).  Typed out here so that the generator does
#: not depend on minemap at all.
CENTRES: dict[str, tuple[float, float]] = {
    "Aghdam": (39.98, 46.93),
    "Fuzuli": (39.60, 47.14),
    "Zangilan": (39.09, 46.65),
    "Tartar": (40.35, 46.93),
    "Shusha": (39.76, 46.75),
    "Gubadli": (39.34, 46.58),
    "Jabrayil": (39.40, 47.03),
    "Lachin": (39.64, 46.55),
    "Kalbajar": (40.11, 46.04),
    "Khojavand": (39.79, 47.11),
    "Khojaly": (39.91, 46.79),
    "Khankendi": (39.82, 46.76),
    "Aghdara": (40.22, 46.81),
}
HORADIZ = (39.45, 47.34)


@dataclass(frozen=True)
class DistrictCfg:
    prefix: str
    handover: str
    n_fields: int
    spellings: tuple[str, ...]      # as written in the source files
    weights: tuple[float, ...]


DISTRICTS: dict[str, DistrictCfg] = {
    "Aghdam": DistrictCfg("AGD", H_AGHDAM, 470, ("Aghdam", "Agdam", "Ağdam", "Агдам",
                                                 "Agdam region"), (.35, .3, .2, .1, .05)),
    "Fuzuli": DistrictCfg("FZL", H_FZ, 290, ("Fuzuli", "Fizuli", "Füzuli", "Физули"),
                          (.4, .3, .2, .1)),
    "Zangilan": DistrictCfg("ZNG", H_FZ, 160, ("Zangilan", "Zəngilan", "Zengilan", "Зангелан"),
                            (.4, .3, .2, .1)),
    "Tartar": DistrictCfg("TRT", H_DEC, 30, ("Tartar", "Terter", "Tərtər"), (.5, .3, .2)),
    "Shusha": DistrictCfg("SHU", H_DEC, 14, ("Shusha", "Şuşa", "Shushi"), (.5, .3, .2)),
    "Gubadli": DistrictCfg("GUB", H_DEC, 26, ("Gubadli", "Qubadlı", "Kubatly"), (.5, .3, .2)),
    "Jabrayil": DistrictCfg("JBR", H_DEC, 30, ("Jabrayil", "Jabrail", "Cəbrayıl"), (.5, .3, .2)),
    "Lachin": DistrictCfg("LAC", H_DEC, 26, ("Lachin", "Laçın", "Лачин"), (.5, .3, .2)),
    "Kalbajar": DistrictCfg("KLB", H_DEC, 30, ("Kalbajar", "Kəlbəcər", "Kelbajar"),
                            (.5, .3, .2)),
    "Khojavand": DistrictCfg("KHV", H_DEC, 30, ("Khojavand", "Martuni", "Xocavənd"),
                             (.5, .3, .2)),
    "Aghdara": DistrictCfg("AGR", H_DEC, 28, ("Aghdara", "Mardakert", "Ağdərə"), (.5, .3, .2)),
    "Khojaly": DistrictCfg("KHJ", H_DEC, 20, ("Khojaly", "Xocalı", "Khojali"), (.5, .3, .2)),
}
DEC_DISTRICTS = [d for d, c in DISTRICTS.items() if c.handover == H_DEC]

AGHDAM_TOTAL = 97_000
FZ_TOTAL = 91_946  # "about 92,000 AT and AP mines"

AP_TYPES = ("PMN-2", "PMN-4", "OZM-72", "POMZ-2M")
AP_W = (.45, .2, .15, .2)
AT_TYPES = ("TM-62M", "TM-57")
AT_W = (.7, .3)
UXO_MODELS = ("82mm mortar bomb", "120mm mortar bomb", "122mm projectile", "152mm projectile",
              "RGD-5 grenade", "F-1 grenade", "9N235 submunition", "M095 submunition",
              "RPG-7 rocket", "small arms ammunition")

#: Per handover: AP share distribution (beta a, b), share of AT-only fields,
#: reliability weights (high, medium, low), share laid in 2020, share of found
#: mines lying outside the recorded fields, and a multiplier of the far tail.
HANDOVER_CFG = {
    H_AGHDAM: dict(ap_beta=(9.0, 1.6), at_only=0.03, rel=(.15, .45, .40), y2020=0.15,
                   p_out=0.52, tail=1.4),
    H_FZ: dict(ap_beta=(3.0, 2.0), at_only=0.12, rel=(.25, .45, .30), y2020=0.10,
               p_out=0.40, tail=1.1),
    H_DEC: dict(ap_beta=(4.0, 2.0), at_only=0.08, rel=(.40, .40, .20), y2020=0.05,
                p_out=0.28, tail=0.8),
}

#: Districts where clearance happened in 2021-2022 (outside the 2020
#: peacekeeping zone), in the order ANAMA lists them.
ACTIVE = ("Tartar", "Aghdam", "Fuzuli", "Shusha", "Gubadli", "Jabrayil", "Zangilan",
          "Lachin", "Kalbajar", "Khojavand")
ACTIVE_W = np.array([1.0, 2.5, 2.5, 0.7, 1.0, 1.3, 1.6, 1.0, 1.0, 0.8])

#: The two published weeks (DESIGN examples), fixed: AP, AT, UXO, hectares.
PUBLISHED = {
    dt.date(2022, 1, 10): (14, 1, 112, 51.8),
    dt.date(2022, 2, 7): (19, 6, 143, 94.8),
}
PUBLISHED_DISTRICTS = ("Tartar", "Aghdam", "Fuzuli", "Shusha", "Gubadli", "Jabrayil",
                       "Zangilan")
FIRST_WEEK = dt.date(2021, 6, 14)
LAST_WEEK = dt.date(2022, 4, 25)
REPORTED = (dt.date(2021, 11, 22), dt.date(2022, 2, 21))   # Mondays, inclusive

OPERATORS = ("ANAMA", "ANAMA", "ANAMA", "MES Demining", "MoD Engineering", "Safe Lane Global",
             "Azerbaijan Army Engineers", "TAF Engineers")
METHODS = ("manual", "mechanical", "MDD")

GEOD = Geod(ellps="WGS84")
_TO_LL = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
_TO_UTM = Transformer.from_crs("EPSG:4326", UTM, always_xy=True)


# --------------------------------------------------------------------------- geometry helpers

def _tf(t: Transformer):
    def f(xy: np.ndarray) -> np.ndarray:
        x, y = t.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])
    return f


def utm_to_ll(g: shapely.Geometry, *, keep_invalid: bool = False) -> shapely.Geometry:
    """UTM geometry → lon/lat on a 1e-6° grid (what the files hold), oriented."""
    g = shapely.transform(g, _tf(_TO_LL))
    if not keep_invalid:
        g = shapely.set_precision(g, 1e-6)
    g = shapely.transform(g, lambda c: np.round(c, 6))
    return shapely.orient_polygons(g, exterior_cw=False)


def ll_to_utm(g: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(g, _tf(_TO_UTM))


def area_ha(g: shapely.Geometry) -> float:
    """Geodesic hectares (same LAEA method as minemap.geo.geometry.area_ha)."""
    from minemap.geo.geometry import area_ha as _area
    return float(_area(np.array([g], dtype=object))[0])


def star(rng: np.random.Generator, n: int, r: float, *, jitter: float = 0.35,
         rmin: float = 0.65) -> np.ndarray:
    """Vertices of a star-shaped (hence simple) polygon around the origin."""
    ang = (np.arange(n) + rng.uniform(-jitter, jitter, n)) * 2 * np.pi / n
    rad = r * rng.uniform(rmin, 1.0, n)
    return np.column_stack([rad * np.cos(ang), rad * np.sin(ang)])


def place(xy: np.ndarray, cx: float, cy: float, theta: float, sy: float = 1.0) -> np.ndarray:
    x, y = xy[:, 0], xy[:, 1] * sy
    c, s = math.cos(theta), math.sin(theta)
    return np.column_stack([cx + c * x - s * y, cy + s * x + c * y])


def make_shape(rng: np.random.Generator, kind: str, cx: float, cy: float) -> shapely.Geometry:
    """A field outline in UTM metres, 50-800 m across."""
    theta = rng.uniform(0, np.pi)
    across = float(np.exp(rng.uniform(np.log(60), np.log(700))))
    r = across / 2
    if kind == "irregular":
        return shapely.Polygon(place(star(rng, int(rng.integers(5, 13)), r), cx, cy, theta,
                                     rng.uniform(0.55, 1.0)))
    if kind == "elongated":
        return shapely.Polygon(place(star(rng, int(rng.integers(6, 12)), r), cx, cy, theta,
                                     rng.uniform(0.15, 0.4)))
    if kind == "rect":
        w, h = r, r * rng.uniform(0.25, 0.8)
        xy = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) + rng.normal(0, r * 0.04, (4, 2))
        return shapely.Polygon(place(xy, cx, cy, theta))
    if kind == "hole":
        r = max(r, 150.0)
        outer = place(star(rng, int(rng.integers(7, 12)), r, rmin=0.75), cx, cy, theta, 0.8)
        inner = place(star(rng, 6, r * 0.28, rmin=0.8), cx, cy, theta, 0.8)
        return shapely.Polygon(outer, [inner])
    if kind == "multi":
        r = min(max(r, 80.0), 180.0)
        a = shapely.Polygon(place(star(rng, 7, r), cx, cy, theta, 0.6))
        d = 2.6 * r
        b = shapely.Polygon(place(star(rng, 6, r * 0.7), cx + d * math.cos(theta),
                                  cy + d * math.sin(theta), theta, 0.6))
        return shapely.MultiPolygon([a, b])
    if kind == "bowtie":
        # Two turning points swapped in the record: A B D C instead of A B C D.
        w, h = max(r, 100.0), max(r, 100.0) * 0.6
        xy = np.array([[-w, -h], [w, -h], [-w, h], [w, h]])
        return shapely.Polygon(place(xy, cx, cy, theta))
    if kind == "strip":
        length = rng.uniform(150, 600)
        bend = rng.uniform(-0.25, 0.25)
        p0 = np.array([-length / 2, 0.0])
        p1 = np.array([0.0, 0.0])
        p2 = np.array([length / 2 * math.cos(bend), length / 2 * math.sin(bend)])
        line = shapely.LineString(place(np.array([p0, p1, p2]), cx, cy, theta))
        return line.buffer(rng.uniform(2.0, 4.0), cap_style="flat", join_style="mitre")
    raise ValueError(kind)


def sample_in(rng: np.random.Generator, g: shapely.Geometry, n: int = 1) -> np.ndarray:
    """n uniform points inside a (projected) polygon, by rejection."""
    shapely.prepare(g)
    x0, y0, x1, y1 = g.bounds
    out: list[np.ndarray] = []
    while sum(len(o) for o in out) < n:
        x = rng.uniform(x0, x1, 64)
        y = rng.uniform(y0, y1, 64)
        ok = shapely.contains_xy(g, x, y)
        out.append(np.column_stack([x[ok], y[ok]]))
    return np.concatenate(out)[:n]


def largest_part(g: shapely.Geometry) -> shapely.Polygon:
    parts = shapely.get_parts(g)
    return max(parts, key=lambda p: p.area)


# --------------------------------------------------------------------------- districts

def district_cells() -> dict[str, shapely.Polygon]:
    """Voronoi cells of the DESIGN §3 centres, clipped to the AOI (lon/lat).

    Computed in lon·cos(39.7°), lat so that the cells are close to metric.
    """
    k = math.cos(math.radians(39.7))
    names = list(CENTRES)
    pts = shapely.MultiPoint([(CENTRES[n][1] * k, CENTRES[n][0]) for n in names])
    box = shapely.box(AOI[0] * k, AOI[1], AOI[2] * k, AOI[3])
    cells = shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=box))
    out: dict[str, shapely.Polygon] = {}
    for n in names:
        p = shapely.Point(CENTRES[n][1] * k, CENTRES[n][0])
        cell = next(c for c in cells if c.contains(p)).intersection(box)
        ll = shapely.transform(cell, lambda c: np.column_stack([c[:, 0] / k, c[:, 1]]))
        ll = shapely.transform(ll, lambda c: np.round(c, 6))
        out[n] = shapely.orient_polygons(shapely.set_precision(ll, 1e-6), exterior_cw=False)
    return out


# --------------------------------------------------------------------------- minefields

@dataclass
class Field:
    record_id: str
    handover: str
    district: str            # canonical
    spelling: str            # as written in the file
    kind: str
    utm: shapely.Geometry    # as recorded (the bow-tie stays self-intersecting)
    ll: shapely.Geometry
    valid: shapely.Geometry  # make_valid(utm), used for all spatial work
    mines_ap: int = 0
    mines_at: int = 0
    mines_total: int = 0
    ap_types: list[str] = field(default_factory=list)
    at_types: list[str] = field(default_factory=list)
    laid_date: str = ""
    reliability: str = ""
    progress: float = 0.0     # share of the field's length released so far
    buf: float = 0.0          # release buffer around the field, metres
    traverse: bool = False

    @property
    def mine_types(self) -> str:
        return ";".join(self.ap_types + self.at_types)


class Occupancy:
    """Existing geometries (UTM) for overlap checks, with a bbox prefilter."""

    def __init__(self) -> None:
        self.geoms: list[shapely.Geometry] = []
        self.boxes = np.zeros((0, 4))

    def add(self, g: shapely.Geometry) -> None:
        self.geoms.append(g)
        self.boxes = np.vstack([self.boxes, np.array(g.bounds)[None, :]])

    def hits(self, g: shapely.Geometry, margin: float = 0.0) -> bool:
        if not self.geoms:
            return False
        b = g.bounds
        m = ((self.boxes[:, 0] - margin <= b[2]) & (self.boxes[:, 2] + margin >= b[0])
             & (self.boxes[:, 1] - margin <= b[3]) & (self.boxes[:, 3] + margin >= b[1]))
        for i in np.flatnonzero(m):
            if shapely.dwithin(self.geoms[i], g, margin) if margin else \
                    self.geoms[i].intersects(g):
                return True
        return False

    def contains_xy(self, x: float, y: float) -> bool:
        m = ((self.boxes[:, 0] <= x) & (self.boxes[:, 2] >= x)
             & (self.boxes[:, 1] <= y) & (self.boxes[:, 3] >= y))
        return any(shapely.contains_xy(self.geoms[i], x, y) for i in np.flatnonzero(m))


def cell_utm(cells: dict[str, shapely.Polygon]) -> dict[str, shapely.Polygon]:
    return {n: ll_to_utm(shapely.segmentize(c, 0.01)) for n, c in cells.items()}


def field_kinds(rng: np.random.Generator, n: int, special: dict[str, int]) -> list[str]:
    kinds = list(rng.choice(["irregular", "elongated", "rect"], size=n, p=[.68, .22, .10]))
    slots = rng.permutation(n)
    i = 0
    for kind, count in special.items():
        for _ in range(count):
            kinds[int(slots[i])] = kind
            i += 1
    return [str(k) for k in kinds]


SPECIAL = {
    "Aghdam": {"bowtie": 1, "hole": 1, "multi": 1, "strip": 3},
    "Fuzuli": {"hole": 1, "strip": 2},
    "Zangilan": {"multi": 1, "strip": 1},
    "Tartar": {"strip": 1}, "Kalbajar": {"strip": 1}, "Jabrayil": {"strip": 1},
}


def clusters_for(rng: np.random.Generator, name: str, inner: shapely.Polygon,
                 n: int) -> np.ndarray:
    lat, lon = CENTRES[name]
    centres = [(lon, lat)]
    if name == "Fuzuli":
        centres.append((HORADIZ[1], HORADIZ[0]))
    out = []
    shapely.prepare(inner)
    while len(out) < n:
        lon0, lat0 = centres[len(out) % len(centres)]
        x0, y0 = _TO_UTM.transform(lon0, lat0)
        x, y = x0 + rng.normal(0, 7000), y0 + rng.normal(0, 7000)
        if shapely.contains_xy(inner, x, y):
            out.append((x, y))
    return np.array(out)


def make_fields(rng: np.random.Generator, cells_u: dict[str, shapely.Polygon],
                occ: Occupancy) -> list[Field]:
    fields: list[Field] = []
    for name, cfg in DISTRICTS.items():
        inner = cells_u[name].buffer(-1200)
        shapely.prepare(inner)
        cl = clusters_for(rng, name, cells_u[name].buffer(-2500), max(3, cfg.n_fields // 22))
        kinds = field_kinds(rng, cfg.n_fields, SPECIAL.get(name, {}))
        for i, kind in enumerate(kinds):
            for _attempt in range(200):
                cx, cy = cl[int(rng.integers(len(cl)))] + rng.normal(0, 1100, 2)
                g = make_shape(rng, kind, float(cx), float(cy))
                valid = shapely.make_valid(g) if kind == "bowtie" else g
                if not inner.contains(valid) or occ.hits(valid, 25.0):
                    continue
                ll = utm_to_ll(g, keep_invalid=kind == "bowtie")
                if kind != "bowtie" and not ll.is_valid:
                    continue
                break
            else:  # pragma: no cover - the district cells are large
                raise RuntimeError(f"cannot place field {i} in {name}")
            occ.add(valid)
            spelling = str(rng.choice(cfg.spellings, p=np.array(cfg.weights)))
            fields.append(Field(f"{cfg.prefix}-{i + 1:04d}", cfg.handover, name, spelling, kind,
                                g, ll, valid))
    return fields


def _adjust_totals(rng: np.random.Generator, totals: np.ndarray, target: int,
                   lo: int, hi: int) -> np.ndarray:
    totals = np.clip(np.round(totals * target / totals.sum()), lo, hi).astype(int)
    diff = target - int(totals.sum())
    while diff:
        i = int(rng.integers(len(totals)))
        step = 1 if diff > 0 else -1
        if lo <= totals[i] + step <= hi:
            totals[i] += step
            diff -= step
    return totals


def random_date(rng: np.random.Generator, a: dt.date, b: dt.date) -> dt.date:
    return a + dt.timedelta(days=int(rng.integers(0, (b - a).days + 1)))


def assign_mines(rng: np.random.Generator, fields: list[Field]) -> None:
    by_h: dict[str, list[Field]] = {}
    for f in fields:
        by_h.setdefault(f.handover, []).append(f)
    targets = {H_AGHDAM: AGHDAM_TOTAL, H_FZ: FZ_TOTAL, H_DEC: None}
    for h, fs in by_h.items():
        cfg = HANDOVER_CFG[h]
        raw = np.clip(np.round(rng.lognormal(5.15, 0.55, len(fs))), 20, 400)
        for j, f in enumerate(fs):
            if f.kind == "strip":
                raw[j] = rng.integers(30, 160)
        totals = raw.astype(int) if targets[h] is None else \
            _adjust_totals(rng, raw, targets[h], 20, 400)
        for f, total in zip(fs, totals, strict=True):
            total = int(total)
            unknown = int(rng.integers(5, 20)) if rng.random() < 0.02 else 0
            known = total - unknown
            if f.kind == "strip":
                share = 1.0 if rng.random() < 0.7 else 0.0
            elif rng.random() < cfg["at_only"]:
                share = 0.0
            else:
                share = float(rng.beta(*cfg["ap_beta"]))
            f.mines_ap = int(round(known * share))
            f.mines_at = known - f.mines_ap
            f.mines_total = total
            if f.mines_ap:
                k = 1 if f.kind == "strip" or rng.random() < 0.55 else 2
                f.ap_types = [str(t) for t in rng.choice(AP_TYPES, k, replace=False, p=AP_W)]
            if f.mines_at:
                k = 1 if f.kind == "strip" or rng.random() < 0.8 else 2
                f.at_types = [str(t) for t in rng.choice(AT_TYPES, k, replace=False, p=AT_W)]
            if rng.random() < cfg["y2020"]:
                d = random_date(rng, dt.date(2020, 9, 27), dt.date(2020, 11, 9))
            else:
                d = random_date(rng, dt.date(1992, 3, 1), dt.date(1994, 5, 11))
            f.laid_date = d.isoformat()
            f.reliability = str(rng.choice(["high", "medium", "low"], p=cfg["rel"]))


# --------------------------------------------------------------------------- writers

def _num(v: float) -> float:
    return round(float(v), 6)


def _geom_json(g: shapely.Geometry) -> dict:
    def ring(r) -> list:
        return [[_num(x), _num(y)] for x, y in np.asarray(r.coords)[:, :2]]

    def poly(p) -> list:
        return [ring(p.exterior)] + [ring(i) for i in p.interiors]

    if g.geom_type == "Point":
        return {"type": "Point", "coordinates": [_num(g.x), _num(g.y)]}
    if g.geom_type == "Polygon":
        return {"type": "Polygon", "coordinates": poly(g)}
    if g.geom_type == "MultiPolygon":
        return {"type": "MultiPolygon", "coordinates": [poly(p) for p in g.geoms]}
    raise ValueError(g.geom_type)


def write_geojson(path: Path, rows: list[tuple[dict, shapely.Geometry]], name: str) -> None:
    """RFC 7946 GeoJSON, one feature per line, deterministic bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"type": "Feature", "properties": props, "geometry": _geom_json(g)},
                        ensure_ascii=False, separators=(",", ":")) for props, g in rows]
    head = json.dumps({"type": "FeatureCollection", "name": name}, ensure_ascii=False)[:-1]
    path.write_text(head + ', "features": [\n' + ",\n".join(lines) + "\n]}\n", encoding="utf-8")


def field_props(f: Field, *, with_total: bool = True) -> dict:
    p = {"record_id": f.record_id, "handover": f.handover, "district": f.spelling,
         "mines_ap": f.mines_ap, "mines_at": f.mines_at}
    if with_total:
        p["mines_total"] = f.mines_total
    p.update({"mine_types": f.mine_types, "laid_date": f.laid_date,
              "reliability": f.reliability, "synthetic": True})
    return p


def field_frame(fields: list[Field], *, with_total: bool = True) -> gpd.GeoDataFrame:
    rows = [field_props(f, with_total=with_total) for f in fields]
    return gpd.GeoDataFrame(rows, geometry=[f.ll for f in fields], crs="EPSG:4326")


def write_gpkg(path: Path, df: gpd.GeoDataFrame, layer: str, stamp: str) -> None:
    # GDAL stamps gpkg_contents.last_change with the current time unless told.
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": stamp})
    try:
        pyogrio.write_dataframe(df, path, layer=layer, driver="GPKG")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def write_zipped_shapefile(path: Path, df: gpd.GeoDataFrame, day: dt.date) -> None:
    stem = path.stem
    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / f"{stem}.shp"
        pyogrio.write_dataframe(df, shp, driver="ESRI Shapefile", encoding="UTF-8")
        dbf = shp.with_suffix(".dbf")
        raw = bytearray(dbf.read_bytes())
        # DBF header bytes 1-3 hold the date of last update (YY-1900, MM, DD);
        # fix them so that the bytes do not depend on the day of generation.
        raw[1:4] = bytes([day.year - 1900, day.month, day.day])
        dbf.write_bytes(bytes(raw))
        with zipfile.ZipFile(path, "w") as z:
            for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                member = shp.with_suffix(ext)
                if not member.exists():
                    continue
                info = zipfile.ZipInfo(member.name, date_time=(day.year, day.month, day.day,
                                                               0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                z.writestr(info, member.read_bytes())


# --------------------------------------------------------------------------- clearance

@dataclass
class Week:
    start: dt.date
    end: dt.date
    districts: list[str]
    ap: int
    at: int
    uxo: int
    ha: float
    reported: bool
    published: bool

    @property
    def dateline(self) -> dt.date:
        return self.end + dt.timedelta(days=2 if self.end.weekday() == 5 else 1)

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]


@dataclass
class Release:
    report_id: str
    date_start: dt.date
    date_end: dt.date
    operator: str
    method: str
    outcome: str
    district: str
    utm: shapely.Geometry
    ll: shapely.Geometry
    fields: list[Field]
    counts: tuple[int, int, int] | None = None


def make_weeks(rng: np.random.Generator) -> list[Week]:
    weeks = []
    start = FIRST_WEEK
    while start <= LAST_WEEK:
        end = dt.date(2022, 1, 2) if start == dt.date(2021, 12, 27) else \
            start + dt.timedelta(days=5)
        if start in PUBLISHED:
            ap, at, uxo, ha = PUBLISHED[start]
            districts = list(PUBLISHED_DISTRICTS)
        else:
            k = int(rng.integers(4, 9))
            pick = rng.choice(len(ACTIVE), k, replace=False, p=ACTIVE_W / ACTIVE_W.sum())
            districts = [ACTIVE[i] for i in sorted(pick)]
            ap = int(rng.integers(5, 36))
            at = int(rng.choice(9, p=[.14, .2, .16, .13, .11, .09, .07, .06, .04]))
            uxo = int(rng.integers(50, 260))
            ha = round(float(rng.uniform(35, 120)), 1)
        reported = REPORTED[0] <= start <= REPORTED[1]
        weeks.append(Week(start, end, districts, ap, at, uxo, ha, reported, start in PUBLISHED))
        start += dt.timedelta(days=7)
    return weeks


class Clearance:
    """Weekly land release and finds, built week by week."""

    def __init__(self, rng: np.random.Generator, fields: list[Field],
                 cells_u: dict[str, shapely.Polygon], field_occ: Occupancy) -> None:
        self.rng = rng
        self.fields = [f for f in fields if not f.traverse]
        self.cells_u = cells_u
        self.inner = {n: c.buffer(-1500) for n, c in cells_u.items()}
        for g in self.inner.values():
            shapely.prepare(g)
        for g in cells_u.values():
            shapely.prepare(g)
        self.field_occ = field_occ
        self.by_district: dict[str, list[Field]] = {}
        for f in self.fields:
            self.by_district.setdefault(f.district, []).append(f)
        self.releases: list[Release] = []
        self.items: list[dict] = []
        self.seq = {2021: 0, 2022: 0}
        self.item_seq = {2021: 0, 2022: 0}

    # -- release shapes
    def _strip(self, f: Field, new_progress: float, overlap: float) -> shapely.Geometry:
        g = f.valid
        rect = shapely.minimum_rotated_rectangle(g)
        c = np.asarray(rect.exterior.coords)[:4]
        e1, e2 = c[1] - c[0], c[2] - c[1]
        u = e1 if np.hypot(*e1) >= np.hypot(*e2) else e2
        u = u / np.hypot(*u)
        v = np.array([-u[1], u[0]])
        pts = shapely.get_coordinates(g)
        s, t = pts @ u, pts @ v
        smin, smax, length = s.min(), s.max(), s.max() - s.min()
        b = f.buf
        s0 = smin - b - 2 if f.progress == 0 else smin + f.progress * length - overlap
        s1 = smax + b + 2 if new_progress >= 1 else smin + new_progress * length
        t0, t1 = t.min() - b - 5, t.max() + b + 5
        band = shapely.Polygon([s0 * u + t0 * v, s1 * u + t0 * v, s1 * u + t1 * v,
                                s0 * u + t1 * v])
        return g.buffer(b, quad_segs=2).intersection(band)

    def _bac(self, district: str, radius: float) -> shapely.Geometry | None:
        rng = self.rng
        fs = self.by_district[district]
        for _ in range(200):
            a = fs[int(rng.integers(len(fs)))].valid.centroid
            ang, dist = rng.uniform(0, 2 * np.pi), rng.uniform(500, 2500)
            cx, cy = a.x + dist * math.cos(ang), a.y + dist * math.sin(ang)
            g = shapely.Polygon(place(star(rng, int(rng.integers(6, 10)), radius, rmin=0.75),
                                      cx, cy, rng.uniform(0, np.pi), rng.uniform(0.6, 1.0)))
            if self.inner[district].contains(g) and not self.field_occ.hits(g, 10.0):
                return g
        return None

    def _new_id(self, day: dt.date) -> str:
        self.seq[day.year] += 1
        return f"REL-{day.year}-{self.seq[day.year]:04d}"

    def _release(self, week: Week, district: str, outcome: str, geom: shapely.Geometry,
                 fields: list[Field], counts=None) -> Release:
        rng = self.rng
        end = week.days()[int(rng.integers(len(week.days())))]
        if week.end.weekday() == 6 and end == week.end and rng.random() < 0.7:
            end = week.end - dt.timedelta(days=1)
        start = end - dt.timedelta(days=int(rng.integers(0, 25)))
        method = "NTS" if outcome == "cancelled" else str(rng.choice(METHODS, p=[.5, .3, .2]))
        return Release(self._new_id(end), start, end, str(rng.choice(OPERATORS)), method,
                       outcome, district, geom, utm_to_ll(geom), fields, counts)

    def _candidate(self, week: Week, district: str, outcome: str, touched: set[str]):
        """A release geometry for a district: continue, start or cover a field, or BAC."""
        rng = self.rng
        fs = [f for f in self.by_district[district] if f.record_id not in touched]
        going = [f for f in fs if 0 < f.progress < 1]
        fresh = [f for f in fs if f.progress == 0]
        u = rng.random()
        if outcome == "cancelled":
            small = [f for f in fresh if f.valid.area < 40_000]
            if not small:
                return None
            f = small[int(rng.integers(len(small)))]
            f.buf = f.buf or float(rng.uniform(10, 40))
            return f.valid.buffer(f.buf, quad_segs=2), [f], 1.0
        if going and u < 0.3:
            f = going[int(rng.integers(len(going)))]
        elif fresh and u < 0.92:
            f = fresh[int(rng.integers(len(fresh)))]
            f.buf = f.buf or float(rng.uniform(10, 45))
            if f.valid.area < 30_000 and rng.random() < 0.35:
                return f.valid.buffer(f.buf, quad_segs=2), [f], 1.0
        else:
            g = self._bac(district, float(rng.uniform(70, 220)))
            return (g, [], None) if g is not None else None
        step = float(rng.uniform(0.15, 0.5))
        new = 1.0 if f.progress + step > 0.93 else f.progress + step
        overlap = float(rng.choice([0.0, rng.uniform(3, 20)]))
        return self._strip(f, new, overlap), [f], new

    def week_releases(self, week: Week, count_only: bool) -> list[Release]:
        rng = self.rng
        strict = week.published
        rels: list[Release] = []
        cleared_ll: list[shapely.Geometry] = []
        touched: set[str] = set()

        def cleared_area(extra: shapely.Geometry | None = None) -> float:
            gs = cleared_ll + ([extra] if extra is not None else [])
            return area_ha(shapely.union_all(gs)) if gs else 0.0

        plan = [(d, "cleared") for d in week.districts]
        for _ in range(int(rng.integers(3, 9))):
            d = week.districts[int(rng.integers(len(week.districts)))]
            o = "cleared" if strict else str(rng.choice(["cleared", "reduced", "cancelled"],
                                                        p=[.7, .2, .1]))
            plan.append((d, o))
        budget = week.ha - 1.5
        for d, outcome in plan:
            for _attempt in range(25):
                cand = self._candidate(week, d, outcome, touched)
                if cand is None:
                    continue
                g, fs, new_progress = cand
                if g.is_empty or g.area < 2000:
                    continue
                ll = utm_to_ll(g)
                if outcome == "cleared":
                    if strict and any(ll.intersects(c) and ll.intersection(c).area > 0
                                      for c in cleared_ll):
                        continue
                    if cleared_area(ll) > budget:
                        continue
                rel = self._release(week, d, outcome, g, fs)
                rels.append(rel)
                if outcome == "cleared":
                    cleared_ll.append(rel.ll)
                for f in fs:
                    touched.add(f.record_id)
                    f.progress = new_progress
                break
        if count_only:
            # A cleared release reported with counts only (no item points), so
            # that crossref apportions its finds to the fields it overlaps.
            d = week.districts[0]
            for _attempt in range(25):
                cand = self._candidate(week, d, "cleared", touched)
                if cand is None or not cand[1]:
                    continue
                g, fs, new_progress = cand
                ll = utm_to_ll(g)
                if cleared_area(ll) > budget:
                    continue
                counts = (int(rng.integers(2, 12)), int(rng.integers(0, 4)),
                          int(rng.integers(0, 30)))
                rel = self._release(week, d, "cleared", g, fs, counts)
                rels.append(rel)
                cleared_ll.append(rel.ll)
                for f in fs:
                    touched.add(f.record_id)
                    f.progress = new_progress
                break
        # Battle-area clearance away from the recorded fields: a few of random
        # size, then one sized so that the week's cleared union is the figure
        # the weekly report gives.
        for _ in range(12):
            need = week.ha - cleared_area()
            if need < 14:
                break
            size = min(need - 6, float(rng.uniform(3, 14)))
            d = week.districts[int(rng.integers(len(week.districts)))]
            g = self._bac(d, math.sqrt(size * 10_000 / math.pi))
            if g is None:
                continue
            ll = utm_to_ll(g)
            if strict and any(ll.intersects(c) for c in cleared_ll):
                continue
            rel = self._release(week, d, "cleared", g, [])
            rels.append(rel)
            cleared_ll.append(rel.ll)
        need = week.ha - cleared_area()
        counts = {d: sum(r.district == d for r in rels) for d in week.districts}
        order = sorted(week.districts, key=lambda d: (counts[d], week.districts.index(d)))
        for d in order * 3:
            g = self._bac(d, math.sqrt(need * 10_000 / math.pi))
            if g is None:
                continue
            for _ in range(8):
                ll = utm_to_ll(g)
                total = cleared_area(ll)
                if abs(total - week.ha) < 0.0005:
                    break
                have = area_ha(ll)
                want = have + (week.ha - total)
                if want <= 0.1:
                    break
                f = math.sqrt(want / have)
                g = shapely.affinity.scale(g, f, f, origin="centroid")
            if abs(cleared_area(utm_to_ll(g)) - week.ha) >= 0.002 or \
                    self.field_occ.hits(g, 5.0) or not self.inner[d].contains(g) or \
                    (strict and any(utm_to_ll(g).intersects(c) for c in cleared_ll)):
                continue
            rel = self._release(week, d, "cleared", g, [])
            rels.append(rel)
            cleared_ll.append(rel.ll)
            break
        else:  # pragma: no cover
            raise RuntimeError(f"cannot size the week {week.start}")
        assert abs(cleared_area() - week.ha) < 0.002, week.start
        self.releases.extend(rels)
        return rels

    # -- items
    def _district_of(self, x: float, y: float) -> str | None:
        for n, c in self.cells_u.items():
            if shapely.contains_xy(c, x, y):
                return n
        return None

    def _item(self, week: Week, kind: str, model: str, x: float, y: float,
              rels: list[Release]) -> None:
        rng = self.rng
        lon, lat = (round(v, 6) for v in _TO_LL.transform(x, y))
        # Linked by the geometry as written (rounded), as any reader will see it.
        link = next((r for r in rels if r.outcome != "cancelled" and r.counts is None
                     and shapely.contains_xy(r.ll, lon, lat)), None)
        if link is not None:
            lo = max(week.start, link.date_start)
            day = random_date(rng, lo, link.date_end)
        else:
            days = week.days()
            day = days[int(rng.integers(len(days)))]
        self.item_seq[day.year] += 1
        self.items.append({
            "item_id": f"ITM-{day.year}-{self.item_seq[day.year]:05d}", "item_type": kind,
            "date": day, "model": model, "report_id": link.report_id if link else None,
            "district": self._district_of(x, y), "lon": lon, "lat": lat,
        })

    def _outside_point(self, f: Field, dist: float) -> tuple[float, float]:
        ring = largest_part(f.valid.buffer(dist, quad_segs=4)).exterior
        p = ring.interpolate(self.rng.uniform(0, ring.length))
        return p.x, p.y

    def _ok(self, week: Week, x: float, y: float, rels: list[Release], *,
            outside_fields: bool) -> bool:
        d = self._district_of(x, y)
        if d not in week.districts:
            return False
        if outside_fields and self.field_occ.contains_xy(x, y):
            return False
        if any(r.outcome == "cancelled" and shapely.contains_xy(r.utm, x, y) for r in rels):
            return False
        return all(r.counts is None or not shapely.contains_xy(r.utm, x, y) for r in rels)

    def week_items(self, week: Week, rels: list[Release]) -> None:
        rng = self.rng
        worked = [r for r in rels if r.outcome != "cancelled" and r.counts is None]
        pairs = [(r, f, r.utm.intersection(f.valid)) for r in worked for f in r.fields]
        pairs = [p for p in pairs if p[2].area > 50]
        for kind, n in (("AP", week.ap), ("AT", week.at)):
            for _ in range(n):
                for _attempt in range(200):
                    if pairs:
                        rel, f, region = pairs[int(rng.integers(len(pairs)))]
                    else:
                        d = week.districts[int(rng.integers(len(week.districts)))]
                        fs = self.by_district[d]
                        f, region = fs[int(rng.integers(len(fs)))], None
                    cfg = HANDOVER_CFG[f.handover]
                    types = f.ap_types if kind == "AP" else f.at_types
                    if rng.random() < cfg["p_out"]:
                        u = rng.random()
                        if u < 0.18:
                            dist = rng.uniform(3, 25)
                        elif u < 0.80:
                            dist = rng.uniform(25, 100)
                        else:
                            dist = min(100 + rng.exponential(140 * cfg["tail"]), 800)
                        x, y = self._outside_point(f, float(dist))
                        if not self._ok(week, x, y, rels, outside_fields=True):
                            continue
                        types = []
                    else:
                        x, y = sample_in(rng, region if region is not None else f.valid)[0]
                        if not self._ok(week, x, y, rels, outside_fields=False):
                            continue
                    pool = types or list(AP_TYPES if kind == "AP" else AT_TYPES)
                    self._item(week, kind, str(pool[int(rng.integers(len(pool)))]), x, y, rels)
                    break
                else:  # pragma: no cover
                    raise RuntimeError(f"cannot place {kind} item in week {week.start}")
        for _ in range(week.uxo):
            for _attempt in range(200):
                if worked and rng.random() < 0.85:
                    r = worked[int(rng.integers(len(worked)))]
                    x, y = sample_in(rng, r.utm)[0]
                else:
                    d = week.districts[int(rng.integers(len(week.districts)))]
                    fs = self.by_district[d]
                    f = fs[int(rng.integers(len(fs)))]
                    x, y = self._outside_point(f, float(rng.uniform(50, 800)))
                if self._ok(week, x, y, rels, outside_fields=False):
                    self._item(week, "UXO", str(rng.choice(UXO_MODELS)), x, y, rels)
                    break
            else:  # pragma: no cover
                raise RuntimeError(f"cannot place UXO in week {week.start}")


# --------------------------------------------------------------------------- reports

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
        "eighteen", "nineteen")
TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


def words(n: int) -> str:
    if n < 20:
        return ONES[n]
    t, o = divmod(n, 10)
    return TENS[t] + (f"-{ONES[o]}" if o else "")


def count_phrase(rng: np.random.Generator, n: int, singular: str, plural: str, *,
                 first: bool) -> str:
    if n == 0:
        s = f"no {plural}"
    elif n == 1:
        s = str(rng.choice([f"an {singular}" if singular[0] in "aeiou" else f"a {singular}",
                            f"one {singular}"]))
    elif n < 100 and rng.random() < (0.7 if first else 0.35):
        s = f"{words(n)} {plural}"
    else:
        s = f"{n} {plural}"
    return s[0].upper() + s[1:] if first else s


def period_phrase(rng: np.random.Generator, a: dt.date, b: dt.date) -> str:
    left = f"{MONTHS[a.month - 1]} {a.day}"
    right = f"{b.day}" if a.month == b.month and rng.random() < 0.7 else \
        f"{MONTHS[b.month - 1]} {b.day}"
    if rng.random() < 0.3:
        return f"during the week of {left} to {right}"
    return f"from {left} to {right}"


def district_list(rng: np.random.Generator, names: list[str]) -> str:
    spelled = []
    for n in names:
        cfg = DISTRICTS.get(n)
        # English news texts use Latin or Azerbaijani spellings, not Cyrillic.
        options = [o for o in (cfg.spellings if cfg else (n,))
                   if not any("\u0400" <= c <= "\u04ff" for c in o)]
        s = str(options[int(rng.integers(len(options)))]) if rng.random() < 0.5 else n
        spelled.append(s.replace(" region", ""))
    if len(spelled) == 1:
        return spelled[0]
    sep = ", and " if rng.random() < 0.5 else " and "
    return ", ".join(spelled[:-1]) + sep + spelled[-1]


def hectares(rng: np.random.Generator, ha: float) -> str:
    s = f"{ha:.1f}"
    if rng.random() < 0.3:
        s = s.replace(".", ",")
    return s


def report_text(rng: np.random.Generator, week: Week, names: list[str]) -> str:
    ap = ("antipersonnel mine", "antipersonnel mines") if rng.random() < 0.5 else \
        ("anti-personnel mine", "anti-personnel mines")
    at = ("anti-tank mine", "anti-tank mines")
    uxo = ("unexploded ordnance", "unexploded ordnance")
    period = period_phrase(rng, week.start, week.end)
    where = district_list(rng, names)
    ha = hectares(rng, week.ha)
    head = f"date {week.dateline.isoformat()} By Azernews\n\n"
    if rng.random() < 0.5:
        total = week.ap + week.at + week.uxo
        counts = (f"{count_phrase(rng, week.ap, *ap, first=True)}, "
                  f"{count_phrase(rng, week.at, *at, first=False)}, and "
                  f"{count_phrase(rng, week.uxo, *uxo, first=False)}")
        return (head + f"Some {total} mines and munitions have been found and defused in "
                "Azerbaijani territories liberated from Armenia's occupation in November "
                "2020, the Mine Action Agency (ANAMA) said in its weekly report.\n\n"
                f"{counts} were found and neutralized during the demining operations in "
                f"{where} regions {period}, the report added.\n\n"
                f"A total of {ha} hectares were cleared of mines and unexploded ordnance in "
                "the liberated areas in the said period.\n")
    counts = (f"{count_phrase(rng, week.ap, *ap, first=False)}, "
              f"{count_phrase(rng, week.at, *at, first=False)} and "
              f"{count_phrase(rng, week.uxo, *uxo, first=False)}")
    return (head + "The Mine Action Agency (ANAMA) has said in its weekly report that "
            f"{counts} were found and neutralized in the liberated territories {period}.\n\n"
            f"The operations were conducted in {where} regions.\n\n"
            f"A total of {ha} hectares were cleared of mines and unexploded ordnance in the "
            "said period.\n")


# --------------------------------------------------------------------------- traverse records

def _sk42_transformer() -> Transformer:
    group = TransformerGroup(GK8, "EPSG:4326", always_xy=True,
                             area_of_interest=AreaOfInterest(*AOI))
    return group.transformers[0]


def igrf_declination(lon: float, lat: float, day: dt.date) -> float:
    import ppigrf
    be, bn, _bu = ppigrf.igrf(lon, lat, 0.0, dt.datetime(day.year, day.month, day.day))
    return float(np.degrees(np.arctan2(np.ravel(be)[0], np.ravel(bn)[0])))


def fmt_angle(value: float, unit: str) -> str | float | int:
    """A bearing in degrees written in the record's unit, rounded as surveyors do."""
    if unit == "mil6000":
        n = int(round(value % 360 / 0.06)) % 6000
        return f"{n // 100:02d}-{n % 100:02d}"
    if unit == "mil6400":
        return int(round(value % 360 * 6400 / 360)) % 6400
    return round(value % 360, 1) % 360


def angle_deg(value, unit: str) -> float:
    if unit == "mil6000":
        a, b = str(value).split("-")
        return (int(a) * 100 + int(b)) * 0.06
    if unit == "mil6400":
        return float(value) * 360 / 6400
    return float(value)


@dataclass
class TraversePlan:
    record_id: str
    district: str
    spelling: str
    file: str
    rp: str             # sk42_epsg | sk42_zone | latlon | mgrs
    unit: str
    north: str          # grid | true | magnetic
    magnetic: str = ""  # declination | correction | model
    closed: bool = True
    intermediate: bool = False
    rows: bool = False
    laid_date: str = ""


TRAVERSE_PLANS = [
    # file, record, district, rp, unit, north, extras
    TraversePlan("KLB-0101", "Kalbajar", "Kəlbəcər", "kalbajar_2021-12-04.yaml", "sk42_epsg",
                 "mil6000", "grid", rows=True),
    TraversePlan("KLB-0102", "Kalbajar", "Kalbajar", "kalbajar_2021-12-04.yaml", "sk42_epsg",
                 "mil6000", "grid"),
    TraversePlan("KLB-0103", "Kalbajar", "Kelbajar", "kalbajar_2021-12-04.yaml", "sk42_zone",
                 "mil6000", "grid"),
    TraversePlan("KLB-0104", "Kalbajar", "Kalbajar", "kalbajar_2021-12-04.yaml", "latlon",
                 "deg", "grid"),
    TraversePlan("KLB-0105", "Kalbajar", "Kəlbəcər", "kalbajar_2021-12-04.yaml", "sk42_epsg",
                 "mil6000", "magnetic", magnetic="correction"),
    TraversePlan("KLB-0106", "Kalbajar", "Kalbajar", "kalbajar_2021-12-04.yaml", "latlon",
                 "mil6000", "magnetic", magnetic="declination"),
    TraversePlan("KLB-0107", "Kalbajar", "Kalbajar", "kalbajar_2021-12-04.yaml", "latlon",
                 "deg", "true"),
    TraversePlan("KLB-0108", "Kalbajar", "Kelbajar", "kalbajar_2021-12-04.yaml", "sk42_zone",
                 "mil6000", "grid", closed=False),
    TraversePlan("LAC-0101", "Lachin", "Laçın", "lachin_2021-12-04.yaml", "sk42_epsg",
                 "mil6000", "grid", intermediate=True),
    TraversePlan("LAC-0102", "Lachin", "Lachin", "lachin_2021-12-04.yaml", "mgrs",
                 "mil6400", "grid"),
    TraversePlan("LAC-0103", "Lachin", "Лачин", "lachin_2021-12-04.yaml", "latlon",
                 "mil6000", "magnetic", magnetic="model", laid_date="1993-05-14"),
    TraversePlan("LAC-0104", "Lachin", "Lachin", "lachin_2021-12-04.yaml", "sk42_zone",
                 "mil6000", "grid"),
    TraversePlan("GUB-0101", "Gubadli", "Qubadlı", "GUB-0101.yaml", "sk42_epsg", "mil6000",
                 "grid"),
    TraversePlan("GUB-0102", "Gubadli", "Gubadli", "GUB-0102.yaml", "latlon", "deg", "grid"),
    TraversePlan("JBR-0101", "Jabrayil", "Jabrail", "JBR-0101.yaml", "sk42_zone", "mil6000",
                 "grid"),
    TraversePlan("JBR-0102", "Jabrayil", "Cəbrayıl", "JBR-0102.yaml", "latlon", "deg", "true"),
    TraversePlan("TRT-0101", "Tartar", "Terter", "TRT-0101.yaml", "sk42_epsg", "mil6000",
                 "grid"),
    TraversePlan("TRT-0102", "Tartar", "Tartar", "TRT-0102.yaml", "latlon", "mil6000",
                 "magnetic", magnetic="declination"),
    TraversePlan("KHV-0101", "Khojavand", "Khojavand", "KHV-0101.yaml", "sk42_epsg",
                 "mil6000", "grid"),
    TraversePlan("KHV-0102", "Khojavand", "Xocavənd", "KHV-0102.yaml", "latlon", "deg", "grid"),
    TraversePlan("SHU-0101", "Shusha", "Şuşa", "SHU-0101.yaml", "sk42_zone", "mil6000", "grid"),
    TraversePlan("AGR-0101", "Aghdara", "Ağdərə", "AGR-0101.yaml", "mgrs", "deg", "grid"),
    TraversePlan("KHJ-0101", "Khojaly", "Khojaly", "KHJ-0101.yaml", "sk42_epsg", "mil6000",
                 "grid"),
]


class Traverses:
    """Traverse records computed from intended polygons (DESIGN §6)."""

    def __init__(self, rng: np.random.Generator, cells_u: dict[str, shapely.Polygon],
                 occ: Occupancy) -> None:
        self.rng = rng
        self.cells_u = cells_u
        self.occ = occ
        self.sk42 = _sk42_transformer()
        self.sk42_inv = TransformerGroup("EPSG:4326", GK8, always_xy=True,
                                         area_of_interest=AreaOfInterest(*AOI)).transformers[0]
        self.proj = {GK8: Proj(GK8), UTM: Proj(UTM)}
        self.mgrs = mgrs.MGRS()

    def _k(self, crs: str, x: float, y: float) -> float:
        lon, lat = self.proj[crs](x, y, inverse=True)
        return float(self.proj[crs].get_factors(lon, lat).meridional_scale)

    def _to_ll(self, crs: str, x: float, y: float) -> tuple[float, float]:
        if crs == GK8:
            return self.sk42.transform(x, y)
        return _TO_LL.transform(x, y)

    def _from_utm(self, crs: str, x: float, y: float) -> tuple[float, float]:
        if crs == GK8:
            return self.sk42_inv.transform(*_TO_LL.transform(x, y))
        return x, y

    def _shape(self, plan: TraversePlan) -> tuple[np.ndarray, np.ndarray]:
        """Intended vertices (UTM) and the reference point (UTM)."""
        rng = self.rng
        inner = self.cells_u[plan.district].buffer(-3000)
        shapely.prepare(inner)
        lat, lon = CENTRES[plan.district]
        x0, y0 = _TO_UTM.transform(lon, lat)
        for _ in range(500):
            cx, cy = x0 + rng.normal(0, 6000), y0 + rng.normal(0, 6000)
            n = int(rng.integers(5, 8)) if not plan.rows else 4
            xy = place(star(rng, n, float(rng.uniform(90, 220)), jitter=0.2, rmin=0.8),
                       cx, cy, rng.uniform(0, np.pi), rng.uniform(0.6, 1.0))
            poly = shapely.Polygon(xy)
            ang = math.atan2(xy[0, 1] - cy, xy[0, 0] - cx) + rng.uniform(-0.5, 0.5)
            d = float(rng.uniform(120, 350))
            rp = np.array([xy[0, 0] + d * math.cos(ang), xy[0, 1] + d * math.sin(ang)])
            if poly.is_valid and inner.contains(poly) and not self.occ.hits(poly, 40.0) \
                    and not poly.buffer(20).contains(shapely.Point(rp)):
                if plan.intermediate:
                    xy = self._with_intermediates(xy)
                return xy, rp
        raise RuntimeError(plan.record_id)  # pragma: no cover

    def _with_intermediates(self, xy: np.ndarray) -> np.ndarray:
        out = []
        self.inter = []
        for i in range(len(xy)):
            a, b = xy[i], xy[(i + 1) % len(xy)]
            out.append(a)
            self.inter.append(False)
            if np.hypot(*(b - a)) > 120:
                m = (a + b) / 2
                perp = np.array([-(b - a)[1], (b - a)[0]]) / np.hypot(*(b - a))
                out.append(m + perp * self.rng.uniform(-2.0, 2.0))
                self.inter.append(True)
        return np.array(out)

    def build(self, plan: TraversePlan) -> tuple[dict, list[dict], shapely.Polygon]:
        rng = self.rng
        self.inter = []
        xy_u, rp_u = self._shape(plan)
        n = len(xy_u)
        flags = self.inter or [False] * n
        laid = plan.laid_date or random_date(rng, dt.date(1992, 4, 1),
                                             dt.date(1994, 4, 30)).isoformat()
        laid_day = dt.date.fromisoformat(laid)
        geodesic = plan.north in ("true",) or (plan.north == "magnetic"
                                                and plan.magnetic != "correction")
        crs = GK8 if plan.rp in ("sk42_epsg", "sk42_zone") else UTM
        rec: dict = {"record_id": plan.record_id, "handover": H_DEC, "district": plan.spelling,
                     "laid_date": laid}
        ap = int(rng.integers(30, 260))
        at = int(rng.integers(0, 40)) if rng.random() < 0.6 else 0
        aptypes = [str(t) for t in rng.choice(AP_TYPES, 1 + int(rng.random() < 0.3),
                                              replace=False, p=AP_W)]
        attypes = [str(rng.choice(AT_TYPES, p=AT_W))] if at else []
        rec["mines"] = {"ap": ap, "at": at}
        rec["mine_types"] = aptypes + attypes

        # Reference point, as written and as used.
        if plan.rp in ("sk42_epsg", "sk42_zone"):
            e, nn = self._from_utm(GK8, *rp_u)
            e, nn = round(e, 2), round(nn, 2)
            rec["reference_point"] = {"crs": "EPSG:28408" if plan.rp == "sk42_epsg" else "SK-42",
                                      "easting": e, "northing": nn}
            rp_plane = np.array([e, nn])
            rp_ll = self._to_ll(GK8, e, nn)
        elif plan.rp == "mgrs":
            lon, lat = _TO_LL.transform(*(np.floor(rp_u) + 0.5))
            code = self.mgrs.toMGRS(lat, lon, MGRSPrecision=5)
            lat2, lon2 = self.mgrs.toLatLon(code)
            rec["reference_point"] = {"mgrs": code}
            rp_ll = (lon2, lat2)
            rp_plane = np.array(_TO_UTM.transform(lon2, lat2))
        else:
            lon, lat = _TO_LL.transform(*rp_u)
            lon, lat = round(lon, 6), round(lat, 6)
            rec["reference_point"] = {"lat": lat, "lon": lon}
            rp_ll = (lon, lat)
            rp_plane = np.array(_TO_UTM.transform(lon, lat))
        rec["angle_unit"] = plan.unit
        rec["north"] = plan.north

        decl = 0.0
        correction = 0.0
        if plan.north == "magnetic":
            model = igrf_declination(rp_ll[0], rp_ll[1], laid_day)
            if plan.magnetic == "declination":
                decl = round(model, 1)
                rec["declination_deg"] = decl
            elif plan.magnetic == "model":
                decl = model
            else:
                # Soviet direction correction = declination - grid convergence
                # (magnetic + correction = grid).  The grid bearing of true
                # north, measured numerically in the GK plane, is -convergence.
                x, y = rp_plane
                lon, lat = self.proj[GK8](x, y, inverse=True)
                x2, y2 = self.proj[GK8](lon, lat + 0.01)
                grid_of_north = math.degrees(math.atan2(x2 - x, y2 - y))
                correction = round(model + grid_of_north, 1)
                rec["angle_unit"] = "deg"
                rec["direction_correction"] = correction
        rec["closed"] = plan.closed
        unit = rec["angle_unit"]

        # Intended vertices in the working frame.
        if geodesic:
            tps = [np.array(_TO_LL.transform(*p)) for p in xy_u]
            pos = np.array(rp_ll, dtype=float)
        else:
            tps = [np.array(self._from_utm(crs, *p)) for p in xy_u]
            pos = rp_plane.astype(float)

        def leg(a: np.ndarray, b: np.ndarray) -> tuple[dict, np.ndarray]:
            if geodesic:
                az, _baz, dist = GEOD.inv(a[0], a[1], b[0], b[1])
                written = fmt_angle(az - decl, unit)
                dist_r = round(dist, 1)
                used = angle_deg(written, unit) + decl
                lon, lat, _ = GEOD.fwd(a[0], a[1], used, dist_r)
                return {"bearing": written, "distance_m": dist_r}, np.array([lon, lat])
            d = b - a
            grid_b = math.degrees(math.atan2(d[0], d[1]))
            k = self._k(crs, *a)
            ground = math.hypot(*d) / k
            written = fmt_angle(grid_b - correction, unit)
            dist_r = round(ground, 1)
            used = math.radians(angle_deg(written, unit) + correction)
            return ({"bearing": written, "distance_m": dist_r},
                    a + dist_r * k * np.array([math.sin(used), math.cos(used)]))

        def metres(a: np.ndarray, b: np.ndarray) -> float:
            if geodesic:
                return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])
            return float(math.hypot(*(b - a)))

        legs: list[dict] = []
        first, pos = leg(pos, tps[0])
        legs.append(first)
        recorded = [pos.copy()]
        for i in range(1, n):
            lg, pos = leg(pos, tps[i])
            if flags[i]:
                lg["point"] = "intermediate"
            legs.append(lg)
            recorded.append(pos.copy())
        if plan.closed:
            tp1 = recorded[0]
            perim = sum(metres(recorded[i], recorded[i + 1]) for i in range(n - 1))
            for _ in range(200):
                m = float(rng.uniform(0.1, 0.4))
                th = float(rng.uniform(0, 2 * np.pi))
                if geodesic:
                    lon, lat, _ = GEOD.fwd(tp1[0], tp1[1], math.degrees(th), m)
                    aim = np.array([lon, lat])
                else:
                    aim = tp1 + m * np.array([math.sin(th), math.cos(th)])
                lg, end = leg(pos, aim)
                mis = metres(end, tp1)
                total = perim + metres(pos, end)
                if 0.1 <= mis <= 0.5 and total / mis >= 500:
                    legs.append(lg)
                    break
            else:  # pragma: no cover
                raise RuntimeError(plan.record_id)
        rec["legs"] = legs
        if plan.rows:
            rows = []
            left = {"ap": ap, "at": at}
            centre = np.mean(np.array(tps), axis=0)
            for i, (kind, mt) in enumerate((("ap", aptypes[0]), ("at", (attypes or [""])[0]))):
                if not left[kind]:
                    continue
                a = tps[i]
                d = (centre - a) * 0.8
                lg, _end = leg(a, a + d)
                rows.append({"from": f"TP{i + 1}", "bearing": lg["bearing"],
                             "distance_m": round(lg["distance_m"]), "mines": left[kind],
                             "type": mt})
            rec["rows"] = rows

        # Expected vertices: the intended polygon, lon/lat and plane.
        expected = [{"record_id": plan.record_id, "file": plan.file, "vertex": 0, "label": "RP",
                     "point_type": "reference", "lon": round(rp_ll[0], 8),
                     "lat": round(rp_ll[1], 8), "plane_crs": "" if geodesic else crs,
                     "x": "" if geodesic else round(float(rp_plane[0]), 3),
                     "y": "" if geodesic else round(float(rp_plane[1]), 3)}]
        tp = ip = 0
        for i in range(n):
            if flags[i]:
                ip += 1
                label, ptype = f"IP{ip}", "intermediate"
            else:
                tp += 1
                label, ptype = f"TP{tp}", "turning"
            lon, lat = _TO_LL.transform(*xy_u[i])
            if not geodesic:
                lon, lat = self._to_ll(crs, *tps[i])
            expected.append({"record_id": plan.record_id, "file": plan.file, "vertex": i + 1,
                             "label": label, "point_type": ptype, "lon": round(lon, 8),
                             "lat": round(lat, 8), "plane_crs": "" if geodesic else crs,
                             "x": "" if geodesic else round(float(tps[i][0]), 3),
                             "y": "" if geodesic else round(float(tps[i][1]), 3)})
        poly_u = shapely.Polygon(xy_u)
        self.occ.add(poly_u)
        return rec, expected, poly_u


def yaml_scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    s = str(v)
    if s and all(c.isalnum() or c in "-_." for c in s) and not s[0].isdigit() \
            and s.lower() not in ("true", "false", "null", "yes", "no", "on", "off"):
        return s
    return json.dumps(s, ensure_ascii=False)


def yaml_flow(d: dict) -> str:
    return "{" + ", ".join(f"{k}: {yaml_scalar(v)}" for k, v in d.items()) + "}"


def yaml_record(rec: dict, indent: str = "") -> str:
    lines = []
    for k, v in rec.items():
        if k == "laid_date":
            lines.append(f"{k}: {v}")
        elif isinstance(v, dict):
            lines.append(f"{k}: {yaml_flow(v)}")
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            lines.append(f"{k}:")
            lines.extend(f"  - {yaml_flow(x)}" for x in v)
        elif isinstance(v, list):
            lines.append(f"{k}: [{', '.join(yaml_scalar(x) for x in v)}]")
        else:
            lines.append(f"{k}: {yaml_scalar(v)}")
    return "\n".join(indent + line for line in lines) + "\n"


YAML_HEADER = ("# SYNTHETIC sample minefield record(s) for minemap - not real data.\n"
               "# Generated by tools/make_sample_maps.py (DESIGN.md section 6 format).\n")


def write_traverse(out: Path, recs: list[tuple[TraversePlan, dict]]) -> list[str]:
    files: dict[str, list[dict]] = {}
    for plan, rec in recs:
        # The mark on the record itself: a list file's header comment is not
        # part of each record's text, which is what the store keeps.
        rec = {"record_id": rec["record_id"], "synthetic": True, **rec}
        files.setdefault(plan.file, []).append(rec)
    names = []
    for name, rs in files.items():
        path = out / "traverse" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if len(rs) == 1:
            body = yaml_record(rs[0])
        else:
            body = ""
            for r in rs:
                text = yaml_record(r, "  ")
                body += "- " + text[2:]
        path.write_text(YAML_HEADER + body, encoding="utf-8")
        names.append(f"traverse/{name}")
    return names


# --------------------------------------------------------------------------- unmapped fields

#: Minefields that no handed-over map records (ANAMA: most incidents happened
#: outside the maps).  Per field: district, AP and AT mines laid, AP and AT
#: finds so far, incidents.  Their finds and incidents lie far beyond every
#: recorded field's 500 m footprint, so that ``minemap suspects`` finds them.
UNMAPPED = (
    ("Aghdam", 140, 6, 15, 2, 2),
    ("Fuzuli", 95, 14, 10, 3, 1),
    ("Jabrayil", 70, 9, 8, 3, 2),
    ("Zangilan", 60, 4, 9, 1, 1),
)
#: Clearance of unmapped land happens outside the reported weeks, so that the
#: weekly report figures (and the two real texts) still match the items.
UNMAPPED_WINDOWS = ((dt.date(2021, 8, 2), dt.date(2021, 11, 14)),
                    (dt.date(2022, 3, 7), dt.date(2022, 4, 30)))
UNMAPPED_CLEAR_M = 1800.0   # from every recorded field (footprints reach 500 m)
UNMAPPED_LINK_M = 80.0      # every find within this of two others (suspects' eps: 100 m)


def _linked(xy: np.ndarray, link: float) -> bool:
    """Every point has two others within `link` metres, and all form one group."""
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    near = d <= link
    if (near.sum(axis=1) < 3).any():
        return False
    seen, todo = {0}, [0]
    while todo:
        for j in np.flatnonzero(near[todo.pop()]):
            if int(j) not in seen:
                seen.add(int(j))
                todo.append(int(j))
    return len(seen) == len(xy)


def make_unmapped(rng: np.random.Generator, cells_u: dict[str, shapely.Polygon],
                  recorded: list[shapely.Geometry], releases: list[shapely.Geometry],
                  incidents_xy: list[tuple[float, float]]) -> tuple[list, list, list]:
    """Unmapped fields: (truth rows, item rows, incident rows), lon/lat geometries.

    Each field is a compact outline 150-300 m across, far from every recorded
    field, release and other incident; its finds lie inside it, linked
    closely enough that they form one group; its incidents lie among them.
    """
    fields_tree = shapely.STRtree(recorded)
    rel_tree = shapely.STRtree(releases)
    inc_pts = shapely.points(np.asarray(incidents_xy, dtype=float))
    truth, items, incidents = [], [], []
    centres: list[tuple[float, float]] = []
    n_item = n_inc = 0
    for k, (district, mines_ap, mines_at, found_ap, found_at, n_incidents) in \
            enumerate(UNMAPPED, start=1):
        inner = cells_u[district].buffer(-1500)
        shapely.prepare(inner)
        x0, y0, x1, y1 = inner.bounds
        for _ in range(5000):
            cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
            r = float(rng.uniform(75, 150))
            g = shapely.Polygon(place(star(rng, int(rng.integers(6, 11)), r, rmin=0.7), cx, cy,
                                      rng.uniform(0, np.pi), rng.uniform(0.65, 1.0)))
            if not inner.contains(g) or len(fields_tree.query(g, "dwithin", UNMAPPED_CLEAR_M)):
                continue
            if len(rel_tree.query(g, "dwithin", 400.0)):
                continue
            if len(inc_pts) and shapely.dwithin(inc_pts, g, 400.0).any():
                continue
            if any(math.hypot(cx - a, cy - b) < 5000 for a, b in centres):
                continue
            n = found_ap + found_at
            for _attempt in range(200):
                xy = sample_in(rng, g, n)
                if _linked(xy, UNMAPPED_LINK_M):
                    break
            else:
                continue
            break
        else:
            raise RuntimeError(f"no room for an unmapped field in {district}")
        centres.append((cx, cy))
        window = UNMAPPED_WINDOWS[k % 2]
        first = random_date(rng, window[0], window[1] - dt.timedelta(days=28))
        ids = []
        for j, (x, y) in enumerate(xy):
            n_item += 1
            kind = "AP" if j < found_ap else "AT"
            model = str(rng.choice(AP_TYPES, p=AP_W) if kind == "AP" else
                        rng.choice(AT_TYPES, p=AT_W))
            day = first + dt.timedelta(days=int(rng.integers(0, 28)))
            lon, lat = _TO_LL.transform(x, y)
            item_id = f"ITM-UNM-{n_item:04d}"
            ids.append(item_id)
            items.append(({"item_id": item_id, "item_type": kind, "date": day.isoformat(),
                           "model": model, "report_id": None, "district": district,
                           "synthetic": True}, shapely.Point(round(lon, 6), round(lat, 6))))
        inc_ids = []
        for _ in range(n_incidents):
            # A casualty among the finds: the incident that first told of the field.
            while True:
                x, y = sample_in(rng, g)[0]
                if np.hypot(xy[:, 0] - x, xy[:, 1] - y).min() <= UNMAPPED_LINK_M:
                    break
            n_inc += 1
            killed = int(rng.choice([0, 1, 1, 2]))
            injured = int(rng.integers(0 if killed else 1, 4))
            day = random_date(rng, dt.date(2020, 12, 1), first - dt.timedelta(days=14))
            lon, lat = _TO_LL.transform(x, y)
            inc_id = f"INC-U{n_inc:03d}"
            inc_ids.append(inc_id)
            incidents.append(({"incident_id": inc_id, "date": day.isoformat(),
                               "killed": killed, "injured": injured,
                               "civilian": bool(rng.random() < 0.7), "synthetic": True},
                              shapely.Point(round(lon, 6), round(lat, 6))))
        truth.append(({"field_id": f"UNMAPPED-{k}", "district": district,
                       "mines_ap": mines_ap, "mines_at": mines_at,
                       "found_ap": found_ap, "found_at": found_at,
                       "item_ids": ";".join(ids), "incident_ids": ";".join(inc_ids),
                       "note": "true extent of a minefield no handed-over map records; "
                               "for tests, not an import source",
                       "synthetic": True}, utm_to_ll(g)))
    return truth, items, incidents


# --------------------------------------------------------------------------- main

def generate(out: Path) -> None:
    """Write every synthetic sample file into ``out``."""
    rng = np.random.Generator(np.random.PCG64(SEED))
    out.mkdir(parents=True, exist_ok=True)
    cells = district_cells()
    cells_u = cell_utm(cells)
    occ = Occupancy()

    fields = make_fields(rng, cells_u, occ)
    assign_mines(rng, fields)

    # Traverse records of the December handover.
    trav = Traverses(rng, cells_u, occ)
    trav_recs, expected = [], []
    for plan in TRAVERSE_PLANS:
        rec, exp, poly_u = trav.build(plan)
        trav_recs.append((plan, rec))
        expected.extend(exp)
        fields.append(Field(plan.record_id, H_DEC, plan.district, plan.spelling, "traverse",
                            poly_u, utm_to_ll(poly_u), poly_u, traverse=True))

    # Districts.
    write_geojson(out / "districts_approx.geojson",
                  [({"district": n, "note": "approximate boundary, synthetic",
                     "synthetic": True}, g) for n, g in cells.items()], "districts_approx")

    # Handover files.
    agd = [f for f in fields if f.handover == H_AGHDAM]
    write_geojson(out / "aghdam_2021-06-12.geojson",
                  [(field_props(f), f.ll) for f in agd], "aghdam_2021-06-12")
    fz = [f for f in fields if f.handover == H_FZ]
    write_gpkg(out / "fuzuli_zangilan_2021-07-03.gpkg", field_frame(fz), "minefields",
               "2021-07-03T00:00:00Z")
    dec = [f for f in fields if f.handover == H_DEC and not f.traverse]
    # DBF field names stop at 10 characters; write the truncated names any
    # GIS would (mines_tota, reliabilit), as a real export would hold them.
    shp = field_frame(dec).rename(columns={"mines_total": "mines_tota",
                                           "reliability": "reliabilit"})
    write_zipped_shapefile(out / "remaining_2021-12-04.zip", shp, dt.date(2021, 12, 4))
    traverse_files = write_traverse(out, trav_recs)
    cols = ["record_id", "file", "vertex", "label", "point_type", "lon", "lat", "plane_crs",
            "x", "y"]
    lines = [",".join(cols)] + [",".join(str(e[c]) for c in cols) for e in expected]
    (out / "traverse" / "expected_vertices.csv").write_text("\n".join(lines) + "\n",
                                                          encoding="utf-8")

    # Revised Aghdam map (2022): changed counts, one record removed, one added.
    rev = [f for f in agd]
    removable = [i for i, f in enumerate(rev) if f.kind in ("irregular", "elongated")]
    removed = rev.pop(removable[int(rng.integers(len(removable)))])
    changed = rng.choice(len(rev), 14, replace=False)
    rev_rows = []
    changed = {int(c) for c in changed}
    for i, f in enumerate(rev):
        p = field_props(f)
        if i in changed:
            ap = max(0, f.mines_ap + int(rng.integers(-60, 61)))
            at = max(0, f.mines_at + int(rng.integers(-10, 11)))
            if ap + at < 20:
                ap += 20
            p["mines_ap"], p["mines_at"] = ap, at
            p["mines_total"] = ap + at + (f.mines_total - f.mines_ap - f.mines_at)
        rev_rows.append((p, f.ll))
    inner = cells_u["Aghdam"].buffer(-1500)
    x0, y0 = _TO_UTM.transform(CENTRES["Aghdam"][1], CENTRES["Aghdam"][0])
    for _ in range(500):
        g = make_shape(rng, "irregular", x0 + rng.normal(0, 6000), y0 + rng.normal(0, 6000))
        if inner.contains(g) and not occ.hits(g, 25.0):
            break
    new = Field(f"AGD-{len(agd) + 1:04d}", H_AGHDAM, "Aghdam", "Ağdam", "irregular", g,
                utm_to_ll(g), g)
    new.mines_ap, new.mines_at = 146, 12
    new.mines_total = 158
    new.ap_types, new.at_types = ["PMN-2", "OZM-72"], ["TM-62M"]
    new.laid_date, new.reliability = "2020-10-21", "medium"
    rev_rows.append((field_props(new), new.ll))
    write_geojson(out / "aghdam_2021-06-12_rev2.geojson", rev_rows,
                  "aghdam_2021-06-12_rev2")
    del removed

    # Clearance, items, reports.
    weeks = make_weeks(rng)
    clear = Clearance(rng, fields, cells_u, occ)
    count_only_weeks = {FIRST_WEEK + dt.timedelta(days=7 * i) for i in (8, 11, 14, 17, 20)}
    reports = []
    for week in weeks:
        rels = clear.week_releases(week, week.start in count_only_weeks)
        clear.week_items(week, rels)
        if week.reported and not week.published:
            name = f"reports/weekly_report_{week.dateline.isoformat()}.txt"
            path = out / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(report_text(rng, week, week.districts), encoding="utf-8")
        if week.reported:
            reports.append(f"reports/weekly_report_{week.dateline.isoformat()}.txt")

    for year in (2021, 2022):
        rows = []
        for r in clear.releases:
            if r.date_end.year != year:
                continue
            c = r.counts
            rows.append(({"report_id": r.report_id, "date_start": r.date_start.isoformat(),
                          "date_end": r.date_end.isoformat(), "operator": r.operator,
                          "method": r.method, "outcome": r.outcome, "district": r.district,
                          "found_ap": c[0] if c else None, "found_at": c[1] if c else None,
                          "found_uxo": c[2] if c else None, "synthetic": True}, r.ll))
        write_geojson(out / "clearance" / f"releases_{year}.geojson", rows,
                      f"releases_{year}")
        rows = []
        for it in clear.items:
            if it["date"].year != year:
                continue
            props = {k: it[k] for k in ("item_id", "item_type", "date", "model", "report_id",
                                         "district")}
            props["date"] = it["date"].isoformat()
            props["synthetic"] = True
            rows.append((props, shapely.Point(it["lon"], it["lat"])))
        write_geojson(out / "clearance" / f"items_{year}.geojson", rows, f"items_{year}")

    # Mine incidents: more than half outside the recorded fields.
    inc_rows = []
    gis_fields = [f for f in fields if not f.traverse and f.district in ACTIVE]
    for i in range(24):
        for _ in range(200):
            f = gis_fields[int(rng.integers(len(gis_fields)))]
            if i % 24 < 10:
                x, y = sample_in(rng, f.valid)[0]
            else:
                x, y = clear._outside_point(f, float(rng.uniform(20, 1500)))
                if occ.contains_xy(x, y):
                    continue
            break
        lon, lat = _TO_LL.transform(x, y)
        killed = int(rng.choice([0, 0, 1, 1, 2]))
        injured = int(rng.choice([0, 1, 1, 2, 3])) if killed else int(rng.integers(1, 4))
        day = random_date(rng, dt.date(2020, 11, 20), dt.date(2022, 4, 30))
        inc_rows.append(({"incident_id": f"INC-{i + 1:04d}", "date": day.isoformat(),
                          "killed": killed, "injured": injured,
                          "civilian": bool(rng.random() < 0.55), "synthetic": True},
                         shapely.Point(round(lon, 6), round(lat, 6))))
    # Unmapped fields, from their own random stream so that every file
    # above stays as it was.
    urng = np.random.Generator(np.random.PCG64([SEED, 13]))
    recorded = [f.valid for f in fields] + [new.valid]
    inc_xy = [_TO_UTM.transform(r[1].x, r[1].y) for r in inc_rows]
    truth, unmapped_items, unmapped_incidents = make_unmapped(
        urng, cells_u, recorded, [r.utm for r in clear.releases], inc_xy)
    write_geojson(out / "clearance" / "items_unmapped.geojson", unmapped_items, "items_unmapped")
    write_geojson(out / "unmapped_fields_truth.geojson", truth, "unmapped_fields_truth")
    inc_rows += unmapped_incidents
    inc_rows.sort(key=lambda r: (r[0]["date"], r[0]["incident_id"]))
    write_geojson(out / "incidents.geojson", inc_rows, "incidents")

    manifest = {"synthetic": True, "steps": [
        {"kind": "districts", "sources": ["districts_approx.geojson"], "name_field": "district"},
        {"kind": "records", "handover": H_AGHDAM, "handover_date": HANDOVER_DATES[H_AGHDAM],
         "sources": ["aghdam_2021-06-12.geojson"]},
        {"kind": "records", "handover": H_FZ, "handover_date": HANDOVER_DATES[H_FZ],
         "sources": ["fuzuli_zangilan_2021-07-03.gpkg"], "layer": "minefields"},
        {"kind": "records", "handover": H_DEC, "handover_date": HANDOVER_DATES[H_DEC],
         "sources": ["remaining_2021-12-04.zip", *traverse_files]},
        {"kind": "records", "handover": H_AGHDAM, "handover_date": HANDOVER_DATES[H_AGHDAM],
         "sources": ["aghdam_2021-06-12_rev2.geojson"], "note": "revised map, 2022",
         # The revision drops a field (AGD-0079): a removal must be allowed.
         "allow_removals": True},
        {"kind": "clearance", "sources": ["clearance/releases_2021.geojson",
                                          "clearance/releases_2022.geojson",
                                          "clearance/items_2021.geojson",
                                          "clearance/items_2022.geojson",
                                          "clearance/items_unmapped.geojson"]},
        {"kind": "incidents", "sources": ["incidents.geojson"]},
        {"kind": "reports", "sources": sorted(reports)},
    ]}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parent.parent
    ap.add_argument("--out", type=Path, default=root / "sample_maps",
                    help="output directory (default: sample_maps/ of the repository)")
    args = ap.parse_args(argv)
    for sub in ("clearance", "traverse"):
        if (args.out / sub).is_dir():
            shutil.rmtree(args.out / sub)
    generate(args.out)


if __name__ == "__main__":
    main()
