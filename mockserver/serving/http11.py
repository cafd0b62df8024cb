"""HTTP/1.1 over an asyncio stream, handed to an ASGI app: what the forward proxy speaks on its own
port and inside each ``CONNECT`` tunnel once TLS is terminated.

Parsing and framing are h11's (installed with uvicorn); this module only turns h11 events into ASGI
messages and back, with keep-alive, a bounded request head and timeouts. uvicorn's own protocol
classes are not reused because they cannot be attached to a stream that is already open (a TLS
tunnel) without its private server state, and cannot serve the absolute-form targets
(``GET https://app.clio.com/api/v4/...``) that proxy clients send.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

import h11
import orjson

log = logging.getLogger("clio_mock.proxy")

MAX_HEAD = 64 * 1024  # request line and headers together
MAX_DRAIN = 1024 * 1024  # an unread request body we still read past to keep the connection
IDLE_TIMEOUT = 15.0  # a kept-alive connection with no new request is closed after this long
READ_TIMEOUT = 30.0  # a request's head and body must keep arriving within this


@dataclass(frozen=True)
class Serve:
    """Hand the request to the app as ``scheme://host`` + ``target`` (origin-form)."""

    scheme: str
    host: str  # the Host header the app sees (links it builds use it)
    target: bytes  # path and query


@dataclass(frozen=True)
class Refuse:
    """Answer with Clio's error shape and do not go further."""

    status: int
    type: str
    message: str


@dataclass(frozen=True)
class Tunnel:
    """A ``CONNECT`` the caller takes over once ``200 Connection Established`` is sent."""

    host: str
    port: int
    detail: Any = None  # what the router found (e.g. the address to relay to)


Router = Callable[[h11.Request], Awaitable["Serve | Refuse | Tunnel"]]


