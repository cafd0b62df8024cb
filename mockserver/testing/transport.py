"""Call the mock's ASGI app in-process, without sockets, from httpx (sync and async) and requests.

    httpx.Client(transport=MockTransport(app), base_url="https://app.clio.com")
    httpx.AsyncClient(transport=AsyncMockTransport(app), base_url="https://app.clio.com")
    session.mount("https://app.clio.com", MockAdapter(app))

One exchange (:class:`Exchange`) speaks ASGI to the app; the transports only translate their
library's request and response types. Async clients run the app on their own event loop, as
``httpx.ASGITransport`` does. Sync clients cannot: the app is a coroutine, and the caller may itself
be inside a running loop (a sync client in an async test), so their requests run on a private event
loop, never ``asyncio.run`` per request: the calling thread's own loop, driven while it waits,
or, for a sync call made inside a running loop, a loop in a background thread (:class:`AppLoop`).
Responses are streamed back as the app sends them: a client reading with ``stream=True`` gets
chunks as they come, and redirects (303 downloads, 302 OAuth) come back as they are, for the
client to follow.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import io
import queue
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from mockserver.app import ClioMock

Headers = list[tuple[bytes, bytes]]
_END = object()  # the app finished its response
CLIENT = ("127.0.0.1", 50000)  # an in-process caller is as local as a caller gets


@dataclass
class Exchange:
    """One request to the app, in ASGI's terms, and the code that plays it."""

    method: str
    scheme: str
    host: str
    port: int | None
    raw_path: bytes  # as sent, %-escapes kept
    query: bytes
    headers: Headers  # lower-case names
    body: bytes

    def scope(self) -> dict[str, Any]:
        from urllib.parse import unquote_to_bytes

        return {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": self.method, "scheme": self.scheme,
            "path": unquote_to_bytes(self.raw_path).decode("utf-8", "replace"), "raw_path": self.raw_path,
            "query_string": self.query, "root_path": "", "headers": self.headers,
            "server": (self.host, self.port or (443 if self.scheme == "https" else 80)), "client": CLIENT,
        }

    async def play(self, app: ClioMock, put: Callable[[Any], None], disconnected: asyncio.Event) -> None:
        """Run the app; ``put`` gets the start message's ``(status, headers)``, then each body chunk,
        then ``_END`` (or the exception the app raised). ``disconnected`` is set when the client
        stops reading, so a streaming app sees ``http.disconnect``."""
        body_sent = False
        head = self.method == "HEAD"

        async def receive() -> dict[str, Any]:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": self.body, "more_body": False}
            await disconnected.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if disconnected.is_set():
                return
            if message["type"] == "http.response.start":
                put((message["status"], list(message.get("headers", []))))
            elif message["type"] == "http.response.body":
                if message.get("body") and not head:
                    put(bytes(message["body"]))
                if not message.get("more_body", False):
                    disconnected.set()  # the response is complete: a later receive() is a disconnect
                    put(_END)

        try:
            await app(self.scope(), receive, send)
        except Exception as exc:  # reaches the client as its request's error, not a hang
            put(exc)
        finally:
            if not disconnected.is_set():
                disconnected.set()
                put(_END)


def _host_header(host: str, port: int | None, scheme: str) -> str:
    default = 443 if scheme == "https" else 80
    return host if port in (None, default) else f"{host}:{port}"


# --------------------------------------------------------------------------- the private loop


class AppLoop:
    """A private event loop in a daemon thread that sync callers hand their requests to."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, coro: Awaitable[None]) -> concurrent.futures.Future:
        """Schedule ``coro`` on the loop (started on first use)."""
        loop = self._loop or self._start()
        return asyncio.run_coroutine_threadsafe(coro, loop)  # type: ignore[arg-type]

    def call(self, fn: Callable[[], Any]) -> None:
        """Run ``fn`` on the loop's thread (how another thread touches the loop's objects)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(fn)

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=loop.run_forever, name="clio-mock-inprocess", daemon=True)
                self._thread.start()
                self._loop = loop
        return self._loop

    def close(self) -> None:
        """Stop the loop and its thread (a later request starts them again)."""
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        if not loop.is_running():
            loop.close()


