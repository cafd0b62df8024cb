"""In-process interception: code that calls ``https://app.clio.com/api/v4`` reaches the mock, unchanged.

    import mockserver

    with mockserver.intercept(seed=7) as clio:          # or @mockserver.intercept(...)
        requests.get("https://app.clio.com/api/v4/users/who_am_i.json", headers={"Authorization": "Bearer dev"})
        clio.requests("GET")                            # the journal, faults, clock, tokens

While active, every request an ``httpx`` client (sync or async, made before or after the switch)
or a ``requests`` session (and so authlib and requests-oauthlib) sends to one of Clio's hosts is
answered by the mock's ASGI app in this process: no socket, no DNS, no TLS. Clio's hosts are the
``servers`` of the spec (``app.clio.com`` and its EU, CA and AU twins). The whole host goes to the
mock, ``/api/v4``, ``/oauth`` and the ``/__mock__/files`` targets of download redirects alike.

How: the two methods every real request of those libraries passes through are replaced for the
duration, ``httpx.HTTPTransport.handle_request`` / ``httpx.AsyncHTTPTransport.handle_async_request``
and ``requests.adapters.HTTPAdapter.send``. A request for a Clio host goes to
:mod:`mockserver.testing.transport` (the same code as ``MockTransport``/``MockAdapter``); any other
is handed to the method that was there before (the real one, or another mocking library's patch),
or refused with the library's own connection error. Clients with a transport of their own
(``httpx.MockTransport``, an ``ASGITransport``) never reach the network and are left alone.

Regions (``regions=``): ``"separate"`` (the default) gives each regional host a mock of its own,
built with the same settings when first called, so data and tokens do not cross regions, as on Clio
(BEHAVIOR.md section 1: a token used against the wrong region is a documented cause of 401); the
first host (``app.clio.com``) is the given app. ``"shared"`` sends all four to one mock.

Other hosts (``other_hosts=``): ``"pass"`` (the default) lets them through, so a test can still
talk to its own services on localhost; ``"refuse"`` fails them with the client's connection error,
except hosts in ``allow`` (loopback by default: the mock's own webhook deliveries go there). Either
way, any other ``*.clio.com`` host is refused: the default never sends a test's traffic to real Clio.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from mockserver.app import ClioMock, create_app
from mockserver.config import Settings
from mockserver.serving import hosts as served
from mockserver.spec.index import SpecIndex
from mockserver.state import MockState
from mockserver.testing.controls import MockControls
from mockserver.testing.transport import (
    AppLoop,
    AsyncMockTransport,
    MockTransport,
    open_requests,
)

LOOPBACK = served.LOOPBACK_NAMES
REFUSED = object()  # route(): a request this interceptor fails
Regions = Literal["separate", "shared"]
OtherHosts = Literal["pass", "refuse"]


def clio_hosts(index: SpecIndex) -> list[str]:
    """Clio's hosts, from the spec's ``servers`` (``app.clio.com`` when it lists none)."""
    return index.hosts()


def _is_clio(host: str) -> bool:
    return host == "clio.com" or host.endswith(".clio.com")


class Interceptor(MockControls, contextlib.ContextDecorator):
    """Routes Clio's hosts into a mock in this process while active (see the module's docs).

    Give an existing ``app`` (a :class:`~mockserver.app.ClioMock`), or ``settings`` and/or
    keyword settings as ``clio-mock serve`` takes them (``spec``, ``seed``, ``records``...); with
    neither, the defaults. ``index`` reuses an indexed spec. Entering it builds the mock (once per
    ``with`` or decorated call, unless ``app`` was given); ``.app`` / ``.state`` are the first
    region's, ``.app_for(host)`` any region's. The journal, fault, clock and token handles of
    ``clio_mock`` work here too (``.requests()``, ``.fault()``, ``.advance()``, ``.token()``).
    """

    def __init__(self, settings: Settings | None = None, *, app: ClioMock | None = None, index: SpecIndex | None = None,
                 regions: Regions = "separate", other_hosts: OtherHosts = "pass", allow: Iterable[str] = LOOPBACK,
                 **setting_values: Any) -> None:
        if regions not in ("separate", "shared"):
            raise ValueError(f"regions must be 'separate' or 'shared', not {regions!r}")
        if other_hosts not in ("pass", "refuse"):
            raise ValueError(f"other_hosts must be 'pass' or 'refuse', not {other_hosts!r}")
        if app is not None and (settings is not None or setting_values):
            raise ValueError("give either an app or settings, not both")
        self.settings = app.state.settings if app is not None else replace(settings or Settings(), **setting_values)
        self.regions = regions
        self.other_hosts = other_hosts
        self.allow = frozenset(h.lower() for h in allow)
        self._given_app = app
        self._index = index or (app.state.index if app is not None else None)
        self._apps: dict[str, ClioMock] = {}
        self._hosts: list[str] = []
        self._lock = threading.Lock()
        self._loop = AppLoop()
        self._sync: dict[int, MockTransport] = {}
        self._async: dict[int, AsyncMockTransport] = {}
        self._undo: list[Callable[[], None]] = []

    # ----------------------------------------------------------------- the mock(s)

    @property
    def app(self) -> ClioMock:
        """The first region's app (``app.clio.com``): the given app, or the one built on entering."""
        if not self._apps:
            raise RuntimeError("the interceptor is not active: use it in a with block or as a decorator")
        return self._apps[self._hosts[0]]

    @property
    def state(self) -> MockState:
        return self.app.state

    @property
    def hosts(self) -> list[str]:
        """The hosts routed to the mock (the spec's ``servers``)."""
        return list(self._hosts)

    @property
    def url(self) -> str:
        """``https://app.clio.com``: the base URL real clients already use."""
        return f"https://{self._hosts[0]}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v4"

    def app_for(self, host: str) -> ClioMock:
        """The mock answering ``host`` (with separate regions, built on first use)."""
        host = host.lower().rstrip(".")
        if host not in self._hosts:
            raise KeyError(f"{host} is not one of Clio's hosts {self._hosts}")
        if self.regions == "shared":
            return self.app
        found = self._apps.get(host)
        if found is None:
            with self._lock:
                found = self._apps.get(host) or self._build(self._region_settings(host))
                self._apps[host] = found
        return found

    def _region_settings(self, host: str) -> Settings:
        """A region's mock: the same settings, its own SQLite file when state is kept on disk."""
        settings = self.app.state.settings
        if settings.data:
            path = Path(settings.data)
            settings = replace(settings, data=str(path.with_name(f"{path.stem}.{host.split('.')[0]}{path.suffix}")))
        return settings

    def _build(self, settings: Settings) -> ClioMock:
        app = create_app(settings, index=self._index)
        self._index = app.state.index  # the next region reuses the indexed spec
        return app

    def route(self, host: str | None) -> Any:
        """Where a request for ``host`` goes: an app, ``REFUSED``, or None (pass it through)."""
        host = (host or "").lower().rstrip(".")
        if host in self._hosts:
            return self.app_for(host)
        if _is_clio(host):
            return REFUSED  # a Clio host the mock does not serve: never real Clio
        if self.other_hosts == "refuse" and host not in self.allow:
            return REFUSED
        return None

    def _refusal(self, host: str | None) -> str:
        if _is_clio(host or ""):
            return f"clio-mock intercept: {host} is not one of the Clio hosts the mock serves ({', '.join(self._hosts)}); refused rather than sent to Clio"
        return f"clio-mock intercept: request to {host} refused (other_hosts='refuse'; allowed: {', '.join(sorted(self.allow)) or 'none'})"

    # ----------------------------------------------------------------- switching on and off

    def __enter__(self) -> "Interceptor":
        if self._undo:
            raise RuntimeError("this interceptor is already active")
        first = self._given_app or self._build(self.settings)
        self._hosts = clio_hosts(first.state.index)
        self._apps = {self._hosts[0]: first}
        for patch in (_patch_httpx, _patch_requests):
            undo = patch(self)
            if undo is not None:
                self._undo.append(undo)
        return self

    def __exit__(self, *exc: Any) -> None:
        while self._undo:
            self._undo.pop()()
        self._loop.close()
        self._sync.clear()
        self._async.clear()
        # The apps stay readable (``.requests()`` after the block); the next ``with`` builds anew.

    def __call__(self, func: Callable) -> Callable:
        """As a decorator: active for each call of ``func`` (a coroutine function too)."""
        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with self._recreate_cm():
                    return await func(*args, **kwargs)
            return run_async
        return super().__call__(func)

    def sync_transport(self, app: ClioMock) -> MockTransport:
        found = self._sync.get(id(app))
        if found is None:
            found = self._sync[id(app)] = MockTransport(app, loop=self._loop)
        return found

    def async_transport(self, app: ClioMock) -> AsyncMockTransport:
        found = self._async.get(id(app))
        if found is None:
            found = self._async[id(app)] = AsyncMockTransport(app)
        return found

    def open_requests(self, adapter: Any, app: ClioMock, request: Any, stream: bool) -> Any:
        return open_requests(adapter, app, self._loop, request, stream)


