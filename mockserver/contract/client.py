"""The kit's one HTTP client: targets, credentials, safety guard, rate limits and budget.

Every request the kit makes goes through :class:`KitClient`, whatever the target (the
in-process mock over ASGI, a mock process, or real Clio), so the safety rules hold
everywhere and are testable in one place:

* **read-only by default** against a live target: anything but GET/HEAD raises
  :class:`ReadOnlyViolation` before it is sent, unless writes were allowed; even then
  POST only goes to collections the kit may create in, and PATCH/PUT/DELETE only to
  records the kit created itself (:meth:`KitClient.own`);
* **rate limits** are honoured, not failed on: ``X-RateLimit-Remaining: 0`` pauses until
  ``X-RateLimit-Reset``, and a 429 waits ``Retry-After`` seconds then retries (each wait
  capped at ``max_wait``; ``sleep`` and ``now`` are injectable for tests);
* a **request budget** caps what is sent; every record the kit creates keeps one request
  in reserve for its delete, and deleting what the kit created is attempted even past
  the budget (leaving no trace in a real account comes first);
* **credentials** come from the environment: an access token, or client id/secret plus a
  refresh token, refreshed once on 401 at ``<host>/oauth/token``. The token is only ever
  sent to the target's own origin.
"""

from __future__ import annotations

import email.utils
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

API_PATH = "/api/v4"
REGIONS = {
    "clio": "https://app.clio.com",
    "clio-us": "https://app.clio.com",
    "clio-ca": "https://ca.app.clio.com",
    "clio-eu": "https://eu.app.clio.com",
    "clio-au": "https://au.app.clio.com",
}
READ_METHODS = frozenset({"GET", "HEAD"})
USER_AGENT = "clio-mock-contract/0.1"

ENV_ACCESS_TOKEN = "CLIO_ACCESS_TOKEN"
ENV_CLIENT_ID = "CLIO_CLIENT_ID"
ENV_CLIENT_SECRET = "CLIO_CLIENT_SECRET"
ENV_REFRESH_TOKEN = "CLIO_REFRESH_TOKEN"
ENV_TOKEN_URL = "CLIO_TOKEN_URL"


class KitError(Exception):
    """A request the kit would not (or could no longer) make; never an API failure."""


class ReadOnlyViolation(KitError):
    """A write the safety rules forbid (read-only target, or a record the kit did not create)."""


class BudgetExhausted(KitError):
    """The request budget is spent."""


class RateLimitGaveUp(KitError):
    """Still 429 after ``max_retries`` waits."""


class AuthFailed(KitError):
    """No usable credentials for a live target, or refreshing the token failed."""


@dataclass
class Credentials:
    """How the kit authenticates: a bearer token, and optionally what refreshes it."""

    access_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None
    token_url: str | None = None  # default: <target origin>/oauth/token

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Credentials:
        env = os.environ if environ is None else environ
        return cls(
            access_token=env.get(ENV_ACCESS_TOKEN) or None,
            client_id=env.get(ENV_CLIENT_ID) or None,
            client_secret=env.get(ENV_CLIENT_SECRET) or None,
            refresh_token=env.get(ENV_REFRESH_TOKEN) or None,
            token_url=env.get(ENV_TOKEN_URL) or None,
        )

    @property
    def can_refresh(self) -> bool:
        return bool(self.client_id and self.client_secret and self.refresh_token)

    def describe(self) -> str:
        if self.can_refresh:
            return "client id/secret + refresh token" + (" + access token" if self.access_token else "")
        return "access token" if self.access_token else "none"


@dataclass
class Limits:
    """Request budget and rate-limit patience."""

    budget: int | None = None  # API requests the kit may send (None: no cap)
    max_wait: float = 120.0  # longest single pause for a rate limit, in seconds
    max_retries: int = 5  # 429 retries per request before giving up


def resolve_target(target: str) -> tuple[str, bool]:
    """``mock`` -> ("mock", False); a region name or URL -> (API root URL, True)."""
    if target == "mock":
        return "mock", False
    origin = REGIONS.get(target.lower(), target)
    if not origin.startswith(("http://", "https://")):
        raise ValueError(f"--target takes 'mock', a URL or one of {', '.join(sorted(REGIONS))}; got {target!r}")
    origin = origin.rstrip("/")
    if origin.endswith(API_PATH):
        return origin, True
    return origin + API_PATH, True


