"""Where webhook requests may go: no server-side request forgery.

A webhook URL is the mock's only request to a host a client names. Without rules any API
user could make the mock POST to ``169.254.169.254`` (cloud metadata), the private network
or the mock's own host. So a destination must be ``https://`` to a public address; private,
loopback, link-local, multicast, reserved and unspecified addresses are refused unless the
``webhook_allow_host`` setting names the host or a CIDR holding the address (which also
lets plain ``http://`` go there: a compose service named ``app``), or, for loopback only,
``webhook_allow_http`` is on (local receivers in tests).

The rule runs when a webhook is created or changes URL and again before every request, on
the addresses the name resolves to *then*; the request is sent to the vetted address
itself (Host header and TLS server name kept), so a DNS answer that changes between the
check and the connection (rebinding) cannot redirect it.
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
RESOLVE_TIMEOUT = 2.0  # seconds: a slow resolver must not hold a request for long
_resolver_pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="clio-mock-dns")


class RefusedDestination(ValueError):
    """A webhook URL the mock will not send to; the message says why."""


class Unresolved(RefusedDestination):
    """The host name did not resolve (now): refused at delivery, tolerated at creation."""


def system_resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (getaddrinfo, bounded by RESOLVE_TIMEOUT)."""
    future = _resolver_pool.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=RESOLVE_TIMEOUT)
    except (OSError, UnicodeError, concurrent.futures.TimeoutError) as exc:
        raise Unresolved(f"url: {host} does not resolve ({type(exc).__name__})") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


@dataclass(frozen=True)
class Target:
    """A vetted destination: connect to ``address``, speak to ``host``."""

    url: str
    scheme: str
    host: str
    port: int
    address: str

    def pinned_url(self) -> str:
        """The URL with its host replaced by the vetted address."""
        parts = urlsplit(self.url)
        ip = f"[{self.address}]" if ":" in self.address else self.address
        return parts._replace(netloc=f"{ip}:{self.port}").geturl()

    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


@dataclass
class DestinationPolicy:
    """The rules above; ``resolve`` is replaceable (tests never send a packet to a private address)."""

    allow_http_loopback: bool = False
    allow: list[str] = field(default_factory=list)  # host names or CIDRs (webhook_allow_host)
    resolve: Callable[[str, int], list[str]] = system_resolve

    def __post_init__(self) -> None:
        self.names: set[str] = set()
        self.networks: list[Network] = []
        for entry in self.allow:
            try:
                self.networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                self.names.add(entry.strip().lower().rstrip("."))

    def vet(self, url: str) -> Target:
        """The destination to connect to, or RefusedDestination (Unresolved when the name
        does not resolve)."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
        if parts.scheme not in ("http", "https") or not host:
            raise RefusedDestination("url: must be an absolute https URL")
        if "@" in parts.netloc or "\\" in url:
            raise RefusedDestination("url: must not carry user information")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise RefusedDestination("url: the port is not valid") from None
        named = host in self.names
        if parts.scheme == "http" and not (named or self.networks or self.allow_http_loopback):
            raise RefusedDestination("url: only https URLs are accepted")
        try:
            addresses = [host] if _is_ip(host) else self.resolve(host, port)
        except Unresolved:
            if parts.scheme == "http" and not named:
                raise RefusedDestination("url: only https URLs are accepted" + (" (http only to loopback)" if self.allow_http_loopback else "")) from None
            raise
        if not addresses:
            raise Unresolved(f"url: {host} does not resolve")
        loopback_only = True
        for raw in addresses:
            address = ipaddress.ip_address(raw.split("%", 1)[0])
            if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
                address = address.ipv4_mapped
            allowed = named or any(address in net for net in self.networks)
            loopback_only = loopback_only and address.is_loopback
            if not allowed and not _public(address) and not (self.allow_http_loopback and address.is_loopback):
                raise RefusedDestination(
                    f"url: {host} is {_kind(address)} address {address}; webhooks go to public hosts only "
                    "(name it with webhook_allow_host to allow it)"
                )
        if parts.scheme == "http":
            explicitly = named or all(any(ipaddress.ip_address(a.split("%", 1)[0]) in n for n in self.networks) for a in addresses)
            if not (explicitly or (self.allow_http_loopback and loopback_only)):
                raise RefusedDestination("url: only https URLs are accepted" + (" (http only to loopback)" if self.allow_http_loopback else ""))
        return Target(url, parts.scheme, host, port, addresses[0].split("%", 1)[0])


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def _public(address: Address) -> bool:
    return address.is_global and not address.is_multicast


def _kind(address: Address) -> str:
    for name in ("loopback", "link_local", "private", "multicast", "reserved", "unspecified"):
        if getattr(address, f"is_{name}"):
            return {"link_local": "a link-local", "unspecified": "an unspecified"}.get(name, f"a {name}")
    return "a non-public"
