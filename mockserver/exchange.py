"""One HTTP request as the mock notes it: its request id, its answer's status and time for the
access log, and, for API and OAuth requests, its journal entry.

:class:`Exchange` wraps the server's ``receive`` and ``send`` once per request (rather than one
wrapper per concern: this runs on every API call); the app (:mod:`mockserver.app`) makes one
for each request and lets it journal and log what passed.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import time

from mockserver.control.journal import Journal
from mockserver.engine.records import Clock
from mockserver.logs import ACCESS, escape

_HEADER_JUNK = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


def safe_header(value: bytes) -> bytes:
    """A header value h11 will send: control characters (CR, LF, NUL...) become spaces.
    A last line of defence: a value built from input must never cost the whole answer."""
    return _HEADER_JUNK.sub(b" ", value) if _HEADER_JUNK.search(value) else value


def safe_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` with every value made safe (one search over all of them in the common case:
    tab, the joint, is a legal header character)."""
    if _HEADER_JUNK.search(b"\t".join([v for _, v in headers])):
        return [(k, safe_header(v)) for k, v in headers]
    return list(headers)


_REQUEST_IDS = itertools.count(1)
_PROCESS_ID = [os.urandom(4).hex()]  # ids from several processes (--workers) never collide


def _new_request_id() -> bytes:
    """A request id unique to this mock (16 hex digits, like the ids clients send): a random
    per-process prefix and a count, without a system call per request."""
    return f"{_PROCESS_ID[0]}{next(_REQUEST_IDS) & 0xFFFFFFFF:08x}".encode()


os.register_at_fork(after_in_child=lambda: _PROCESS_ID.__setitem__(0, os.urandom(4).hex()))  # a forked worker


class Exchange:
    """One HTTP request passing through the mock, with what the mock notes of it: its request
    id (``X-Request-Id``, kept if the client sent one), its answer's status for the access log,
    and, for API and OAuth requests, its journal entry. ``receive`` and ``send`` wrap the server's.

    One object per request rather than a wrapper per concern: this runs on every API call.
    """

    __slots__ = ("scope", "_receive", "_send", "request_id", "started", "status", "journal", "source", "clock",
                 "request_body", "response_body", "response_headers", "journaled")

    def __init__(self, scope: dict, receive, send, journal: Journal | None, source: str, clock: Clock) -> None:
        self.scope, self._receive, self._send = scope, receive, send
        sent_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                sent_id = value
                break
        self.request_id = safe_header(sent_id) if sent_id else _new_request_id()
        self.started, self.status = time.perf_counter(), 0
        self.journal, self.source, self.clock = journal, source, clock
        self.request_body = journal.tap() if journal is not None else None
        self.response_body = journal.tap() if journal is not None else None
        self.response_headers: list[tuple[bytes, bytes]] = []
        self.journaled = journal is None

    async def receive(self) -> dict:
        message = await self._receive()
        if self.request_body is not None:
            self.request_body.add(message.get("body", b""))
        return message

    async def send(self, message: dict) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
            self.response_headers = [*safe_headers(message.get("headers", [])), (b"x-request-id", self.request_id)]
            message = {**message, "headers": self.response_headers}
        elif kind == "http.response.body" and not self.journaled:
            self.response_body.add(message.get("body", b""))  # type: ignore[union-attr]
            if not message.get("more_body"):
                self.note()  # before the last chunk leaves: a client that got the answer finds it journaled
        await self._send(message)

    def note(self) -> None:
        """Journal the request as it was answered so far (status 0: no answer at all)."""
        if self.journaled:
            return
        self.journaled = True
        scope = self.scope
        self.journal.add(self.clock.time(), scope["method"], scope["path"], scope.get("query_string", b""),  # type: ignore[union-attr]
                         scope["headers"], self.request_body, self.status, self.source,  # type: ignore[arg-type]
                         self.response_headers, self.response_body, self.elapsed_ms())

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    def log(self) -> None:
        if ACCESS.isEnabledFor(logging.INFO):
            scope = self.scope
            ms = round(self.elapsed_ms(), 2)
            method, path, rid = escape(scope["method"]), escape(scope["path"]), escape(self.request_id.decode("latin-1"))
            ACCESS.info("%s %s %s %sms id=%s", method, path, self.status, ms, rid,
                        extra={"request_id": rid, "method": method, "path": path, "status": self.status, "duration_ms": ms})
