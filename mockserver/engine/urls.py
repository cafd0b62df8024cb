"""The origin (scheme and host) of the links the mock builds: ``paging.next``, download redirects,
OAuth pages. One function, so every link follows the same rule."""

from __future__ import annotations


def origin(scope: dict, host: str | None = None, public_url: str | None = None) -> str:
    """``scheme://host[:port]`` as the client addressed the mock, so a client talking to
    ``https://app.clio.com`` (``--tls``, or through the forward proxy) stays on it: the request's
    scheme (``https`` under TLS) and its ``Host`` header (``host``, when the caller has it parsed),
    else the address it arrived at.
    ``public_url``, when set, wins (a mock behind a reverse proxy)."""
    if public_url:
        return public_url.rstrip("/")
    if host is None:
        host = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"host"), "")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"[{server[0]}]:{server[1]}" if ":" in str(server[0]) else f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"
