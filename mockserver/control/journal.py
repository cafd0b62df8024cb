"""The request journal: the last requests made to ``/api/v4`` (method, path, query, body,
status), with the Authorization header reduced to a hint, so a test can assert what its
code sent."""

from __future__ import annotations

import fnmatch
import itertools
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

import orjson


@dataclass
class JournalEntry:
    id: int
    time: float
    method: str
    path: str
    query: str
    body: Any
    status: int
    token_hint: str | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Journal:
    """A bounded, thread-safe list of recent API requests."""

    def __init__(self, size: int = 10_000) -> None:
        self.entries: deque[JournalEntry] = deque(maxlen=size)
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    def record(self, now: float, method: str, path: str, query: bytes, raw_body: bytes, status: int, authorization: str | None) -> None:
        body: Any = None
        if raw_body:
            try:
                body = orjson.loads(raw_body)
            except orjson.JSONDecodeError:
                body = raw_body[:4096].decode("utf-8", "replace")
        hint = None
        if authorization:
            token = authorization.split()[-1]
            hint = token[:4] + "…" if len(token) > 4 else "…"  # never the whole token
        with self.lock:
            self.entries.append(JournalEntry(next(self.counter), now, method, path, query.decode("latin-1"), body, status, hint))

    def find(self, method: str | None = None, path: str | None = None, since: int = 0) -> list[JournalEntry]:
        """Entries after id ``since``, matching a method and a path glob (``/api/v4/matters*``)."""
        with self.lock:
            entries = list(self.entries)
        return [
            e for e in entries
            if e.id > since and (method is None or e.method == method.upper()) and (path is None or fnmatch.fnmatchcase(e.path, path))
        ]

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
