"""Handing the heap memory a process has freed back to the operating system.

glibc's ``malloc`` keeps freed memory for reuse instead of returning it, and
a large import frees a lot of it in small pieces (the source frame, its raw
text, temporary geometries), so the process's resident size stays at its high
water mark.  Forked crossref workers then share, and dirty, those pages too.
``malloc_trim(0)`` returns the free pages; elsewhere than glibc this is a
no-op.
"""

from __future__ import annotations

import ctypes
import sys


def release_freed_memory() -> None:
    """Return freed heap pages to the operating system (glibc only; else nothing)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # musl or another libc: nothing to trim
        return
    trim(0)
