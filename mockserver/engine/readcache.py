"""Answers to repeated reads, kept as ready bytes while nothing is written.

A ``GET`` of a list or of one record, served by the engine's own ``index`` or ``show``, is
a function of the stored records, of the request (path, query string, API version, the base
URL of its links), of who asks (firm and user) and of today's date (date filters read the
mock's clock). The same read again, with nothing written in between, gives the same bytes:
an integration polling a list, or paging through it twice, gets them without the engine.

Exactness comes from the store's ``generation``, which every write bumps as it begins and as
it ends (and persistence bumps when it loads another worker's writes): an answer is kept only
when no write ran while it was built, and given again only while the generation is still the
one it was built at. Any write anywhere ends every kept answer, so a read after a write is
always computed afresh. Authentication, rate limits, permissions, the journal and the
response headers of each request are not cached: only the engine's work is.

An answer is kept the second time its read is made in one generation, not the first: a
client reading records at random (each once) pays for a set entry, not for keeping bytes it
will never ask for again. Bounded by entry count and by bytes; an answer bigger than
``max_body`` is never kept.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from mockserver.engine.handlers import ApiResponse

CONDITIONAL = ("if-none-match", "if-modified-since", "if-match")  # answers that depend on the client's copy
MAX_KEPT_QUERY = 4096  # bytes of query string in a key (every field of the widest model: 1.5 KB; keys stay small)


class ReadCache:
    """Recent read answers, keyed by everything they depend on, valid for one store generation."""

    def __init__(self, max_entries: int = 2048, max_bytes: int = 32 * 1024 * 1024, max_body: int = 2 * 1024 * 1024) -> None:
        self.max_entries, self.max_bytes, self.max_body = max_entries, max_bytes, max_body
        self.entries: OrderedDict[Any, tuple[int, bytes, dict[str, str]]] = OrderedDict()  # status, body, headers
        self.bytes = 0
        self.generation = -1  # of the answers kept: all of one generation (older ones are dead)
        self.seen: set[Any] = set()  # keys read once in this generation (bounded like the entries)
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, key: Any, generation: int) -> ApiResponse | None:
        """The kept answer for ``key``, if it was built at ``generation`` (a fresh copy)."""
        entry = self.entries.get(key) if generation == self.generation else None
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        return ApiResponse(entry[0], entry[1], dict(entry[2]))

    def put(self, key: Any, generation: int, status: int, body: bytes, headers: dict[str, str]) -> None:
        """Keep an answer built entirely at ``generation`` (the caller checks no write overlapped)."""
        if generation != self.generation:  # a write happened: every kept answer is dead
            self.clear()
            self.generation = generation
        if key not in self.seen:  # the first time: only note it
            if len(self.seen) >= 2 * self.max_entries:
                self.seen.clear()
            self.seen.add(key)
            return
        old = self.entries.pop(key, None)
        if old is not None:
            self.bytes -= len(old[1])
        if len(body) > self.max_body:
            return
        self.entries[key] = (status, body, dict(headers))
        self.bytes += len(body)
        while len(self.entries) > self.max_entries or self.bytes > self.max_bytes:
            self.bytes -= len(self.entries.popitem(last=False)[1][1])

    def clear(self) -> None:
        self.entries.clear()
        self.seen.clear()
        self.bytes = 0