async def serve_http(app: Callable, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, route: Router) -> Tunnel | None:
    """Serve requests on one connection until it closes; a ``Tunnel`` when a CONNECT was accepted
    (the connection then carries the tunnel's bytes and is the caller's)."""
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
    try:
        while True:
            event = await _next_event(conn, reader, IDLE_TIMEOUT)
            if not isinstance(event, h11.Request):
                return None  # closed, or idle too long
            decision = await route(event)
            if isinstance(decision, Tunnel):
                await _write(writer, conn.send(h11.Response(status_code=200, reason=b"Connection Established", headers=[])))
                if conn.trailing_data[0]:
                    return None  # bytes before our answer: not a client that waits for the tunnel
                return decision
            if isinstance(decision, Refuse):
                await _drain(conn, reader)
                await _answer(conn, writer, decision.status, decision.type, decision.message)
            else:
                await _call_app(app, conn, reader, writer, event, decision)
            if not await _next_cycle(conn, reader):
                return None
    except h11.RemoteProtocolError as exc:
        if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            status = max(exc.error_status_hint, 400)
            await _answer(conn, writer, status, "BadRequest", f"Malformed HTTP request: {exc}")
            await _linger(reader, writer)
        return None
    except (TimeoutError, ConnectionError, ssl.SSLError, h11.LocalProtocolError):
        return None


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Close gently after an error answer: stop writing, then read (bounded) what the client still
    sends, so closing with unread bytes does not reset the connection before it reads the answer."""
    if writer.can_write_eof():
        writer.write_eof()
    left = MAX_DRAIN
    try:
        while left > 0 and (data := await asyncio.wait_for(reader.read(65536), 1.0)):
            left -= len(data)
    except (TimeoutError, ConnectionError, ssl.SSLError):
        pass


async def _next_event(conn: h11.Connection, reader: asyncio.StreamReader, timeout: float) -> Any:
    """The next h11 event; a request head (line and headers) larger than MAX_HEAD is a 431, even
    when it arrives whole in one read (h11's own bound covers only incomplete heads)."""
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            if isinstance(event, h11.Request) and _head_size(event) > MAX_HEAD:
                raise h11.RemoteProtocolError("request head too large", error_status_hint=431)
            return event
        conn.receive_data(await asyncio.wait_for(reader.read(65536), timeout))


def _head_size(request: h11.Request) -> int:
    return len(request.method) + len(request.target) + 12 + sum(len(k) + len(v) + 4 for k, v in request.headers.raw_items())


async def _next_cycle(conn: h11.Connection, reader: asyncio.StreamReader) -> bool:
    """Ready for the next request on this connection (keep-alive), or False to close it."""
    if conn.our_state is not h11.DONE:
        return False
    if not await _drain(conn, reader):
        return False
    if conn.their_state is not h11.DONE:
        return False
    conn.start_next_cycle()
    return True


async def _drain(conn: h11.Connection, reader: asyncio.StreamReader) -> bool:
    """Read the rest of a request body the app did not read (bounded)."""
    left = MAX_DRAIN
    while conn.their_state is h11.SEND_BODY and left > 0:
        event = await _next_event(conn, reader, READ_TIMEOUT)
        if isinstance(event, h11.Data):
            left -= len(event.data)
        elif not isinstance(event, h11.EndOfMessage):
            return False
    return conn.their_state is not h11.SEND_BODY


async def _write(writer: asyncio.StreamWriter, data: bytes | None) -> None:
    if data:
        writer.write(data)
        await writer.drain()


def _response(status: int, headers: list[tuple[bytes, bytes]]) -> h11.Response:
    try:
        reason = HTTPStatus(status).phrase.encode()
    except ValueError:
        reason = b""
    return h11.Response(status_code=status, headers=headers, reason=reason)


async def _answer(conn: h11.Connection, writer: asyncio.StreamWriter, status: int, type_: str, message: str) -> None:
    """An error of the proxy's own, in Clio's shape."""
    body = orjson.dumps({"error": {"type": type_, "message": message}})
    headers = [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await _write(writer, conn.send(_response(status, headers)) + conn.send(h11.Data(data=body)) + conn.send(h11.EndOfMessage()))


def _scope(request: h11.Request, decision: Serve, writer: asyncio.StreamWriter) -> dict[str, Any]:
    raw_path, _, query = decision.target.partition(b"?")
    headers = [(k, v) for k, v in request.headers if k != b"host"]
    headers.insert(0, (b"host", decision.host.encode("idna") if not decision.host.isascii() else decision.host.encode()))
    peer, sock = writer.get_extra_info("peername"), writer.get_extra_info("sockname")
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": request.http_version.decode(), "method": request.method.decode("ascii"),
        "scheme": decision.scheme, "path": unquote(raw_path.decode("ascii")), "raw_path": raw_path,
        "query_string": query, "root_path": "", "headers": headers,
        "client": tuple(peer[:2]) if peer else None, "server": tuple(sock[:2]) if sock else None,
    }


async def _call_app(app: Callable, conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    request: h11.Request, decision: Serve) -> None:
    """One request through the ASGI app; the request body streams from h11 as the app reads it."""
    head_only = request.method == b"HEAD"
    done = asyncio.Event()
    state: dict[str, Any] = {"start": None, "sent": False, "body_done": False, "lost": False}

    async def receive() -> dict[str, Any]:
        if state["body_done"] or state["lost"]:
            await done.wait()  # ASGI: after the body, receive() waits for the end of the exchange
            return {"type": "http.disconnect"}
        if conn.they_are_waiting_for_100_continue:
            await _write(writer, conn.send(h11.InformationalResponse(status_code=100, headers=[], reason=b"Continue")))
        try:
            event = await _next_event(conn, reader, READ_TIMEOUT)
        except (TimeoutError, ConnectionError, ssl.SSLError, h11.RemoteProtocolError):
            event = None
        if isinstance(event, h11.Data):
            return {"type": "http.request", "body": bytes(event.data), "more_body": True}
        if isinstance(event, h11.EndOfMessage):
            state["body_done"] = True
            return {"type": "http.request", "body": b"", "more_body": False}
        state["lost"] = True
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            state["start"] = message
            return
        if message["type"] != "http.response.body" or done.is_set():
            return
        out = b""
        if not state["sent"]:
            start = state["start"] or {"status": 500, "headers": []}
            out += conn.send(_response(start["status"], [(bytes(k), bytes(v)) for k, v in start.get("headers", [])])) or b""
            state["sent"] = True
        body = message.get("body", b"")
        if body and not head_only:
            out += conn.send(h11.Data(data=body)) or b""
        if not message.get("more_body", False):
            out += conn.send(h11.EndOfMessage()) or b""
            done.set()
        await _write(writer, out)

    try:
        await app(_scope(request, decision, writer), receive, send)
    except (ConnectionError, ssl.SSLError):
        conn.send_failed()
        return
    except Exception:
        log.exception("unhandled error serving %s %r through the proxy", request.method.decode(), decision.target[:200])
    finally:
        done.set()
    if conn.our_state is h11.SEND_RESPONSE:  # the app failed, or ended, before answering
        await _answer(conn, writer, 500, "InternalServerError", "clio-mock failed to answer this request")
    elif conn.our_state is h11.SEND_BODY:  # it stopped mid-answer: this connection cannot be reused
        conn.send_failed()
