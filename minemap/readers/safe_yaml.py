"""YAML for record files: every scalar a string, line numbers kept, no aliases.

YAML 1.1 turns ``0750`` into the octal 488 and ``10:00`` into 600; a bearing
must never be read that way, so every scalar stays the text as written and
readers parse values field by field.

Anchors and aliases (``&a`` / ``*a``) are refused: a record has no use for
them, and expanded they make a few hundred bytes into gigabytes (the
"billion laughs" of YAML; issue 15 item 1).  The composer shares an aliased
node rather than copying it, so an alias is found, before anything is
expanded, as a node met twice; the conversion's work is therefore linear in
the size of the text.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import yaml

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class AliasError(ValueError):
    """A YAML alias in a record file; the message is one line."""


class LineMap(dict):
    """A mapping read from YAML or CSV, with its line number and duplicate keys."""

    line: int | None = None

    def __init__(self, *args: object, line: int | None = None) -> None:
        super().__init__(*args)
        self.line = line
        self.dups: list[tuple[str, int | None]] = []


class StringLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """YAML loader that leaves every scalar as its string."""


StringLoader.yaml_implicit_resolvers = {}


def _resolve(self: object, kind: type, value: object, implicit: object) -> str:
    # The same answer as the emptied resolver, without its per-scalar lookups
    # (a third of the parsing time of a large file).
    if kind is yaml.ScalarNode:
        return "tag:yaml.org,2002:str"
    if kind is yaml.SequenceNode:
        return "tag:yaml.org,2002:seq"
    return "tag:yaml.org,2002:map"


StringLoader.resolve = _resolve


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic collector while many long-lived containers are built.

    Composing a file of 10,000 records builds a million container objects
    that all survive; the collector then rescans them again and again (3000
    records: 2.0 s with it, 0.27 s without).
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def compose(text: str) -> list[yaml.Node]:
    """The documents of a YAML text as nodes (aliases not yet checked).

    Raises
    ------
    yaml.YAMLError
        On a syntax error.
    """
    loader = StringLoader(text)
    docs = []
    try:
        with gc_paused():
            while loader.check_node():
                docs.append(loader.get_node())
    finally:
        loader.dispose()
    return docs


def convert(node: yaml.Node, seen: set[int] | None = None) -> object:
    """Plain Python (``LineMap``, ``list``, ``str``) for a node tree.

    Iterative, so deep nesting costs memory in proportion to the text, never
    a RecursionError.

    Raises
    ------
    AliasError
        If a node is reached twice: an alias (or a recursive alias).
    """
    seen = set() if seen is None else seen

    def alias(n: yaml.Node) -> AliasError:
        return AliasError(f"YAML anchors and aliases (&/*) are not allowed in record files"
                          f" (the anchor at line {n.start_mark.line + 1} is used again);"
                          " write the values out")

    def make(n: yaml.Node):
        if id(n) in seen:
            raise alias(n)
        seen.add(id(n))
        if isinstance(n, yaml.ScalarNode):
            return n.value
        if isinstance(n, yaml.SequenceNode):
            return []
        return LineMap(line=n.start_mark.line + 1)

    root = make(node)
    stack = [(node, root)]
    while stack:
        n, out = stack.pop()
        if isinstance(n, yaml.SequenceNode):
            for child in n.value:
                c = make(child)
                out.append(c)
                if not isinstance(c, str):
                    stack.append((child, c))
        elif isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                if id(k) in seen:
                    raise alias(k)
                seen.add(id(k))
                # A key that is itself a mapping or list is shown as text.
                key = (k.value if isinstance(k, yaml.ScalarNode)
                       else f"<{k.tag.rsplit(':', 1)[-1]} at line {k.start_mark.line + 1}>")
                key = key.strip()
                if key in out:
                    out.dups.append((key, k.start_mark.line + 1))
                c = make(v)
                out[key] = c
                if not isinstance(c, str):
                    stack.append((v, c))
    return root


def load_plain(text: str) -> object:
    """The first document of a YAML text as plain Python; aliases refused."""
    docs = compose(text)
    return convert(docs[0]) if docs else None
