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
