"""Run the mock under uvicorn, with HTTPS (``--tls``) and the forward proxy (``--proxy-port``) on the
same event loop, so the proxy's requests reach the very app (and state) uvicorn serves."""

from __future__ import annotations

import gc
import socket
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from mockserver.config import Settings
from mockserver.control.api import LOOPBACK
from mockserver.engine.errors import ClioError
from mockserver.serving.ca import LocalCA
from mockserver.serving.hosts import bad_host_names, certificate_hosts, served_hosts
from mockserver.serving.proxy import ForwardProxy
from mockserver.serving.tls import certificate_files, server_context
from mockserver.spec.index import SpecIndex

# Young objects collected every 20,000 allocations instead of 700: a request allocates a few
# hundred containers, nearly all freed by reference count, so the default threshold ran the
# collector every few requests for nothing (about 10% of a GET's CPU, measured with wrk).
COLLECTOR_THRESHOLDS = (20_000, 20, 20)


def tune_collector() -> None:
    """The garbage collector for a process that serves one app, once the app is built: what
    is alive then (the spec index, the firms) lives as long as the process, so ``gc.freeze()``
    takes it out of the collector's sight (a full collection walked every record: about 50 ms
    for the default firm, far more for a big one, while requests waited), and young objects
    are collected less often. Not for tests that build apps in process: frozen cycles of a
    discarded app would never be freed. No collection first: a freshly built app leaves no
    cyclic garbage (measured: none), and one would cost 25-50 ms of start-up."""
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)


class MockServer(uvicorn.Server):
    """uvicorn's server, starting and stopping the forward proxy with it."""

    def __init__(self, config: uvicorn.Config, proxy: ForwardProxy | None = None, proxy_socket: socket.socket | None = None) -> None:
        super().__init__(config)
        self.proxy = proxy
        self.proxy_socket = proxy_socket

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.proxy is not None and self.proxy_socket is not None and not self.should_exit:
            await self.proxy.start(self.proxy_socket)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.proxy is not None:
            await self.proxy.close()
        await super().shutdown(sockets=sockets)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (bound now, so a taken port fails before start-up)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def run(app: Any, run_options: dict[str, Any], proxy: ForwardProxy | None = None, proxy_socket: socket.socket | None = None) -> None:
    """Serve ``app`` with uvicorn (``run_options`` are ``uvicorn.Config``'s) and the proxy beside it."""
    MockServer(uvicorn.Config(app, **run_options), proxy, proxy_socket).run()


@dataclass
class ServingPlan:
    """What ``serve`` adds to uvicorn for ``--tls`` and ``--proxy-port``, and what to tell the user."""

    scheme: str = "http"
    uvicorn_options: dict[str, Any] = field(default_factory=dict)
    proxy: ForwardProxy | None = None
    proxy_socket: socket.socket | None = None
    notes: list[str] = field(default_factory=list)


def plan(settings: Settings, index: SpecIndex, app: Any) -> ServingPlan:
    """Certificates, TLS options and the bound proxy socket for ``settings``; ClioError when they
    cannot work together (exit 2 with one line, before anything listens)."""
    out = ServingPlan()
    tls = settings.tls or bool(settings.tls_cert or settings.tls_key)
    if not (tls or settings.proxy_port):
        return out
    if settings.proxy_port and settings.workers > 1:
        raise ClioError(400, "InvalidSetting", "--proxy-port needs --workers 1: the proxy serves the app of this process")
    if settings.proxy_pass_through and settings.host not in LOOPBACK:
        raise ClioError(400, "InvalidSetting", f"--proxy-pass-through on {settings.host} would be an open proxy: bind to loopback")
    bad = bad_host_names(settings.tls_host)
    if bad:
        raise ClioError(400, "InvalidSetting", f"--tls-host {bad[0]!r} is neither a host name nor an IP address")
    try:
        files = certificate_files(settings, index)
    except OSError as exc:
        raise ClioError(400, "InvalidSetting", f"cannot create the local CA in {LocalCA().directory}: {exc.strerror or exc} "
                        "(CLIO_MOCK_CACHE_DIR moves it)") from None
    context = server_context(files)  # loads the pair now: a bad file fails here, not at the first client
    own = bool(settings.tls_cert)
    if tls:
        out.scheme = "https"
        out.uvicorn_options = {"ssl_certfile": str(files.cert), "ssl_keyfile": str(files.key)}
        names = "your certificate" if own else ", ".join(certificate_hosts(index, settings.tls_host))
        out.notes.append(f"HTTPS with {'--tls-cert ' + str(files.cert) if own else 'a certificate for ' + names}")
    if not own:
        out.notes.append(f"CA certificate: {LocalCA().cert_path} (SSL_CERT_FILE, REQUESTS_CA_BUNDLE, NODE_EXTRA_CA_CERTS)")
    if settings.proxy_port:
        hosts = served_hosts(index, settings.tls_host)
        try:
            out.proxy_socket = bind(settings.host, settings.proxy_port)
        except OSError as exc:
            raise ClioError(400, "InvalidSetting", f"cannot listen on {settings.host}:{settings.proxy_port} for the proxy: {exc.strerror or exc}") from None
        out.proxy = ForwardProxy(app, hosts, context, pass_through=settings.proxy_pass_through)
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        out.notes.append(f"forward proxy for {', '.join(hosts)} on http://{host}:{settings.proxy_port} (HTTPS_PROXY, HTTP_PROXY)")
    return out
