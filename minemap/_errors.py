"""Errors and problems reported by readers, validation and the store."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Problem:
    """One finding about one record of one source file.

    Parameters
    ----------
    file
        Name of the source file.
    record
        Record identifier (``record_id``, ``report_id``, …) or a feature
        number such as ``"feature 12"`` when the record has no id.
    message
        What is wrong, in one line.
    severity
        ``"error"`` refuses the whole file; ``"warning"`` is reported only.
    leg
        For traverse records, the 1-based leg number, if the problem is in a leg.
    """

    file: str
    record: str | None
    message: str
    severity: Literal["error", "warning"] = "error"
    leg: int | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.record is not None:
            parts.append(f"record {self.record}")
        if self.leg is not None:
            parts.append(f"leg {self.leg}")
        return ": ".join(parts) + f": {self.message}"


class MinemapError(Exception):
    """Base class of errors shown to the user as one line."""

    exit_code = 1


class DataError(MinemapError):
    """Input data is refused; nothing was written.

    Parameters
    ----------
    message
        One-line summary.
    problems
        Every problem found (errors and warnings), so that ``validate`` can
        list them all.
    """

    exit_code = 1

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class UsageError(MinemapError):
    """The command was called wrongly (bad option value, missing file)."""

    exit_code = 2


def raise_for_problems(problems: list[Problem]) -> None:
    """Raise :class:`DataError` if any problem is an error.

    The message is the first error; every problem is attached.
    """
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise DataError(f"{errors[0]}{more}", problems)


# A warning's kind groups the warnings that one summary line counts ("… and
# 6,012 more overlap warnings").  The common kinds have names; any other
# message is its own kind, with the values that vary (numbers, quoted names,
# line numbers) taken out.
_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern)) for kind, pattern in (
        ("overlap", r"overlaps record .*\(geocheck\)"),
        ("self-intersecting", r"self-intersecting perimeter"),
        ("vertex gap", r"consecutive vertices .* apart"),
        ("degenerate polygon", r"covers less than 1 m"),
        ("unknown district", r"unknown district|is not a known name"),
        ("future date", r" is in the future"),
        ("ignored column", r"(unknown .*(field|column).* ignored|ignored column)"),
        ("modelled declination", r"declination modelled"),
        ("misclosure", r"misclosure"),
        ("unclosed", r"^not closed"),
    )
)
_LINE = re.compile(r" \(line \d+\)$")
_VARYING = re.compile(r"'[^']*'|\"[^\"]*\"|\d+(?:[.,]\d+)*")


def problem_kind(problem: Problem) -> str:
    """The kind of a problem, for counting warnings of one kind together.

    Parameters
    ----------
    problem
        Any problem (the kind does not depend on its severity).

    Returns
    -------
    str
        A short name such as ``"overlap"`` or ``"unknown district"``; for
        other messages, the message with its numbers and quoted values
        replaced, so that warnings that differ only in them share a kind.
    """
    message = _LINE.sub("", problem.message)
    for kind, pattern in _KINDS:
        if pattern.search(message):
            return kind
    return _VARYING.sub("…", message).strip()

