"""Imports on first use (PEP 562) for the package and its re-exporting subpackages.

``import minemap`` and ``minemap --help`` must not pay for geopandas, shapely and
folium (``tests/test_startup.py``), so the packages that re-export names from
heavy modules bind them when they are first looked up.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(namespace: dict[str, Any], names: Mapping[str, str]
                    ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for a module whose `names` live in other modules.

    Parameters
    ----------
    namespace
        The module's ``globals()``; a name found is bound there, so later
        look-ups skip ``__getattr__``.
    names
        Attribute name → the module that defines it.
    """
    module_name = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(names))

    return __getattr__, __dir__
