"""Vocabularies: a source's words for outcomes, item types and mine models (DESIGN §11).

A vocabulary is a YAML file of three optional mappings::

    outcome:                  # → cleared | reduced | cancelled
      Technical Survey: reduced
    item_type:                # → AP | AT | UXO
      Anti-personnel mine: AP
    model:                    # → the model's name as minemap should store it
      PMN2: PMN-2

Keys are matched case-, space- and punctuation-insensitively ("TECHNICAL
SURVEY", "technical_survey").  A value the vocabulary does not name is kept
and then validated as usual, so an unknown outcome is still refused.  minemap
ships presets under ``minemap/vocabularies/`` (``--vocabulary imsma``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from minemap._errors import UsageError
from minemap.records.schema import ITEM_TYPES, OUTCOMES

#: The kinds a vocabulary may map, and the values each may map to (None: any).
KINDS: dict[str, tuple[str, ...] | None] = {"outcome": OUTCOMES, "item_type": ITEM_TYPES,
                                            "model": None}


def _key(text: object) -> str:
    return re.sub(r"[\W_]+", " ", str(text)).strip().casefold()


@dataclass(frozen=True)
class Vocabulary:
    """Source value → minemap value, per kind.

    Attributes
    ----------
    name
        The preset's name or the file's name, for messages and provenance.
    maps
        ``{kind: {normalised source value: minemap value}}``.
    """

    name: str
    maps: dict[str, dict[str, str]] = field(default_factory=dict)

    def translate(self, kind: str, values: list[str]) -> list[str]:
        """Each value in minemap's words (unchanged when the vocabulary has none)."""
        table = self.maps.get(kind)
        if not table:
            return values
        return [table.get(_key(v), v) if v else v for v in values]


def presets() -> list[str]:
    """Names of the vocabularies minemap ships (``imsma``, …)."""
    folder = resources.files("minemap") / "vocabularies"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_vocabulary(spec: str | Path | Vocabulary | None) -> Vocabulary | None:
    """A vocabulary from a preset name or a YAML file.

    Raises
    ------
    UsageError
        If there is no such preset or file, or the file is not a vocabulary.
    """
    if spec is None or isinstance(spec, Vocabulary):
        return spec
    text_spec = str(spec)
    if text_spec in presets():
        res = resources.files("minemap") / "vocabularies" / f"{text_spec}.yaml"
        return _parse(res.read_text(encoding="utf-8"), text_spec)
    path = Path(text_spec)
    if not path.is_file():
        raise UsageError(f"--vocabulary {text_spec}: no such file or preset (presets:"
                         f" {', '.join(presets())})")
    if path.stat().st_size > 1024**2:
        raise UsageError(f"{path.name}: a vocabulary is at most 1 MB")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{path.name}: not UTF-8 text; save it as UTF-8") from None
    return _parse(text, path.name)


def _parse(text: str, name: str) -> Vocabulary:
    import yaml

    from minemap.readers.safe_yaml import AliasError, load_plain

    try:
        data = load_plain(text)
    except AliasError as exc:
        raise UsageError(f"{name}: {exc}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{name}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict) or not data:
        raise UsageError(f"{name}: a vocabulary is a mapping of {', '.join(KINDS)}")
    maps: dict[str, dict[str, str]] = {}
    for kind, table in data.items():
        if kind not in KINDS:
            raise UsageError(f"{name}: unknown section {kind!r} (use {', '.join(KINDS)})")
        if not isinstance(table, dict):
            raise UsageError(f"{name}: {kind} must map source values to minemap's")
        allowed = KINDS[kind]
        out: dict[str, str] = {}
        for src, dst in table.items():
            dst = str(dst).strip()
            if allowed is not None:
                canon = {a.casefold(): a for a in allowed}
                if dst.casefold() not in canon:
                    raise UsageError(f"{name}: {kind} {src!r} → {dst!r}: not one of"
                                     f" {', '.join(allowed)}")
                dst = canon[dst.casefold()]
            out[_key(src)] = dst
        maps[kind] = out
    return Vocabulary(name, maps)
