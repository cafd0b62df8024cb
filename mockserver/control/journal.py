"""The request journal: the last requests made to ``/api/v4`` and ``/oauth/*`` (method, path,
query, request headers and body, response status, headers and body, duration), so a test can
assert what its code sent and a person can see what the mock answered.

Secrets never land here whole: ``Authorization`` and ``Cookie`` values are reduced to a hint
(the scheme and the first four characters). The journal is bounded three ways: a count of
entries, a cap on each stored body (``max_body`` bytes, the rest replaced by a marker) and a
byte budget over all entries (``max_bytes``); the oldest entries go first.

Bodies are kept as the (truncated) bytes that passed and parsed only when read, so the hot
path pays for a slice and a length, not a JSON parse.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
import threading
from collections import deque
from typing import Any

import orjson

DEFAULT_ENTRIES = 10_000
DEFAULT_MAX_BODY = 64 * 1024  # bytes kept of each request and response body
DEFAULT_MAX_BYTES = 32 * 1024 * 1024  # bytes all entries may hold together
MASKED = frozenset({"authorization", "cookie", "set-cookie", "x-hook-secret"})
ENTRY_OVERHEAD = 400  # a rough price of an entry's object and scalars, so tiny requests count too


def mask(value: str) -> str:
    """``Bearer abcd…``: enough to tell tokens apart, never the whole secret."""
    scheme, _, secret = value.strip().rpartition(" ")
    hint = secret[:4] + "…" if len(secret) > 4 else "…"
    return f"{scheme} {hint}" if scheme else hint


def hint_of(authorization: str | None) -> str | None:
    """The first four characters of the token in an Authorization header."""
    if not authorization:
        return None
    token = authorization.split()[-1] if authorization.split() else ""
    return token[:4] + "…" if len(token) > 4 else "…"


def headers_dict(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """ASGI headers as a dict (lower-case names; repeated headers joined by ``, ``), secrets masked."""
    out: dict[str, str] = {}
    for k, v in raw:
        name, value = k.decode("latin-1").lower(), v.decode("latin-1")
        if name in MASKED:
            value = mask(value)
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


_CODE_IN_TEXT = re.compile(r"((?:code|token|secret)[=:]\s*)([A-Za-z0-9_\-.~]{5,})", re.IGNORECASE)


def _secret_name(name: str) -> bool:
    name = name.lower()
    return name == "code" or "token" in name or "secret" in name or "password" in name


def scrub(value: Any) -> Any:
    """OAuth bodies without their secrets: form fields and JSON keys named like a secret
    (``client_secret``, ``code``, ``access_token``, ``refresh_token``...) are masked."""
    if isinstance(value, dict):
        return {k: (mask(str(v)) if _secret_name(str(k)) and v is not None else scrub(v)) for k, v in value.items()}
    if isinstance(value, str) and "=" in value and " " not in value.split("&", 1)[0]:
        return scrub_query(value)
    if isinstance(value, str):  # a page (the approval page's title carries the code)
        return _CODE_IN_TEXT.sub(lambda m: m.group(1) + mask(m.group(2)), value)
    return value


def scrub_query(query: str) -> str:
    """A query string or form body with secret-named values masked (``code=abcd…``)."""
    from urllib.parse import unquote_plus

    if not query or "=" not in query:
        return query
    parts = []
    for pair in query.split("&"):
        name, eq, value = pair.partition("=")
        if eq and _secret_name(unquote_plus(name)):
            value = mask(unquote_plus(value))
        parts.append(name + eq + value)
    return "&".join(parts)


def scrub_url(url: str) -> str:
    base, sep, query = url.partition("?")
    return base + sep + scrub_query(query) if sep else url


def decode_body(raw: bytes | memoryview, total: int) -> Any:
    """A stored body as JSON when it is whole JSON, else text; a truncated one says so."""
    if not raw:
        return None
    raw = bytes(raw)
    if total > len(raw):
        text = raw.decode("utf-8", "replace")
        return f"{text}… [clio-mock journal: truncated, {total} bytes in all, {len(raw)} kept]"
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode("utf-8", "replace")


def _header_bytes(headers: list[tuple[bytes, bytes]]) -> int:
    return sum([len(k) + len(v) for k, v in headers])


class BodyTap:
    """Collects at most ``limit`` bytes of a body passing in chunks, and counts all of it.

    Pieces are kept without a copy where that holds little more than they show: a whole chunk
    that fits, or a view of one at most twice the limit (a 96 KB page under a 64 KB cap: the
    journal runs on every request, and copying 64 KB each time was a sixth of a list's cost).
    ``held`` counts the bytes the pieces keep alive, which is what the journal's budget charges.
    """

    __slots__ = ("chunks", "kept", "total", "limit", "held")

    def __init__(self, limit: int) -> None:
        self.chunks: list[bytes | memoryview] = []
        self.kept = 0
        self.total = 0
        self.held = 0
        self.limit = limit

    def add(self, chunk: bytes) -> None:
        if not chunk:
            return
        size = len(chunk)
        self.total += size
        room = self.limit - self.kept
        if room <= 0:
            return
        if size <= room:
            piece, held = chunk, size
        elif size <= 2 * self.limit and isinstance(chunk, bytes):
            piece, held = memoryview(chunk)[:room], size
        else:
            piece = chunk[:room]
            held = len(piece)
        self.chunks.append(piece)
        self.kept += len(piece)
        self.held += held

    def value(self) -> bytes | memoryview:
        """What was kept: the one piece itself, or the pieces joined."""
        if len(self.chunks) == 1:
            return self.chunks[0]
        return b"".join(self.chunks)


class JournalEntry:
    """One request and its answer. ``body`` is the request body (JSON or text), ``status`` and
    ``response_status`` the answer's status (0: no answer, e.g. a dropped connection)."""

    # Everything is kept as it passed (ASGI header pairs, body bytes, the raw query) and decoded,
    # masked and parsed when first read: the journal runs on every API request, and most
    # entries are never read.
    __slots__ = ("id", "time", "method", "path", "_query", "source", "_request_raw", "_body", "body_bytes",
                 "status", "_response_raw", "_response", "response_bytes", "_duration", "size", "_parsed", "held")

    def __init__(self, id: int, time: float, method: str, path: str, query: bytes | str = b"", source: str = "api",
                 request_headers: list[tuple[bytes, bytes]] | None = None, body: bytes = b"", body_bytes: int | None = None,
                 status: int = 0, response_headers: list[tuple[bytes, bytes]] | None = None, response: bytes = b"",
                 response_bytes: int | None = None, duration_ms: float = 0.0, held: int | None = None) -> None:
        """``body`` and ``response`` are the (truncated) bytes that passed, ``body_bytes`` and
        ``response_bytes`` how many passed in all."""
        self.id, self.time, self.method, self.path, self._query, self.source = id, time, method, path, query, source
        self._request_raw = request_headers or []
        self._body, self.body_bytes = body, len(body) if body_bytes is None else body_bytes
        self.status = status
        self._response_raw = response_headers or []
        self._response, self.response_bytes = response, len(response) if response_bytes is None else response_bytes
        self._duration = duration_ms
        self._parsed: dict[str, Any] | None = None
        self.held = False  # in the journal (False once evicted or cleared)
        # ``held``: the bytes the bodies keep alive (a view keeps its whole chunk), when known.
        self.size = (ENTRY_OVERHEAD + len(path) + len(query) + (len(body) + len(response) if held is None else held)
                     + _header_bytes(self._request_raw) + _header_bytes(self._response_raw))

    def _cached(self, key: str, make) -> Any:
        parsed = self._parsed
        if parsed is None:
            parsed = self._parsed = {}
        if key not in parsed:
            parsed[key] = make()
        return parsed[key]

    @property
    def query(self) -> str:
        def make() -> str:
            query = self._query.decode("latin-1") if isinstance(self._query, bytes) else self._query
            return scrub_query(query) if self.source == "oauth" else query  # codes and secrets travel in OAuth queries
        return self._cached("query", make)

    @property
    def token_hint(self) -> str | None:
        """The first characters of the request's access token (never the whole of it)."""
        return self._cached("token_hint", lambda: hint_of(next((v.decode("latin-1") for k, v in self._request_raw if k == b"authorization"), None)))

    @property
    def duration_ms(self) -> float:
        return round(self._duration, 3)

    @property
    def request_headers(self) -> dict[str, str]:
        return self._cached("request_headers", lambda: headers_dict(self._request_raw))

    @property
    def response_headers(self) -> dict[str, str]:
        def make() -> dict[str, str]:
            found = headers_dict(self._response_raw)
            if self.source == "oauth" and "location" in found:
                found["location"] = scrub_url(found["location"])  # the authorization code rides the redirect
            return found
        return self._cached("response_headers", make)

    def _decoded(self, raw: bytes | memoryview, total: int) -> Any:
        body = decode_body(raw, total)
        return scrub(body) if self.source == "oauth" else body  # OAuth bodies carry codes and secrets

    @property
    def body(self) -> Any:
        return self._cached("body", lambda: self._decoded(self._body, self.body_bytes))

    @property
    def response_status(self) -> int:
        return self.status

    @property
    def response_body(self) -> Any:
        return self._cached("response", lambda: self._decoded(self._response, self.response_bytes))

    @property
    def truncated(self) -> bool:
        return self.body_bytes > len(self._body) or self.response_bytes > len(self._response)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "time": self.time, "source": self.source, "method": self.method, "path": self.path, "query": self.query,
            "request_headers": self.request_headers, "body": self.body, "body_bytes": self.body_bytes, "token_hint": self.token_hint,
            "status": self.status, "response_status": self.status, "response_headers": self.response_headers,
            "response_body": self.response_body, "response_bytes": self.response_bytes, "duration_ms": self.duration_ms,
            "truncated": self.truncated,
        }

    def __repr__(self) -> str:
        return f"<JournalEntry {self.id} {self.method} {self.path} {self.status}>"


