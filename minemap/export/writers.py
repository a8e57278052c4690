"""Former single module of the writers, kept so that older imports still resolve.

The writers are now one module per format under :mod:`minemap.export`;
import from :mod:`minemap.export` itself.
"""

from minemap.export import *  # noqa: F401,F403
from minemap.export import __all__  # noqa: F401
