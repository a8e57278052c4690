"""Numbers as the reports write them: digits with either separator, or words.

Reading rules (``examples/README.md``): counts are whole numbers, so a dot or
comma followed by three digits groups thousands ("8.086" is 8086).  Hectares:
a comma followed by exactly three digits groups thousands ("1,250"), one
followed by one or two digits is a decimal comma ("94,8"); a dot followed by
exactly three digits ("1.250") is ambiguous and refused; a figure with both
separators ("2.790,9", "1,198.7") is unambiguous.
"""

from __future__ import annotations

import re
from decimal import Decimal

__all__ = [
    "Unreadable", "SPACES", "SMALL", "TENS", "NUMBER_WORDS",
    "words_to_int", "count_from_digits", "hectares_from_digits",
]


class Unreadable(ValueError):
    """A figure was found but cannot be read safely; the message says why."""


# Thousands separators seen besides "," and ".": no-break, narrow no-break and thin spaces.
SPACES = "\u00a0\u202f\u2009"
_SEP = f"[.,{SPACES}]"

SMALL: dict[str, int] = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}
TENS: dict[str, int] = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}
#: Every word that can be part of a number written out.
NUMBER_WORDS = frozenset({*SMALL, *TENS, "hundred", "thousand"})


def words_to_int(phrase: str) -> int:
    """Read an English number in words ("one hundred and twelve", "Twenty-two").

    Raises
    ------
    Unreadable
        If the words do not form one well-formed number below a million.
    """
    toks = re.findall(r"[a-z]+", phrase.lower())
    pos = 0

    def peek(k: int = 0) -> str | None:
        return toks[pos + k] if pos + k < len(toks) else None

    def below_thousand() -> int | None:
        nonlocal pos
        value = None
        if peek(1) == "hundred" and (peek() in ("a", "an") or 1 <= SMALL.get(peek() or "", 0) <= 9):
            value = 100 if peek() in ("a", "an") else SMALL[toks[pos]] * 100
            pos += 2
            if peek() == "and":
                pos += 1
                if not (peek() in SMALL or peek() in TENS):
                    return None
        word = peek()
        if word in TENS:
            rest = TENS[word]
            pos += 1
            if 1 <= SMALL.get(peek() or "", 0) <= 9:
                rest += SMALL[toks[pos]]
                pos += 1
            value = (value or 0) + rest
        elif word in SMALL and (value is None or SMALL[word] > 0):
            value = (value or 0) + SMALL[word]
            pos += 1
        return value

    bad = Unreadable(f"'{phrase}' is not a number")
    if toks and toks[0] in ("a", "an") and peek(1) == "thousand":
        total, pos = 1000, 2
        if peek() == "and":
            pos += 1
        low = below_thousand() if pos < len(toks) else 0
    else:
        high = below_thousand()
        if high is None:
            raise bad
        if peek() == "thousand":
            pos += 1
            total = high * 1000
            if peek() == "and":  # "one thousand and five"
                pos += 1
                if pos == len(toks):
                    raise bad
            low = below_thousand() if pos < len(toks) else 0
        else:
            total, low = 0, high
    if low is None or pos != len(toks) or (total and low and low >= 1000):
        raise bad
    if "zero" in toks and len(toks) > 1:
        raise bad
    return total + low


def _groups(token: str) -> tuple[list[str], list[str]]:
    return re.split(_SEP, token), re.findall(_SEP, token)


def _thousands_ok(groups: list[str]) -> bool:
    head, *rest = groups
    return 1 <= len(head) <= 3 and not head.startswith("0") and bool(rest) and all(
        len(g) == 3 for g in rest
    )


def count_from_digits(token: str) -> int:
    """Read a whole-number count written in digits ("112", "1,204", "8.086").

    Raises
    ------
    Unreadable
        If the digits are not a whole number with 3-digit groups.
    """
    groups, seps = _groups(token)
    if not seps:
        return int(token)
    if len(set(seps)) == 1 and _thousands_ok(groups):
        return int("".join(groups))
    raise Unreadable(f"'{token}' is not a whole number")


def hectares_from_digits(token: str) -> float:
    """Read a hectares figure written in digits, by the module's rules.

    Raises
    ------
    Unreadable
        If the figure is ambiguous ("1.250") or malformed.
    """
    groups, seps = _groups(token)
    bad = Unreadable(f"hectares figure '{token}' cannot be read")
    if not seps:
        return float(Decimal(token))
    kinds = set(seps)
    if len(kinds) > 1:
        # Both kinds: the last separator is the decimal mark, the others group thousands.
        mark = seps[-1]
        if mark in SPACES or mark in seps[:-1]:
            raise bad
        if len(set(seps[:-1])) != 1 or not _thousands_ok(groups[:-1]):
            raise bad
        return float(Decimal("".join(groups[:-1]) + "." + groups[-1]))
    (mark,) = kinds
    if mark in SPACES or len(seps) > 1:
        if _thousands_ok(groups):
            return float(Decimal("".join(groups)))
        raise bad
    whole, frac = groups
    if mark == ",":
        if len(frac) == 3:
            if _thousands_ok(groups):
                return float(Decimal(whole + frac))
            raise bad
        if len(frac) in (1, 2):
            return float(Decimal(f"{whole}.{frac}"))
        raise bad
    if len(frac) == 3:
        raise Unreadable(
            f"hectares figure '{token}' is ambiguous: a dot followed by exactly three digits "
            "may be a thousands separator or a decimal point"
        )
    return float(Decimal(f"{whole}.{frac}"))
