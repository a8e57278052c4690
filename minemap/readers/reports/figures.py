"""Figures in a sentence: counts of mines and ordnance, and hectares.

A small grammar over the sentence's tokens, applied once from left to right
(linear time whatever the text; issue 15 item 2)::

    mention   := number type | number "-"? hectares | number ("were" | "was") type
               | type ":" number                  ("anti-tank mines: 3", a list of labels)
    number    := digits | number-words | "a" | "an" | "a single" | "no"
    type      := "(" ? ("pieces" | "items" | "units") "of" ? kind
    kind      := ap-adjective mine-noun | at-adjective mine-noun | uxo-noun
               | ap-adjective | at-adjective      (inside a list: "14 AP, 3 AT mines")

A mine adjective without a noun counts only inside a list ("37 anti-personnel
and 24 anti-tank mines"), so that "92,000 anti-tank and anti-personnel mines",
one combined figure, is not read as an anti-tank count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from minemap.readers.reports.numbers import (
    NUMBER_WORDS,
    SPACES,
    Unreadable,
    count_from_digits,
    hectares_from_digits,
    words_to_int,
)

__all__ = ["Mention", "KINDS", "find_mentions", "ROUNDING"]

#: Figure → the name used in messages.
KINDS: dict[str, str] = {
    "found_ap": "antipersonnel mine count",
    "found_at": "anti-tank mine count",
    "found_uxo": "unexploded ordnance count",
    "cleared_ha": "hectares figure",
}

_TOKEN = re.compile(rf"\d+(?:[.,{SPACES}]\d+)*|[^\W\d_]+|\S")

#: Words before a number that make it a rounding ("Over 500 unexploded munitions").
ROUNDING = frozenset({
    "over", "nearly", "almost", "about", "around", "approximately", "approx", "roughly",
    "some", "~", "circa", "under",
})
_ROUNDING_PAIRS = frozenset({
    ("more", "than"), ("less", "than"), ("fewer", "than"), ("up", "to"), ("close", "to"),
    ("at", "least"), ("upwards", "of"), ("excess", "of"),
})
_MINE_NOUNS = frozenset({"mine", "mines", "landmine", "landmines"})
_UXO_NOUNS = frozenset({"ordnance", "ordnances", "munition", "munitions"})
_HECTARES = frozenset({"hectare", "hectares", "ha"})
_LIST_JOIN = frozenset({",", "and", "&"})


@dataclass
class Mention:
    """One figure in one sentence."""

    kind: str
    sentence: int
    span: tuple[int, int]
    text: str
    value: float | int | None = None
    error: str | None = None
    rounding: str | None = None
    in_list: bool = False
    unread: bool = False   # a label whose value is no number ("anti-tank mines: several")


@dataclass
class _Tok:
    text: str
    low: str
    start: int
    end: int


def _tokens(text: str) -> list[_Tok]:
    return [_Tok(m.group(0), m.group(0).lower(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _number(toks: list[_Tok], i: int) -> tuple[int, str] | None:
    """(index after, form) of the number phrase starting at ``i``; form is
    ``digits``, ``words`` or ``article``."""
    t = toks[i]
    if t.text[0].isdigit():
        return i + 1, "digits"
    if t.low in NUMBER_WORDS or (
        t.low in ("a", "an") and i + 1 < len(toks) and toks[i + 1].low in ("hundred", "thousand")
    ):
        j = i + 1
        while j < len(toks) and j - i < 12:
            if toks[j].low in NUMBER_WORDS:
                j += 1
            elif toks[j].low in ("-", "and") and j + 1 < len(toks) and toks[j + 1].low in NUMBER_WORDS:
                j += 2
            else:
                break
        return j, "words"
    if t.low in ("a", "an", "no"):
        if t.low == "a" and i + 1 < len(toks) and toks[i + 1].low == "single":
            return i + 2, "article"
        return i + 1, "article"
    return None


def _adjective(toks: list[_Tok], k: int) -> tuple[int, str] | None:
    """(index after, "found_ap" | "found_at") of a mine adjective at ``k``."""
    if k >= len(toks):
        return None
    t = toks[k]
    if t.low == "antipersonnel" or t.text == "AP" or t.text == "APM":
        return k + 1, "found_ap"
    if t.low == "antitank" or t.text == "AT" or t.text == "ATM":
        return k + 1, "found_at"
    if t.low == "anti":
        j = k + 1 + (k + 1 < len(toks) and toks[k + 1].low == "-")
        if j < len(toks) and toks[j].low in ("personnel", "infantry"):
            return j + 1, "found_ap"
        if j < len(toks) and toks[j].low in ("tank", "vehicle"):
            return j + 1, "found_at"
    return None


def _uxo(toks: list[_Tok], k: int) -> int | None:
    """Index after an unexploded-ordnance noun phrase at ``k``."""
    if k >= len(toks):
        return None
    low = toks[k].low
    if toks[k].text in ("UXO", "UXOs", "ERW", "ERWs") or low in ("uxo", "uxos"):
        return k + 1
    if low == "unexploded":
        j = k + 1 + (k + 1 < len(toks) and toks[k + 1].low == "explosive")
        if j < len(toks) and toks[j].low in _UXO_NOUNS:
            return j + 1
    if low == "explosive" and k + 1 < len(toks) and toks[k + 1].low == "remnants":
        j = k + 2
        if j + 1 < len(toks) and toks[j].low == "of" and toks[j + 1].low == "war":
            j += 2
        return j
    return None


def _kind(toks: list[_Tok], k: int) -> tuple[int, str, bool] | None:
    """(index after, figure, needs-a-list) of the thing counted at ``k``."""
    if k < len(toks) and toks[k].low == "(":
        k += 1
    if k + 1 < len(toks) and toks[k].low in ("pieces", "piece", "items", "item", "units", "unit") \
            and toks[k + 1].low == "of":
        k += 2
    if (end := _uxo(toks, k)) is not None:
        return end, "found_uxo", False
    adj = _adjective(toks, k)
    if adj is None:
        return None
    j, kind = adj
    n = j + (j < len(toks) and toks[j].low == ")")
    if n < len(toks) and toks[n].low in _MINE_NOUNS:
        return n + 1, kind, False
    return j, kind, True


def _list_follows(toks: list[_Tok], j: int) -> bool:
    """Whether another counted item follows ``j`` in the same list ("…, 6 AT mines")."""
    k = j
    while k < len(toks) and toks[k].low in _LIST_JOIN and k - j < 2:
        k += 1
    if k == j or k >= len(toks):
        return False
    num = _number(toks, k)
    return num is not None and _kind(toks, num[0]) is not None


def _rounding(toks: list[_Tok], i: int) -> str | None:
    prev = toks[i - 1].low if i >= 1 else ""
    prev2 = toks[i - 2].low if i >= 2 else ""
    if (prev2, prev) in _ROUNDING_PAIRS:
        return f"{toks[i - 2].text} {toks[i - 1].text}"
    if prev in ROUNDING:
        return toks[i - 1].text
    return None


def _space_grouped(text: str, toks: list[_Tok], i: int) -> bool:
    """Whether the number at ``i`` follows another after one plain space ("1 429")."""
    if i == 0 or not re.fullmatch(r"\d{3}(?:[.,]\d+)?", toks[i].text):
        return False
    prev = toks[i - 1]
    return (re.fullmatch(r"\d{1,3}", prev.text) is not None
            and text[prev.end:toks[i].start] == " ")


def _value(kind: str, form: str, raw: str) -> int | float:
    if kind == "cleared_ha":
        if form == "digits":
            return hectares_from_digits(raw)
        return float(words_to_int(raw))
    if form == "digits":
        return count_from_digits(raw)
    if form == "words":
        return words_to_int(raw)
    return 0 if raw.lower().startswith("no") else 1


def _labelled(toks: list[_Tok], i: int) -> tuple[int, int, str, bool] | None:
    """A label and its value at ``i``: "anti-tank mines: 3".

    Only a full label (a mine noun, or an ordnance noun) followed by a colon
    and a number in digits or words; the number must not start a mention of
    its own ("anti-tank mines: 3 AP …" is not a label).  Returns (start of
    the value, index after it, figure, unread): `unread` when the value is a
    word that is no number ("several", "about 14"), which gives no figure.
    """
    if toks[i].text[0].isdigit() or toks[i].low == "(":
        return None
    found = _kind(toks, i)
    if found is None or found[2]:
        return None
    end, kind, _ = found
    if end + 1 >= len(toks) or toks[end].low != ":":
        return None
    num = _number(toks, end + 1)
    if num is None or num[1] == "article":
        if toks[end + 1].text[0].isalpha() or toks[end + 1].low == "~":
            return end + 1, end + 2, kind, True
        return None
    after = num[0]
    if _kind(toks, after) is not None or (after < len(toks) and toks[after].low in _HECTARES):
        return None
    return end + 1, after, kind, False


def find_mentions(index: int, text: str) -> list[Mention]:
    """Every count and hectares figure in one sentence, in text order."""
    toks = _tokens(text)
    out: list[Mention] = []
    i = 0
    after_list_item = -1   # token index where a list item's join may continue the list
    while i < len(toks):
        if (lab := _labelled(toks, i)) is not None:
            n0, after, kind, unread = lab
            if unread:
                out.append(Mention(kind, index, (toks[i].start, toks[after - 1].end),
                                   text[toks[i].start:toks[after - 1].end], unread=True))
                i = after
                continue
            raw = text[toks[n0].start:toks[after - 1].end]
            m = Mention(kind, index, (toks[i].start, toks[after - 1].end),
                        text[toks[i].start:toks[after - 1].end], rounding=_rounding(toks, n0))
            try:
                m.value = _value(kind, "digits" if raw[0].isdigit() else "words", raw)
            except Unreadable as exc:
                m.error = str(exc)
            out.append(m)
            i = after
            continue
        num = _number(toks, i)
        if num is None:
            i += 1
            continue
        j, form = num
        raw = text[toks[i].start:toks[j - 1].end]
        # "14 (fourteen) anti-personnel mines": the restatement is skipped.
        if (form != "article" and j + 2 < len(toks) and toks[j].low == "("
                and (again := _number(toks, j + 1)) is not None and again[1] != "article"
                and again[0] < len(toks) and toks[again[0]].low == ")"):
            j = again[0] + 1
        found = None
        if form != "article":
            h = j + (j < len(toks) and toks[j].low == "-")
            if h < len(toks) and toks[h].low in _HECTARES:
                found = (h + 1, "cleared_ha", False)
        if found is None:
            found = _kind(toks, j)
        if found is None and j + 1 < len(toks) and toks[j].low in ("were", "was"):
            # "Of the 25 mines, 3 were anti-tank mines": a full noun phrase only.
            after_verb = _kind(toks, j + 1)
            if after_verb is not None and not after_verb[2]:
                found = after_verb
        if found is None:
            i = j
            continue
        end, kind, needs_list = found
        joined = i >= 1 and toks[i - 1].low in _LIST_JOIN and after_list_item >= 0 and (
            i - 1 <= after_list_item + 2
        )
        if needs_list and not (_list_follows(toks, end) or joined):
            i = end
            continue
        m = Mention(kind, index, (toks[i].start, toks[end - 1].end),
                    text[toks[i].start:toks[end - 1].end], rounding=_rounding(toks, i),
                    in_list=needs_list)
        try:
            m.value = _value(kind, form, raw)
        except Unreadable as exc:
            m.error = str(exc)
        if form == "digits" and _space_grouped(text, toks, i):
            # "1 429 hectares": read as 429 it would be a figure the text does not state.
            m.error = (f"'{text[toks[i - 1].start:toks[i].end]}' cannot be read safely: a space "
                       "between digit groups may separate thousands")
        out.append(m)
        after_list_item = end if kind != "cleared_ha" else -1
        i = end
    return out