def normalise_path(path: str) -> str:
    """``/api/v4/contacts/12.json?x`` -> ``/contacts/12``: the resource a request touches."""
    path = urlsplit(path).path
    path = path.removeprefix(API_PATH)
    path = path.removesuffix(".json")
    return path.rstrip("/") or "/"


@dataclass
class Exchange:
    """One request and its response, as the reports show them."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int
    response_headers: dict[str, str]
    response_body: str
    elapsed: float = 0.0


def _redacted(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {k: ("[redacted]" if k.lower() in ("authorization", "cookie") else v) for k, v in headers}


def _text(data: bytes | str | None, limit: int = 4000) -> str:
    if not data:
        return ""
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more characters)"


def exchange_of(response: httpx.Response) -> Exchange:
    request = response.request
    try:
        request_body = request.content
    except httpx.RequestNotRead:
        request_body = b""
    return Exchange(
        method=request.method,
        url=str(request.url),
        request_headers=_redacted(request.headers.items()),
        request_body=_text(request_body),
        status=response.status_code,
        response_headers=dict(response.headers.items()),
        response_body=_text(response.content),
        elapsed=response.elapsed.total_seconds() if hasattr(response, "_elapsed") else 0.0,
    )


@dataclass
class KitClient:
    """Sends the kit's requests to one target under the safety rules (see the module doc)."""

    http: httpx.Client
    api_root: str  # e.g. https://app.clio.com/api/v4 (no trailing slash)
    credentials: Credentials
    live: bool = True  # False only for the in-process mock
    allow_writes: bool = False
    limits: Limits = field(default_factory=Limits)
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], float] = time.time

    counts: Counter = field(default_factory=Counter)  # sent API requests by method
    oauth_requests: int = 0
    waits: list[float] = field(default_factory=list)  # every rate-limit pause, in seconds
    rate_limited: int = 0  # 429 answers seen
    refreshes: int = 0
    owned: set[str] = field(default_factory=set)  # normalised paths of records the kit created
    creatable: set[str] = field(default_factory=set)  # normalised collection paths the kit may POST to
    reserved: int = 0  # requests kept back to delete what the kit created
    _pause_until: float = 0.0

    def __post_init__(self) -> None:
        self.api_root = self.api_root.rstrip("/")
        parts = urlsplit(self.api_root)
        self.origin = f"{parts.scheme}://{parts.netloc}"

    # ------------------------------------------------------------------ safety

    @property
    def writes_allowed(self) -> bool:
        return not self.live or self.allow_writes

    @property
    def sent(self) -> int:
        return sum(self.counts.values())

    @property
    def remaining(self) -> int | None:
        if self.limits.budget is None:
            return None
        return max(0, self.limits.budget - self.sent - self.reserved)

    def own(self, path: str, reserve: bool = True) -> None:
        """Record that the kit created the record at ``path`` (it may change and delete it)."""
        key = normalise_path(path)
        if key not in self.owned:
            self.owned.add(key)
            if reserve and self.limits.budget is not None:
                self.reserved += 1

    def disown(self, path: str) -> None:
        key = normalise_path(path)
        if key in self.owned:
            self.owned.discard(key)
            if self.limits.budget is not None and self.reserved:
                self.reserved -= 1

    def is_owned(self, path: str) -> bool:
        key = normalise_path(path)
        return any(key == p or key.startswith(p + "/") for p in self.owned)

    def check_allowed(self, method: str, url: str) -> None:
        """Raise :class:`ReadOnlyViolation` unless the safety rules allow this request."""
        method = method.upper()
        if not url.startswith(self.api_root + "/") and not url.startswith(self.origin + "/oauth/"):
            raise ReadOnlyViolation(f"{url} is outside the target {self.api_root}")
        if method in READ_METHODS or not self.live:
            return
        if not self.allow_writes:
            raise ReadOnlyViolation(f"{method} {url}: the target is read-only (writes need --allow-writes)")
        if method == "POST":
            if normalise_path(url) not in self.creatable:
                raise ReadOnlyViolation(f"POST {url}: not a collection the kit creates records in")
            return
        if not self.is_owned(url):
            raise ReadOnlyViolation(f"{method} {url}: not a record the kit created")

    def can_spend(self, n: int = 1, cleanup: bool = False) -> bool:
        if self.limits.budget is None or cleanup:
            return True
        return self.limits.budget - self.sent - self.reserved >= n

    # ------------------------------------------------------------------ sending

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        if path_or_url.startswith(API_PATH + "/"):
            return self.origin + path_or_url
        return self.api_root + (path_or_url if path_or_url.startswith("/") else "/" + path_or_url)

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: list[tuple[str, str]] | dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        cleanup: bool = False,
        authenticate: bool = True,
    ) -> httpx.Response:
        """Send one API request; see the module doc for what happens around it."""
        method = method.upper()
        url = self.url(path_or_url)
        self.check_allowed(method, url)
        refreshed = False
        attempts = 0
        creates = method == "POST" and normalise_path(url) in self.creatable
        while True:
            if not self.can_spend(2 if creates else 1, cleanup):  # a create needs room for its delete too
                raise BudgetExhausted(f"request budget of {self.limits.budget} spent ({self.sent} sent, {self.reserved} kept for clean-up)")
            self._pace()
            send_headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
            if authenticate:
                token = self._token()
                if token:
                    send_headers["Authorization"] = f"Bearer {token}"
            response = self.http.request(method, url, params=params, headers=send_headers, content=content, follow_redirects=False)
            self.counts[method] += 1
            self._note_limits(response)
            if response.status_code == 429:
                self.rate_limited += 1
                attempts += 1
                if attempts > self.limits.max_retries:
                    raise RateLimitGaveUp(f"{method} {url}: still rate limited after {self.limits.max_retries} waits")
                self._wait(self._retry_after(response))
                continue
            if response.status_code == 401 and authenticate and not refreshed and self.credentials.can_refresh:
                refreshed = True
                self.refresh()
                continue
            return response

    def _token(self) -> str | None:
        if not self.credentials.access_token and self.credentials.can_refresh:
            self.refresh()
        return self.credentials.access_token

    def refresh(self) -> None:
        """Get a new access token with the refresh token (Clio's ``/oauth/token``)."""
        creds = self.credentials
        token_url = creds.token_url or f"{self.origin}/oauth/token"
        form = {"client_id": creds.client_id, "client_secret": creds.client_secret, "grant_type": "refresh_token", "refresh_token": creds.refresh_token}
        self.oauth_requests += 1
        response = self.http.post(token_url, data=form, headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
        try:
            token = response.json().get("access_token") if response.status_code == 200 else None
        except ValueError:
            token = None
        if not token:
            raise AuthFailed(f"refreshing the access token at {token_url} failed: HTTP {response.status_code} {_text(response.content, 300)}")
        creds.access_token = token
        if response.json().get("refresh_token"):
            creds.refresh_token = response.json()["refresh_token"]
        self.refreshes += 1

    # ------------------------------------------------------------------ rate limits

    def _note_limits(self, response: httpx.Response) -> None:
        remaining = response.headers.get("x-ratelimit-remaining")
        reset = response.headers.get("x-ratelimit-reset")
        if remaining is not None and remaining.strip() == "0" and reset:
            try:
                self._pause_until = float(reset)
            except ValueError:
                pass

    def _pace(self) -> None:
        """Before sending: if the window's allowance is spent, wait for ``X-RateLimit-Reset``."""
        if self._pause_until:
            delay = self._pause_until - self.now()
            self._pause_until = 0.0
            if delay > 0:
                self._wait(delay)

    def _retry_after(self, response: httpx.Response) -> float:
        value = response.headers.get("retry-after")
        if value:
            value = value.strip()
            try:
                return max(0.0, float(value))
            except ValueError:
                try:
                    when = email.utils.parsedate_to_datetime(value)
                    return max(0.0, when.timestamp() - self.now())
                except (TypeError, ValueError):
                    pass
        reset = response.headers.get("x-ratelimit-reset")
        if reset:
            try:
                return max(1.0, float(reset) - self.now())
            except ValueError:
                pass
        return 60.0  # Clio's window

    def _wait(self, seconds: float) -> None:
        seconds = min(float(seconds), self.limits.max_wait)
        self.waits.append(seconds)
        if seconds > 0:
            self.sleep(seconds)

    # ------------------------------------------------------------------ summary

    def summary(self) -> dict[str, Any]:
        return {
            "requests": dict(sorted(self.counts.items())),
            "total": self.sent,
            "budget": self.limits.budget,
            "oauth_requests": self.oauth_requests,
            "token_refreshes": self.refreshes,
            "rate_limited": self.rate_limited,
            "waits": [round(w, 2) for w in self.waits],
            "waited_seconds": round(sum(self.waits), 2),
        }
