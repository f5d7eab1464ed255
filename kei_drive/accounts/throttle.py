"""Sign-in throttling: at most ``FAILURE_LIMIT`` failures per ``FAILURE_WINDOW_S`` for one
account and, separately, for one client address."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

FAILURE_LIMIT = 5
FAILURE_WINDOW_S = 60.0


def retry_after_s(
    failures: Iterable[datetime],
    now: datetime,
    limit: int = FAILURE_LIMIT,
    window_s: float = FAILURE_WINDOW_S,
) -> int:
    """Seconds until another attempt is allowed (0: allowed now).

    Blocked when ``limit`` failures fall inside the last ``window_s``; the wait ends when
    the oldest of those leaves the window.
    """
    recent = sorted(t for t in failures if (now - t).total_seconds() < window_s)
    if len(recent) < limit:
        return 0
    oldest_counted = recent[-limit]
    wait = window_s - (now - oldest_counted).total_seconds()
    return max(1, math.ceil(wait))
