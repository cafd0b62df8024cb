"""Entry point for uvicorn worker processes (``--workers N``): the settings come from the
environment, as the ``clio-mock serve`` process that started them wrote them."""

from __future__ import annotations

import os
from dataclasses import asdict

import orjson

from mockserver.app import ClioMock, create_app
from mockserver.config import Settings

SETTINGS_ENV = "CLIO_MOCK_WORKER_SETTINGS"


def settings_to_env(settings: Settings) -> None:
    os.environ[SETTINGS_ENV] = orjson.dumps(asdict(settings)).decode()


def app_from_env() -> ClioMock:
    """The app of one worker (uvicorn calls this with ``factory=True``)."""
    _nodelay_connections()
    return create_app(Settings(**orjson.loads(os.environ[SETTINGS_ENV])))


def _nodelay_connections() -> None:
    """Set ``TCP_NODELAY`` on every connection a worker accepts. The workers serve a socket
    handed to them, whose connections the event loop leaves with Nagle's algorithm on: each
    keep-alive answer (head and body written apart) then waited for the client's delayed ACK,
    about 40 ms a request. One process (no handed socket) never had this."""
    import socket

    from uvicorn.protocols.http import h11_impl

    classes = [h11_impl.H11Protocol]
    try:
        from uvicorn.protocols.http import httptools_impl

        classes.append(httptools_impl.HttpToolsProtocol)
    except ImportError:  # httptools is optional (uvicorn[standard])
        pass
    for cls in classes:
        if getattr(cls, "_clio_mock_nodelay", False):
            continue
        original = cls.connection_made

        def connection_made(self, transport, _original=original):
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                try:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                except OSError:
                    pass
            return _original(self, transport)

        cls.connection_made = connection_made
        cls._clio_mock_nodelay = True
