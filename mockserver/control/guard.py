"""What keeps a web page from driving the mock: Host (DNS rebinding), Origin and content-type
checks for the control API and the OAuth approval form, and the folders the control API may
read scenario files from.

A page on ``https://evil.example`` can make a browser send requests to ``127.0.0.1:8000``. It
cannot read the answers, but a "simple" POST (``text/plain``, a form) still runs, and after a
DNS rebinding (evil.example resolving to 127.0.0.1) the page is even same-origin. So: the
``Host`` must name the mock (:func:`allowed_hosts`), a browser's ``Origin`` must name it too,
and control writes must be JSON (a cross-site JSON request needs a CORS preflight the mock
never grants). A request with the valid admin token passes: no page knows that token.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

if TYPE_CHECKING:
    from mockserver.config import Settings

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# Starlette's TestClient's default host: in-process tests (no socket, no browser) use it.
IN_PROCESS_HOSTS = {"testserver"}
CLIO_HOSTS = {"app.clio.com", "eu.app.clio.com", "ca.app.clio.com", "au.app.clio.com"}
WILDCARD_BINDS = {"0.0.0.0", "::", ""}
SHIPPED_FIXTURES = Path(__file__).resolve().parents[1] / "data" / "fixtures"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def allowed_hosts(settings: Settings) -> set[str]:
    """Host names (no ports, lower case) the mock answers to: loopback names, the bind host,
    ``public_url``'s host, Clio's four hosts (served via TLS, the proxy or interception) and
    the ``tls_host`` names."""
    from urllib.parse import urlsplit

    hosts = set(LOOPBACK) | CLIO_HOSTS | IN_PROCESS_HOSTS
    if settings.host not in WILDCARD_BINDS:
        hosts.add(settings.host.lower())
    if getattr(settings, "public_url", None):
        name = urlsplit(settings.public_url).hostname
        if name:
            hosts.add(name.lower())
    hosts |= {str(h).lower() for h in getattr(settings, "tls_host", None) or []}
    return hosts


def host_name(value: str) -> str:
    """The host of a ``Host`` header or an origin's authority, without port or brackets."""
    value = value.strip().lower()
    if "://" in value:
        value = value.split("://", 1)[1]
    value = value.split("/", 1)[0]
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def is_loopback(host: str) -> bool:
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def has_admin_token(settings: Settings, request: Request) -> bool:
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    return bool(settings.admin_token) and hmac.compare_digest(given.encode(), settings.admin_token.encode())


DASHBOARD_COOKIE = "clio_mock_admin"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def dashboard_cookie_value(admin_token: str) -> str:
    """What the dashboard's session cookie holds: derived from the admin token, not the token."""
    return hmac.new(admin_token.encode(), b"clio-mock dashboard session", hashlib.sha256).hexdigest()


def admin_allowed(request: Request, settings: Settings) -> bool:
    """May this request use the control API (and the dashboard)? Always on loopback; otherwise
    with the admin token as a Bearer token, or the dashboard's cookie (see
    :mod:`mockserver.control.dashboard`) on a read or on a write a foreign page cannot send
    without a CORS preflight (JSON, or DELETE), which the mock never grants."""
    if settings.host in LOOPBACK or has_admin_token(settings, request):
        return True
    token = settings.admin_token
    cookie = request.cookies.get(DASHBOARD_COOKIE, "")
    if not token or not cookie or not hmac.compare_digest(cookie.encode(), dashboard_cookie_value(token).encode()):
        return False
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return request.method in SAFE_METHODS or request.method == "DELETE" or content_type == "application/json"


def forbidden(message: str) -> JSONResponse:
    return JSONResponse({"error": {"type": "Forbidden", "message": message}}, 403)


def check_browser(settings: Settings, request: Request, require_json: bool = False, authenticated: bool = False) -> Response | None:
    """403 (Clio's error shape) for a rebinding ``Host``, a foreign ``Origin``, or (with
    ``require_json``) a write whose body is not JSON; None when the request may go on.

    ``authenticated``: the caller checked an admin credential (the dashboard's SameSite=strict
    cookie, which a rebinding page's origin never receives): any ``Host`` then."""
    if has_admin_token(settings, request):
        return None
    allowed = allowed_hosts(settings)
    host = host_name(request.headers.get("host", ""))
    if not authenticated and host and host not in allowed and not (settings.host in WILDCARD_BINDS and is_loopback(host)):
        return forbidden(f"Host {host!r} is not a name of this mock (DNS rebinding?); allowed: {', '.join(sorted(allowed))}, or set public_url")
    origin = request.headers.get("origin")
    if origin is not None and (origin == "null" or host_name(origin) not in allowed):
        return forbidden(f"Requests from the web page at {origin!r} may not drive the mock")
    if require_json and request.method in WRITE_METHODS:
        ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        bodiless = not ctype and request.headers.get("content-length", "0") == "0" and "transfer-encoding" not in request.headers
        if not bodiless and ctype != "application/json":
            return forbidden("Control API writes must be sent as Content-Type: application/json")
    return None


def fixture_dirs(settings: Settings) -> list[Path]:
    """Folders the control API may read scenario files from: the working directory, the
    shipped fixtures, and those the ``fixture_dir`` setting adds."""
    given = [Path(d).expanduser() for d in getattr(settings, "fixture_dir", None) or []]
    return [p.resolve() for p in [Path(os.getcwd()), SHIPPED_FIXTURES, *given]]


def fixture_path(settings: Settings, path: str) -> Path:
    """``path`` resolved (symlinks too); PermissionError unless it lies in a fixture folder."""
    resolved = Path(path).expanduser().resolve()
    for folder in fixture_dirs(settings):
        if resolved == folder or folder in resolved.parents:
            return resolved
    raise PermissionError(f"{path} is outside the fixture folders ({', '.join(map(str, fixture_dirs(settings)))}); add one with fixture_dir")
