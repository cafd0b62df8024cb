"""Which host names the mock answers as: Clio's regions (the spec's ``servers``), the loopback
names, and any the user adds with ``--tls-host``."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from mockserver.spec.index import SpecIndex

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def clio_hosts(index: SpecIndex) -> list[str]:
    """Clio's hosts, one per region, as the spec's ``servers`` list them (app.clio.com, eu., ca., au.)."""
    hosts: list[str] = []
    for url in index.servers:
        host = urlsplit(url).hostname
        if host and host not in hosts:
            hosts.append(host)
    return hosts


def served_hosts(index: SpecIndex, extra: Iterable[str] = ()) -> list[str]:
    """The names the forward proxy serves as the mock: Clio's hosts and the ``--tls-host`` names.
    Loopback names are not among them: a client whose proxy variables also catch its own local
    servers gets a clear refusal rather than the mock (``NO_PROXY`` fixes that)."""
    names = clio_hosts(index)
    for name in extra:
        name = name.strip().lower()
        if name and name not in names and name not in LOOPBACK_NAMES:
            names.append(name)
    return names


def certificate_hosts(index: SpecIndex, extra: Iterable[str] = ()) -> list[str]:
    """The names the server certificate covers: the served hosts plus the loopback names."""
    return [*served_hosts(index, extra), *LOOPBACK_NAMES]
