"""District names in a sentence (DESIGN §3 and §9).

Names are matched case- and diacritic-insensitively, with the Azerbaijani
transliterations, and with one typo in names of five letters or more when the
name stands in a list of districts or before "region"/"district" (so that a
capitalised word elsewhere, "Latin", is not taken for "Lachin").  Names in such
a list that are not districts (a village, another district) are ignored and
returned, so that ``-v`` can list them.
"""

from __future__ import annotations

import re

from minemap.geo.districts import match, normalise

__all__ = ["districts_in"]

_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*|\S")
_SUFFIX = re.compile(r"(?:regions?|districts?|rayons?)\b", re.IGNORECASE)


def _runs(text: str) -> list[tuple[list[str], bool]]:
    """Lists of capitalised names joined by commas and "and", each with whether
    "region(s)" or "district(s)" follows it."""
    runs: list[tuple[list[str], bool]] = []
    run: list[str] = []
    item: list[str] = []
    expecting = True
    toks = [(m.group(0), m.end()) for m in _TOKEN.finditer(text)]

    def close(after: int) -> None:
        nonlocal run, item, expecting
        if item:
            run.append(" ".join(item))
        if run:
            runs.append((run, bool(_SUFFIX.match(text, after + 1))))
        run, item, expecting = [], [], True

    last_end = 0
    for tok, end in toks:
        if tok[0].isalpha() and (tok[0].isupper() or normalise(tok)):
            if not (item or expecting):
                close(last_end)
            item.append(tok)
            expecting = False
        elif tok in (",", "&") or tok.lower() == "and":
            if item:
                run.append(" ".join(item))
                item, expecting = [], True
            elif not run:
                close(last_end)
        else:
            close(last_end)
        last_end = end
    close(last_end)
    return runs


def _known(item: str, typos: bool) -> str | None:
    words = item.split()
    for k in range(len(words), 0, -1):  # "Aghdam District", "Fuzuli City"
        name = " ".join(words[:k])
        found = normalise(name) if not typos else match(name)
        if found:
            return found
    return None


def districts_in(text: str) -> tuple[list[str], list[str]]:
    """Districts named in a sentence (canonical, in order, unique) and the other
    names of its district lists.

    Examples
    --------
    >>> districts_in("Operations covered Tatar, Xocavend and Sugovushan regions.")
    (['Tartar', 'Khojavand'], ['Sugovushan'])
    """
    text = re.sub(r"\([^()]*\)", " ", text)
    names: list[str] = []
    ignored: list[str] = []
    for run, suffixed in _runs(text):
        exact = [_known(it, typos=False) for it in run]
        listy = suffixed or (len(run) >= 2 and any(exact))
        for item, ex in zip(run, exact):
            found = ex or (_known(item, typos=True) if listy else None)
            if found:
                if found not in names:
                    names.append(found)
            elif listy and (len(run) >= 2 or suffixed):
                ignored.append(item)
    return names, ignored