class Journal:
    """A bounded, thread-safe list of recent requests: at most ``size`` entries and ``max_bytes``
    accounted bytes, each body cut at ``max_body`` bytes."""

    def __init__(self, size: int = DEFAULT_ENTRIES, max_body: int = DEFAULT_MAX_BODY, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.size, self.max_body, self.max_bytes = size, max_body, max_bytes
        self.entries: deque[JournalEntry] = deque()
        self.bytes = 0  # accounted bytes of the entries held
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    def tap(self) -> BodyTap:
        """A collector for one body, cut at this journal's ``max_body``."""
        return BodyTap(self.max_body)

    def add(self, now: float, method: str, path: str, query: bytes, headers: list[tuple[bytes, bytes]], body: BodyTap,
            status: int, source: str = "api", response_headers: list[tuple[bytes, bytes]] | None = None,
            response: BodyTap | None = None, duration_ms: float = 0.0) -> JournalEntry:
        """Journal one request and its answer in one step (the app calls it before the answer's
        last chunk leaves, so a client that got the answer finds it here)."""
        entry = JournalEntry(next(self.counter), now, method, path, query, source, headers, body.value(), body.total, status,
                             response_headers, response.value() if response is not None else b"",
                             response.total if response is not None else 0, duration_ms,
                             body.held + (response.held if response is not None else 0))
        with self.lock:
            self.entries.append(entry)
            entry.held = True
            self.bytes += entry.size
            self._evict()
        return entry

    def _evict(self) -> None:
        while self.entries and (len(self.entries) > self.size or (self.bytes > self.max_bytes and len(self.entries) > 1)):
            gone = self.entries.popleft()
            if isinstance(gone, JournalEntry):
                gone.held = False
                self.bytes -= gone.size

    def record(self, now: float, method: str, path: str, query: bytes, raw_body: bytes, status: int, authorization: str | None,
               source: str = "api") -> JournalEntry:
        """A whole request in one call (for callers that do not stream)."""
        tap = self.tap()
        tap.add(raw_body)
        headers = [(b"authorization", authorization.encode("latin-1"))] if authorization else []
        return self.add(now, method, path, query, headers, tap, status, source)

    def find(self, method: str | None = None, path: str | None = None, since: int = 0, status: str | int | None = None,
             source: str | None = None, limit: int | None = None) -> list[JournalEntry]:
        """Entries after id ``since``, oldest first, matching a method, a path glob
        (``/api/v4/matters*``), a status (``404``, or a class ``4xx``) and a source (api, oauth);
        ``limit`` keeps the newest that many."""
        with self.lock:
            entries = list(self.entries)
        tests = []  # only the filters asked for, so a bare find() needs nothing but ids
        if since:
            tests.append(lambda e: e.id > since)
        if method is not None:
            tests.append(lambda e: e.method == method.upper())
        if path is not None:
            tests.append(lambda e: fnmatch.fnmatchcase(e.path, path))
        if status not in (None, ""):
            wanted = status_matcher(status)
            tests.append(lambda e: wanted(e.status))
        if source is not None:
            tests.append(lambda e: e.source == source)
        found = [e for e in entries if all(t(e) for t in tests)]
        return found[-limit:] if limit else found

    def clear(self) -> None:
        with self.lock:
            for entry in self.entries:
                if isinstance(entry, JournalEntry):
                    entry.held = False
            self.entries.clear()
            self.bytes = 0


def status_matcher(status: str | int | None):
    """``404`` matches 404, ``4xx`` any 4xx, ``4xx,5xx`` either; ValueError on anything else."""
    if status is None or status == "":
        return lambda s: True
    wanted: list[tuple[int, int]] = []
    for part in str(status).split(","):
        part = part.strip().lower()
        if len(part) == 3 and (part[0].isascii() and part[0].isdigit()) and part[1:] == "xx":
            wanted.append((int(part[0]) * 100, int(part[0]) * 100 + 99))
        elif (part.isascii() and part.isdigit()):
            wanted.append((int(part), int(part)))
        else:
            raise ValueError(f"status must be a status code (404) or a class (4xx), got {part!r}")
    return lambda s: any(lo <= s <= hi for lo, hi in wanted)