class SyncResponse:
    """The app's answer to a sync caller: status and headers at once, the body as it comes."""

    def __init__(self, status: int, headers: Headers, next_item: Callable[[], Any], stop: Callable[[], None]) -> None:
        self.status = status
        self.headers = headers
        self._next = next_item
        self._stop = stop
        self._done = False

    def __iter__(self) -> Iterator[bytes]:
        while not self._done:
            item = self._next()
            if item is _END:
                self._done = True
                self._stop()
            elif isinstance(item, BaseException):
                self._done = True
                self._stop()
                raise item
            else:
                yield item

    def close(self) -> None:
        """The client stopped reading: tell the app (``http.disconnect``)."""
        if not self._done:
            self._done = True
            self._stop()


def _first(exchange: Exchange, item: Any) -> tuple[int, Headers]:
    if isinstance(item, BaseException):
        raise item
    if item is _END:
        raise RuntimeError(f"clio-mock's app sent no response to {exchange.method} {exchange.raw_path.decode()}")
    return item


def open_sync(app: ClioMock, loop: AppLoop, exchange: Exchange) -> SyncResponse:
    """Play ``exchange`` for a sync caller; returns once the app has started its response.

    In a thread without a running event loop (the usual case), the app runs right here on this
    thread's own private loop, driven only while the caller waits for the response or reads its
    body: no thread switch per request. Called from inside a running loop (a sync client in async
    code), it cannot block that loop's thread on another loop, so the app runs on ``loop``'s
    background thread instead."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _open_here(app, exchange)
    return _open_on_thread(app, loop, exchange)


class _OwnLoop:
    """A thread's private event loop for sync callers, closed when the thread ends (its
    ``threading.local`` slot goes, and this with it). Never set as the thread's current loop, so
    code that looks for one still finds none."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def __del__(self) -> None:
        if not self.loop.is_closed() and not self.loop.is_running():
            self.loop.close()


class _ThreadLoop(threading.local):
    own: _OwnLoop | None = None

    def get(self) -> asyncio.AbstractEventLoop:
        if self.own is None or self.own.loop.is_closed():
            self.own = _OwnLoop()
        return self.own.loop


_THREAD_LOOP = _ThreadLoop()


def _open_here(app: ClioMock, exchange: Exchange) -> SyncResponse:
    loop = _THREAD_LOOP.get()
    chunks: collections.deque = collections.deque()
    arrived = asyncio.Event()
    disconnected = asyncio.Event()

    def put(item: Any) -> None:
        chunks.append(item)
        arrived.set()

    async def wait() -> None:
        await arrived.wait()
        arrived.clear()

    task = loop.create_task(exchange.play(app, put, disconnected))

    def next_item() -> Any:
        while not chunks:
            loop.run_until_complete(wait())
        return chunks.popleft()

    def stop() -> None:
        disconnected.set()
        if not task.done():
            loop.run_until_complete(task)  # lets the app finish (it sees http.disconnect)

    status, headers = _first(exchange, next_item())
    return SyncResponse(status, headers, next_item, stop)


def _open_on_thread(app: ClioMock, loop: AppLoop, exchange: Exchange) -> SyncResponse:
    chunks: queue.SimpleQueue = queue.SimpleQueue()
    disconnected: list[asyncio.Event] = []

    async def play() -> None:
        event = asyncio.Event()
        disconnected.append(event)
        await exchange.play(app, chunks.put, event)

    loop.submit(play())
    status, headers = _first(exchange, chunks.get())
    return SyncResponse(status, headers, chunks.get, lambda: loop.call(lambda: disconnected and disconnected[0].set()))


