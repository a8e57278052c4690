"""District names: canonical spellings and their variants (DESIGN §3)."""

from __future__ import annotations

import re
import unicodedata

#: Canonical name → accepted variants (matched case- and diacritic-insensitively).
VARIANTS: dict[str, tuple[str, ...]] = {
    "Aghdam": ("Agdam", "Ağdam", "Агдам", "Aghdam"),
    "Aghdara": ("Agdara", "Ağdərə", "Mardakert", "Агдере", "Aghdara"),
    "Fuzuli": ("Fizuli", "Füzuli", "Физули", "Fuzuli"),
    "Gubadli": ("Qubadli", "Qubadlı", "Gubadly", "Kubatly", "Губадлы", "Gubadli"),
    "Jabrayil": ("Jabrail", "Jebrail", "Cəbrayıl", "Джебраил", "Jabrayil"),
    "Kalbajar": ("Kelbajar", "Kelbadjar", "Kəlbəcər", "Кельбаджар", "Kalbajar"),
    "Khankendi": ("Khankandi", "Xankəndi", "Stepanakert", "Khankendi"),
    "Khojaly": ("Khojali", "Xocalı", "Ходжалы", "Khojaly"),
    "Khojavand": ("Khojavend", "Xocavənd", "Martuni", "Khojavand"),
    "Lachin": ("Laçın", "Лачин", "Lachin"),
    "Shusha": ("Susha", "Şuşa", "Shushi", "Шуша", "Shusha"),
    "Tartar": ("Terter", "Tərtər", "Тертер", "Tartar"),
    "Zangilan": ("Zengilan", "Zəngilan", "Зангелан", "Zangilan"),
    "Goranboy": ("Qoranboy", "Goranboy"),
}

#: Approximate district centres (lat, lon), DESIGN §3.
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

CANONICAL: tuple[str, ...] = tuple(VARIANTS)

# Letters that Unicode does not decompose into a base letter plus a mark.
_FOLD = str.maketrans({"ə": "e", "Ə": "e", "ı": "i", "İ": "i", "ё": "е"})
_SUFFIX = re.compile(r"\s+(regions?|district|rayonu|rayon|raion|район|раион)$")


def _key(name: str) -> str:
    s = unicodedata.normalize("NFKD", name.translate(_FOLD))
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = " ".join(s.casefold().replace("-", " ").split())
    return _SUFFIX.sub("", s)


_LOOKUP: dict[str, str] = {
    _key(v): canonical for canonical, vs in VARIANTS.items() for v in (canonical, *vs)
}


def _skeleton(key: str) -> str:
    """A key with the Azerbaijani ↔ English transliterations folded together.

    "Xocavənd", "Khojavend" and "Hocavend" share one skeleton, as do
    "Qubadlı"/"Gubadli" and "Kəlbəcər"/"Kelbadjar".  Digraphs go first so that
    the "h" of "kh", "sh", "ch" and "gh" is not read as Azerbaijani "h" = "x".
    """
    for a, b in _TRANSLIT:
        key = key.replace(a, b)
    return key


# Order matters: digraphs, then single letters.
_TRANSLIT: tuple[tuple[str, str], ...] = (
    ("kh", "x"), ("dj", "c"), ("dzh", "c"), ("sh", "s"), ("ch", "c"), ("gh", "g"),
    ("h", "x"), ("j", "c"), ("q", "g"),
)

_SKELETONS: dict[str, set[str]] = {}
for _k, _c in _LOOKUP.items():
    _SKELETONS.setdefault(_skeleton(_k), set()).add(_c)

#: Typos are forgiven only in names of at least this many letters (DESIGN §9).
TYPO_MIN_LETTERS = 5


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by exactly one insertion, deletion,
    substitution or transposition of neighbours."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
        if len(diff) == 1:
            return True
        return (len(diff) == 2 and diff[1] == diff[0] + 1
                and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k, (x, y) in enumerate(zip(short, long_)) if x != y), len(short))
    return short[i:] == long_[i + 1:]


def match(name: str | None, *, typos: bool = True) -> str | None:
    """Canonical district for a spelling, allowing transliterations and one typo.

    Used for names read from prose (weekly reports), where "Xocavend",
    "Hocavend" and "Tatar" occur.  :func:`normalise` is the strict form.

    Parameters
    ----------
    name
        A name as written.
    typos
        Also accept one typo (an insertion, deletion, substitution or swap of
        neighbouring letters) in names of at least :data:`TYPO_MIN_LETTERS`
        letters, when exactly one district is that close.

    Returns
    -------
    str or None
        The canonical name, or ``None``.

    Examples
    --------
    >>> match("Xocavend"), match("Hocavend"), match("Tatar"), match("Fuzulli")
    ('Khojavand', 'Khojavand', 'Tartar', 'Fuzuli')
    >>> match("Baku") is None, match("Agdm") is None
    (True, True)
    """
    exact = normalise(name)
    if exact is not None or name is None:
        return exact
    key = _key(str(name).strip())
    if not key:
        return None
    skel = _skeleton(key)
    found = _SKELETONS.get(skel, set())
    if len(found) == 1:
        return next(iter(found))
    letters = sum(c.isalpha() for c in key)
    if not typos or letters < TYPO_MIN_LETTERS:
        return None
    near = {c for s, cs in _SKELETONS.items() if _one_edit(skel, s) for c in cs}
    near |= {c for k, c in _LOOKUP.items() if _one_edit(key, k)}
    return next(iter(near)) if len(near) == 1 else None


def normalise(name: str | None) -> str | None:
    """Return the canonical district name for any accepted spelling.

    Parameters
    ----------
    name
        A district name in Latin, Azerbaijani or Russian spelling, in any
        case, optionally followed by "region" or "district".

    Returns
    -------
    str or None
        The canonical name, or ``None`` if ``name`` is empty or unknown.

    Examples
    --------
    >>> normalise("Ağdam"), normalise("FIZULI region"), normalise("Шуша")
    ('Aghdam', 'Fuzuli', 'Shusha')
    >>> normalise("Atlantis") is None
    True
    """
    if name is None:
        return None
    name = str(name).strip()
    if not name:
        return None
    return _LOOKUP.get(_key(name))


def names_pattern() -> str:
    """A regular expression alternation matching every known spelling.

    Longer spellings come first so that a regex engine prefers them.
    """
    spellings = sorted({v for vs in VARIANTS.values() for v in vs}, key=len, reverse=True)
    return "|".join(re.escape(s) for s in spellings)
