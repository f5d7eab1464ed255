"""Give freed heap memory back to the operating system.

Parsing a big GPX file frees tens of MB of small and mid-sized blocks (the text of each
chunk, its tokens, growing columns). glibc keeps such memory in its heap, where it counts
in the process's resident size until something reuses it: a 500,000-point file left
~43 MB behind. ``malloc_trim`` returns it; elsewhere (no glibc) this does nothing.
"""

from __future__ import annotations

import ctypes
import sys
from functools import cache


@cache
def _malloc_trim() -> object | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # musl and others have no malloc_trim
        return None


def trim_heap() -> None:
    """Return the heap's free memory to the system (glibc; a no-op elsewhere)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)  # type: ignore[operator]
