"""Fault injection: make chosen requests fail with a status, added latency, a 429, or a
dropped connection; for a count of matching requests or with a probability (seeded).

A ``status`` or ``rate_limit`` fault answers in Clio's error shape unless it is given its own
``body`` (a JSON value, or a string sent as is) and ``headers`` (added to, or replacing, the
defaults), as WireMock's and MockServer's canned responses do."""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
import random
import threading
from dataclasses import dataclass, field
from typing import Any

import orjson

FAULT_KINDS = ("status", "latency", "rate_limit", "drop")


@dataclass
class Fault:
    """Break matching requests: ``kind`` is status, latency, rate_limit or drop."""

    kind: str
    path: str = "*"  # a glob over the request path, e.g. /api/v4/matters*
    method: str | None = None
    status: int = 500
    latency_ms: int = 0
    retry_after: int = 1  # seconds in a rate_limit fault's Retry-After (small: clients that honour it wait)
    body: Any = None  # a custom answer body: JSON value, or a string sent as is (default: Clio's error shape)
    headers: dict[str, str] = field(default_factory=dict)  # extra or replacing response headers
    count: int | None = None  # fail this many matching requests, then stop
    probability: float = 1.0
    seed: int | None = None
    id: int = 0
    hits: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and fnmatch.fnmatchcase(path, self.path)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "rng"}


class Faults:
    """The active faults; the first that matches and fires decides the request's fate."""

    def __init__(self) -> None:
        self.active: list[Fault] = []
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    def dump(self) -> dict[str, Any]:
        """The faults as JSON-able data: with ``--data`` they live in the file, so every
        worker of ``--workers N`` applies the same faults (and counts one budget of hits)."""
        with self.lock:
            return {"faults": [f.as_dict() for f in self.active], "next_id": max((f.id for f in self.active), default=0) + 1}

    def load(self, data: dict[str, Any]) -> None:
        faults = []
        for raw in data.get("faults", []):
            fault = Fault(**raw)
            fault.rng = random.Random(fault.seed)
            faults.append(fault)
        with self.lock:
            self.active = faults
            self.counter = itertools.count(max(int(data.get("next_id", 1)), max((f.id for f in faults), default=0) + 1))

    def add(self, fault: Fault) -> Fault:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        if not 0.0 <= fault.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if fault.kind == "status" and not 100 <= int(fault.status) <= 599:
            raise ValueError(f"status must be an HTTP status between 100 and 599, got {fault.status!r}")
        if not isinstance(fault.headers, dict) or not all(isinstance(k, str) and isinstance(v, (str, int, float)) for k, v in fault.headers.items()):
            raise ValueError("headers must be an object of header names to string values")
        bad = [k for k, v in fault.headers.items() if any(c in f"{k}{v}" for c in "\r\n\0") or not k.strip()]
        if bad:
            raise ValueError(f"header {bad[0]!r}: names and values cannot hold CR, LF or NUL")
        fault.headers = {k: str(v) for k, v in fault.headers.items()}
        for k, v in fault.headers.items():
            try:
                (k + v).encode("latin-1")
            except UnicodeEncodeError:
                raise ValueError(f"header {k!r}: HTTP headers are Latin-1; encode other text") from None
        if int(fault.retry_after) < 0:
            raise ValueError("retry_after must be 0 or more seconds")
        fault.id = next(self.counter)
        fault.rng = random.Random(fault.seed)
        with self.lock:
            self.active.append(fault)
        return fault

    def pick(self, method: str, path: str) -> Fault | None:
        if not self.active:  # the common case costs one check
            return None
        with self.lock:
            for fault in self.active:
                if not fault.matches(method, path):
                    continue
                if fault.count is not None and fault.hits >= fault.count:
                    continue
                if fault.probability < 1.0 and fault.rng.random() >= fault.probability:
                    continue
                fault.hits += 1
                return fault
        return None

    def remove(self, fault_id: int | None = None) -> None:
        with self.lock:
            self.active = [f for f in self.active if fault_id is not None and f.id != fault_id]



async def inject(fault: Fault, send) -> bool:
    """Apply ``fault``; True when it answered the request, False to serve it normally after."""
    if fault.latency_ms:
        await asyncio.sleep(fault.latency_ms / 1000)
    if fault.kind == "latency":
        return False
    if fault.kind == "drop":
        # Promise a body and stop half-way: the client sees the connection cut mid-response.
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000"), (b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"data": [', "more_body": True})
        raise ConnectionAbortedError("clio-mock fault: connection dropped")
    status, headers = int(fault.status), {}
    error_type = "InjectedFault"
    if fault.kind == "rate_limit":
        status, error_type = 429, "RateLimited"
        headers = {"retry-after": str(fault.retry_after), "x-ratelimit-remaining": "0"}
    if fault.body is None:
        body = orjson.dumps({"error": {"type": error_type, "message": f"clio-mock fault {fault.id} injected this response"}})
        headers["content-type"] = "application/json; charset=utf-8"
    elif isinstance(fault.body, str):
        body = fault.body.encode()
        headers["content-type"] = "text/plain; charset=utf-8"
    else:
        body = orjson.dumps(fault.body)
        headers["content-type"] = "application/json; charset=utf-8"
    headers.update({k.lower(): v for k, v in fault.headers.items()})
    headers["content-length"] = str(len(body))
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
    return True
