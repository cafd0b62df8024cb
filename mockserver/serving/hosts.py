"""Which host names the mock answers as: Clio's regions (the spec's ``servers``), the loopback
names, and any the user adds with ``--tls-host``."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from mockserver.spec.index import SpecIndex

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
HOST_NAME = re.compile(rf"^(\*\.)?{_LABEL}(\.{_LABEL})*$")


def bad_host_names(names: Iterable[str]) -> list[str]:
    """The ``--tls-host`` values that are neither a DNS name nor an IP address."""
    bad = []
    for name in names:
        try:
            ipaddress.ip_address(name.strip().strip("[]"))
        except ValueError:
            if len(name) > 253 or not HOST_NAME.match(name.strip().lower().rstrip(".")):
                bad.append(name)
    return bad


def clio_hosts(index: SpecIndex) -> list[str]:
    """Clio's hosts, one per region, as the spec's ``servers`` list them (app.clio.com, eu., ca., au.)."""
    return index.hosts()


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