async def open_async(app: ClioMock, exchange: Exchange) -> tuple[int, Headers, AsyncIterator[bytes], Callable[[], Awaitable[None]]]:
    """Play ``exchange`` on the running loop: ``(status, headers, body chunks, close)``."""
    chunks: asyncio.Queue = asyncio.Queue()
    disconnected = asyncio.Event()
    task = asyncio.ensure_future(exchange.play(app, chunks.put_nowait, disconnected))
    first = await chunks.get()
    if isinstance(first, BaseException):
        raise first
    if first is _END:
        raise RuntimeError(f"clio-mock's app sent no response to {exchange.method} {exchange.raw_path.decode()}")
    status, headers = first
    done = False

    async def body() -> AsyncIterator[bytes]:
        nonlocal done
        while not done:
            item = await chunks.get()
            if item is _END:
                done = True
            elif isinstance(item, BaseException):
                done = True
                raise item
            else:
                yield item

    async def close() -> None:
        disconnected.set()
        if not task.done():
            await task

    return status, headers, body(), close


# --------------------------------------------------------------------------- httpx


def _httpx_exchange(request: Any, body: bytes) -> Exchange:
    url = request.url
    headers = [(k.lower(), v) for k, v in request.headers.raw]
    if not any(k == b"host" for k, _ in headers):
        headers.insert(0, (b"host", _host_header(url.host, url.port, url.scheme).encode("ascii")))
    return Exchange(request.method, url.scheme, url.host, url.port, url.raw_path.split(b"?")[0], url.query, headers, body)


try:
    import httpx as _httpx

    class _SyncBody(_httpx.SyncByteStream):
        def __init__(self, response: SyncResponse) -> None:
            self.response = response

        def __iter__(self) -> Iterator[bytes]:
            yield from self.response

        def close(self) -> None:
            self.response.close()

    class _AsyncBody(_httpx.AsyncByteStream):
        def __init__(self, chunks: AsyncIterator[bytes], close: Callable[[], Awaitable[None]]) -> None:
            self.chunks = chunks
            self._close = close

        async def __aiter__(self) -> AsyncIterator[bytes]:
            async for chunk in self.chunks:
                yield chunk

        async def aclose(self) -> None:
            await self._close()

    class MockTransport(_httpx.BaseTransport):
        """A sync httpx transport that answers from the mock's ASGI app, in-process.

        ``loop``: the private event loop to run the app on (one is made, and closed with the
        transport, when none is given)."""

        def __init__(self, app: ClioMock, loop: AppLoop | None = None) -> None:
            self.app = app
            self._own_loop = loop is None
            self.loop = loop or AppLoop()

        def handle_request(self, request: _httpx.Request) -> _httpx.Response:
            response = open_sync(self.app, self.loop, _httpx_exchange(request, request.read()))
            return _httpx.Response(response.status, headers=response.headers, stream=_SyncBody(response), request=request)

        def close(self) -> None:
            if self._own_loop:
                self.loop.close()

    class AsyncMockTransport(_httpx.AsyncBaseTransport):
        """An async httpx transport that answers from the mock's ASGI app on the caller's loop,
        streaming the body (``httpx.ASGITransport`` collects it first)."""

        def __init__(self, app: ClioMock) -> None:
            self.app = app

        async def handle_async_request(self, request: _httpx.Request) -> _httpx.Response:
            status, headers, chunks, close = await open_async(self.app, _httpx_exchange(request, await request.aread()))
            return _httpx.Response(status, headers=headers, stream=_AsyncBody(chunks, close), request=request)

except ImportError:  # pragma: no cover - httpx is a dependency; the names stay importable
    MockTransport = AsyncMockTransport = None  # type: ignore[assignment,misc]


# --------------------------------------------------------------------------- requests


