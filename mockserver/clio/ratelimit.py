"""Clio's per-token rate limit: a fixed 60-second window, reported on every API response.

``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset`` (epoch seconds when the window ends) go
on every response; past the limit the answer is 429 with ``Retry-After``. A limit of 0
turns limiting (and the headers) off, for load tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from mockserver.engine.errors import ClioError

DEFAULT_LIMIT = 50  # Clio's documented peak-hours limit per token per minute


class RateLimiter:
    """Counts requests per token in fixed windows of ``window`` seconds."""

    def __init__(self, limit: int = DEFAULT_LIMIT, window: int = 60, now: Callable[[], float] | None = None,
                 shared: Any = None) -> None:
        import time

        self.limit = limit
        self.window = window
        self.now = now or time.time
        self.windows: dict[str, tuple[int, int]] = {}  # token key -> (window start, count)
        self.lock = threading.Lock()
        # Counts kept where every worker sees them (--data with --workers N): an object with
        # ``count_hit(key, window_start) -> count`` and ``clear_hits()`` (the SQLite store).
        self.shared = shared

    def hit(self, key: str) -> dict[str, str]:
        """Count one request; the headers to send, or ClioError(429) past the limit."""
        if self.limit <= 0:
            return {}
        now = self.now()
        start = int(now // self.window * self.window)
        if self.shared is not None:
            began, count = start, self.shared.count_hit(key, start)
        else:
            with self.lock:
                began, count = self.windows.get(key, (start, 0))
                if began != start:
                    began, count = start, 0
                count += 1
                self.windows[key] = (began, count)
        reset = began + self.window
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - count)),
            "X-RateLimit-Reset": str(reset),
        }
        if count > self.limit:
            retry = max(1, int(reset - now + 0.999))
            raise ClioError(429, "RateLimited", f"Rate limit of {self.limit} requests per {self.window} seconds exceeded; retry in {retry} s", {**headers, "Retry-After": str(retry)})
        return headers

    def reset(self) -> None:
        with self.lock:
            self.windows.clear()
        if self.shared is not None:
            self.shared.clear_hits()