def intercept(settings: Settings | None = None, **options: Any) -> Interceptor:
    """Route Clio's hosts to an in-process mock while active: a context manager and a decorator.

    ``intercept(seed=7)``, ``intercept(Settings(...))``, ``intercept(app=create_app(...))``; options
    ``regions="separate"|"shared"``, ``other_hosts="pass"|"refuse"``, ``allow=(hosts...)``. See
    :class:`Interceptor`."""
    return Interceptor(settings, **options)


# --------------------------------------------------------------------------- the patches


def _patch_httpx(interceptor: Interceptor) -> Callable[[], None] | None:
    try:
        import httpx
    except ImportError:
        return None
    real_sync = httpx.HTTPTransport.handle_request
    real_async = httpx.AsyncHTTPTransport.handle_async_request

    def handle_request(transport: Any, request: httpx.Request) -> httpx.Response:
        target = interceptor.route(request.url.host)
        if target is None:
            return real_sync(transport, request)
        if target is REFUSED:
            raise httpx.ConnectError(interceptor._refusal(request.url.host), request=request)
        return interceptor.sync_transport(target).handle_request(request)

    async def handle_async_request(transport: Any, request: httpx.Request) -> httpx.Response:
        target = interceptor.route(request.url.host)
        if target is None:
            return await real_async(transport, request)
        if target is REFUSED:
            raise httpx.ConnectError(interceptor._refusal(request.url.host), request=request)
        return await interceptor.async_transport(target).handle_async_request(request)

    httpx.HTTPTransport.handle_request = handle_request  # type: ignore[method-assign]
    httpx.AsyncHTTPTransport.handle_async_request = handle_async_request  # type: ignore[method-assign]

    def undo() -> None:
        httpx.HTTPTransport.handle_request = real_sync  # type: ignore[method-assign]
        httpx.AsyncHTTPTransport.handle_async_request = real_async  # type: ignore[method-assign]

    return undo


def _patch_requests(interceptor: Interceptor) -> Callable[[], None] | None:
    try:
        import requests
        from requests.adapters import HTTPAdapter
    except ImportError:
        return None
    real_send = HTTPAdapter.send

    def send(adapter: Any, request: Any, stream: bool = False, timeout: Any = None, verify: Any = True,
             cert: Any = None, proxies: Any = None) -> Any:
        host = urlsplit(request.url).hostname
        target = interceptor.route(host)
        if target is None:
            return real_send(adapter, request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies)
        if target is REFUSED:
            raise requests.exceptions.ConnectionError(interceptor._refusal(host), request=request)
        return interceptor.open_requests(adapter, target, request, stream)

    HTTPAdapter.send = send  # type: ignore[method-assign]

    def undo() -> None:
        HTTPAdapter.send = real_send  # type: ignore[method-assign]

    return undo
