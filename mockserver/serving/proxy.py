"""A forward proxy (``HTTPS_PROXY`` / ``HTTP_PROXY``) that answers for Clio's hosts with the mock.

Clients in any language reach ``https://app.clio.com/api/v4/...`` unchanged: a ``CONNECT
app.clio.com:443`` tunnel is answered ``200 Connection Established``, TLS is terminated with the
local CA's certificate, and the decrypted HTTP goes to the mock's ASGI app on the same event loop.
Absolute-form requests (``GET http://app.clio.com/api/v4/...``, and ``GET https://...`` as axios
sends them) go to the app directly. Every other host is refused with a 403 and never contacted,
unless ``--proxy-pass-through`` is set: then ``CONNECT`` tunnels to port 443 of hosts whose every
address is public are relayed byte for byte (private, loopback and link-local destinations stay
refused; plain-http pass-through is not offered).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import ssl
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

import h11

from mockserver.serving.http11 import Refuse, Router, Serve, Tunnel, serve_http

log = logging.getLogger("clio_mock.proxy")

HANDSHAKE_TIMEOUT = 10.0
CONNECT_TIMEOUT = 10.0
RELAY_IDLE_TIMEOUT = 120.0
PASS_THROUGH_PORTS = frozenset({443})


class ForwardProxy:
    """Serves ``app`` as each of ``hosts`` to clients that use this proxy."""

    def __init__(self, app: Callable, hosts: Iterable[str], tls: ssl.SSLContext, *, pass_through: bool = False,
                 max_connections: int = 512) -> None:
        self.app = app
        self.hosts = [h.lower() for h in hosts]
        self.tls = tls
        self.pass_through = pass_through
        self.max_connections = max_connections
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    async def start(self, sock: socket.socket) -> None:
        """Accept connections on an already bound socket."""
        self._server = await asyncio.start_server(self._connection, sock=sock)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    # ------------------------------------------------------------------ one connection

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if len(self._tasks) >= self.max_connections or task is None:
            writer.close()
            return
        self._tasks.add(task)
        try:
            tunnel = await serve_http(self.app, reader, writer, self._route)
            if tunnel is not None and tunnel.detail is None:
                await self._terminate(reader, writer, tunnel)
            elif tunnel is not None:
                await _relay(reader, writer, *tunnel.detail)
        except (ConnectionError, TimeoutError, ssl.SSLError, asyncio.IncompleteReadError):
            pass
        except Exception:  # one broken connection never takes the proxy down
            log.exception("proxy connection failed")
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 2)
            self._tasks.discard(task)

    async def _terminate(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tunnel: Tunnel) -> None:
        """TLS as ``tunnel.host`` with the mock's certificate, then HTTP/1.1 to the app."""
        try:
            await writer.start_tls(self.tls, ssl_handshake_timeout=HANDSHAKE_TIMEOUT)
        except (ssl.SSLError, ConnectionError, TimeoutError) as exc:
            log.warning("TLS handshake for CONNECT %s:%s failed (%s): does the client trust clio-mock's CA "
                        "(`clio-mock ca path`; SSL_CERT_FILE, REQUESTS_CA_BUNDLE, NODE_EXTRA_CA_CERTS)?",
                        tunnel.host, tunnel.port, type(exc).__name__)
            return
        await serve_http(self.app, reader, writer, self._tunnel_route(tunnel))

    # ------------------------------------------------------------------ routing

    def _serves(self, host: str | None) -> bool:
        return bool(host) and host.lower().rstrip(".") in self.hosts

    def _refusal(self, what: str) -> Refuse:
        log.warning("proxy refused %r: not one of the hosts clio-mock serves", what[:300])
        hint = "set NO_PROXY for it" + ("" if self.pass_through else ", or start clio-mock with --proxy-pass-through")
        return Refuse(403, "ProxyRefused", f"clio-mock's proxy serves only {', '.join(self.hosts)}; it refused {what[:300]} ({hint}).")

    async def _route(self, request: h11.Request) -> Serve | Refuse | Tunnel:
        """A request on the proxy's own port: CONNECT, absolute-form, or origin-form for a served Host."""
        target = request.target.decode("ascii", "replace")
        if request.method == b"CONNECT":
            host, port = _authority(target)
            if host is None:
                return Refuse(400, "BadRequest", f"CONNECT needs host:port, got {target[:200]!r}")
            if self._serves(host):
                return Tunnel(host, port)
            if self.pass_through:
                return await self._pass_through(host, port, target)
            return self._refusal(f"CONNECT {target}")
        if target.startswith(("http://", "https://")):
            return self._absolute(target, None)
        host = _host_header(request)
        if self._serves(_authority(host, 80)[0]):
            return Serve("http", host, request.target)
        return Refuse(400, "BadRequest", "This is clio-mock's forward proxy port: send requests through it with "
                      "HTTPS_PROXY / HTTP_PROXY, or to the mock's own port.")

    def _tunnel_route(self, tunnel: Tunnel) -> Router:
        authority = tunnel.host if tunnel.port == 443 else f"{tunnel.host}:{tunnel.port}"

        async def route(request: h11.Request) -> Serve | Refuse | Tunnel:
            target = request.target.decode("ascii", "replace")
            if request.method == b"CONNECT":
                return Refuse(405, "MethodNotAllowed", "CONNECT inside a tunnel is not supported")
            if target.startswith(("http://", "https://")):
                return self._absolute(target, "https")
            host = _host_header(request)
            # The tunnel's name wins over a Host naming something else, so links stay on it.
            return Serve("https", host if self._serves(_authority(host, 443)[0]) else authority, request.target)

        return route

    def _absolute(self, target: str, scheme: str | None) -> Serve | Refuse:
        parts = urlsplit(target)
        if not self._serves(parts.hostname):
            return self._refusal(f"{parts.scheme}://{parts.netloc}")
        default = 443 if parts.scheme == "https" else 80
        try:
            port = parts.port
        except ValueError:
            return Refuse(400, "BadRequest", f"bad port in {target[:200]!r}")
        host = parts.hostname if port in (None, default) else f"{parts.hostname}:{port}"
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return Serve(scheme or parts.scheme, host, path.encode("ascii", "replace"))

    async def _pass_through(self, host: str, port: int, target: str) -> Tunnel | Refuse:
        """Connect to a public address of ``host`` (every address it has must be public)."""
        if port not in PASS_THROUGH_PORTS:
            return Refuse(403, "ProxyRefused", f"clio-mock's proxy passes tunnels through to port 443 only; refused CONNECT {target[:200]}.")
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), CONNECT_TIMEOUT)
        except (OSError, TimeoutError):
            return Refuse(502, "BadGateway", f"cannot resolve {host[:200]}")
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
        if not addresses or not all(a.is_global for a in addresses):
            log.warning("proxy refused pass-through to %r: it resolves to a private, loopback or link-local address", host[:200])
            return Refuse(403, "ProxyRefused", f"{host[:200]} resolves to a private, loopback or link-local address; clio-mock does not tunnel there.")
        try:
            upstream = await asyncio.wait_for(asyncio.open_connection(str(addresses[0]), port), CONNECT_TIMEOUT)
        except (OSError, TimeoutError):
            return Refuse(502, "BadGateway", f"cannot connect to {host[:200]}:{port}")
        return Tunnel(host, port, upstream)


def _host_header(request: h11.Request) -> str:
    return next((v.decode("ascii", "replace") for k, v in request.headers if k == b"host"), "")


def _authority(value: str, default_port: int | None = None) -> tuple[str | None, int]:
    """``host:port`` (``[v6]:port`` too) as (lower-case host, port); (None, 0) if malformed."""
    host, sep, port = value.rpartition(":")
    if not sep or (host.startswith("[") != host.endswith("]")) or "]" in port:
        host, port = value, ""
    host = host.strip("[]").lower()
    if not port:
        return (host or None, default_port) if default_port is not None and host else (None, 0)
    if not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536 or not host:
        return None, 0
    return host, int(port)


async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 up_reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter) -> None:
    """Copy bytes both ways until both sides finish (or one is idle too long)."""

    async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await asyncio.wait_for(src.read(65536), RELAY_IDLE_TIMEOUT):
                dst.write(data)
                await dst.drain()
            if dst.can_write_eof():
                dst.write_eof()
        except (ConnectionError, TimeoutError, OSError):
            dst.close()

    try:
        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
    finally:
        up_writer.close()

