"""minemap: minefield records, land release and handover accuracy."""

from minemap import settings

__version__ = "0.1.0"
__all__ = ["settings", "__version__"]