def _latin1(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("latin-1")


def _requests_exchange(request: Any) -> Exchange:
    """A ``requests.PreparedRequest`` as an exchange (requests leaves ``Host`` to http.client)."""
    parts = urlsplit(request.url)
    scheme, host, port = parts.scheme.lower(), (parts.hostname or ""), parts.port
    headers = [(_latin1(k).lower(), _latin1(v)) for k, v in request.headers.items()]
    if not any(k == b"host" for k, _ in headers):
        headers.insert(0, (b"host", _host_header(host, port, scheme).encode("ascii")))
    body = request.body
    if body is None:
        data = b""
    elif isinstance(body, bytes):
        data = body
    elif isinstance(body, str):
        data = body.encode("utf-8")
    elif hasattr(body, "read"):
        data = body.read()
        data = data.encode("utf-8") if isinstance(data, str) else data
    else:  # an iterable of chunks (a generator upload)
        data = b"".join(c.encode("utf-8") if isinstance(c, str) else c for c in body)
    if data and not any(k == b"content-length" for k, _ in headers) and not any(k == b"transfer-encoding" for k, _ in headers):
        headers.append((b"content-length", str(len(data)).encode()))
    return Exchange(request.method or "GET", scheme, host, port, (parts.path or "/").encode("latin-1"), parts.query.encode("latin-1"), headers, data)


class _RawBody:
    """The app's streamed body as the file object urllib3 reads, closed at the end as
    ``http.client.HTTPResponse`` is (urllib3 reads until its file is closed)."""

    def __init__(self, response: SyncResponse) -> None:
        self._chunks = iter(response)
        self._response = response
        self._pending = b""
        self._ended = False
        self.closed = False

    def _fill(self) -> None:
        while not self._pending and not self._ended:
            chunk = next(self._chunks, None)
            if chunk is None:
                self._ended = True
            else:
                self._pending = chunk

    def read(self, amt: int | None = None) -> bytes:
        """Up to ``amt`` bytes as soon as some have come (all of it when ``amt`` is None)."""
        if amt is None:
            data = self._pending + b"".join(self._chunks)
            self._pending, self._ended = b"", True
        else:
            self._fill()
            data, self._pending = self._pending[:amt], self._pending[amt:]
        if self._ended and not self._pending:
            self.closed = True
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True

    def isclosed(self) -> bool:
        return self.closed

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True
        self._response.close()


def requests_response(adapter: Any, request: Any, response: SyncResponse) -> Any:
    """A ``requests.Response`` built the way ``HTTPAdapter`` builds one (cookies, encoding, url)."""
    from urllib3 import HTTPHeaderDict, HTTPResponse

    headers = HTTPHeaderDict()
    for name, value in response.headers:
        headers.add(name.decode("latin-1"), value.decode("latin-1"))
    # requests reads Set-Cookie from the original http.client response's ``msg``; this stands in.
    original = HTTPResponse(body=io.BytesIO(), headers=headers, preload_content=False, msg=headers)  # type: ignore[arg-type]
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = ""
    raw = HTTPResponse(body=_RawBody(response), headers=headers, status=response.status, reason=reason,
                       preload_content=False, decode_content=True, original_response=original,  # type: ignore[arg-type]
                       request_method=request.method, request_url=request.url)
    return adapter.build_response(request, raw)


def open_requests(adapter: Any, app: ClioMock, loop: AppLoop, request: Any, stream: bool) -> Any:
    """Answer a prepared request from ``app`` on ``loop`` (the body read now unless ``stream``)."""
    result = requests_response(adapter, request, open_sync(app, loop, _requests_exchange(request)))
    if not stream:
        _ = result.content
    return result


try:
    import requests.adapters as _adapters

    class MockAdapter(_adapters.HTTPAdapter):
        """A requests transport adapter that answers from the mock's ASGI app, in-process:
        ``session.mount("https://app.clio.com", MockAdapter(app))``."""

        def __init__(self, app: ClioMock, loop: AppLoop | None = None) -> None:
            super().__init__()
            self.app = app
            self._own_loop = loop is None
            self.loop = loop or AppLoop()

        def send(self, request: Any, stream: bool = False, timeout: Any = None, verify: Any = True, cert: Any = None, proxies: Any = None) -> Any:
            return open_requests(self, self.app, self.loop, request, stream)

        def close(self) -> None:
            super().close()
            if self._own_loop:
                self.loop.close()

except ImportError:  # requests is optional
    MockAdapter = None  # type: ignore[assignment,misc]
