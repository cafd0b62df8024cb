"""Clio's OAuth 2.0 authorization-code server: developer apps, grants, codes and tokens.

State only; the HTTP side (authorize page, token endpoint) is :mod:`mockserver.clio.oauth_http`.
As in Clio Manage: one grant type (authorization code), access tokens that expire (30 days
by default), refresh tokens that never expire, are reusable and are not rotated, and
``/oauth/deauthorize`` revoking the whole grant. Permissions are fixed on the app as
read or write per area (the spec's ``x-tagGroups``) and copied into the grant when a user
approves, so later changes to the app do not reach existing tokens.

Tokens are kept by their SHA-256 digest, never in clear, and secrets are compared in
constant time.

With ``--data`` the state persists as store collections, one row per app, grant, access token
and code: a token request writes its grant and token rows, not every live token, and other
processes load just those rows.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from mockserver.engine.auth import Authenticator, AuthError, bearer_token
from mockserver.engine.errors import ClioError
from mockserver.engine.handlers import Principal
from mockserver.engine.records import Clock
from mockserver.engine.store import Collection, MemoryStore
from mockserver.spec.index import Operation

READ, WRITE = "read", "write"
DEFAULT_CLIENT_ID = "clio-mock-app-key"
DEFAULT_CLIENT_SECRET = "clio-mock-app-secret"
DEFAULT_REDIRECT_URIS = ("http://127.0.0.1:*", "http://localhost:*")
APPROVAL_PATH = "/oauth/approval"
FORM_TOKEN_LIFETIME = 3600  # seconds an approval page stays usable
CODE_MEMORY = 86400  # seconds a used or expired code is remembered (replay detection)


class OAuthError(Exception):
    """An RFC 6749 section 5.2 error: ``{"error": code, "error_description": ...}``."""

    def __init__(self, code: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.status = status


@dataclass
class DeveloperApp:
    """A developer application: app key/secret, redirect URIs and access permissions."""

    client_id: str
    client_secret: str
    name: str
    redirect_uris: list[str]
    permissions: dict[str, str]  # area -> "read" | "write"; "*" covers every area
    description: str = ""
    website: str = ""
    auto_approve: bool = False
    app_id: int = 0

    def allows_redirect(self, uri: str, extra: tuple[str, ...] | list[str] = ()) -> bool:
        """Whether ``uri`` is registered for this app (or given in ``extra``, the
        ``oauth_redirect_origin`` setting): see :func:`redirect_matches`."""
        return any(redirect_matches(uri, pattern) for pattern in [*self.redirect_uris, *extra])

    def public(self) -> dict[str, Any]:
        """The app without its secret (for listings)."""
        return {k: v for k, v in self.__dict__.items() if k != "client_secret"}


_SAFE_URI = re.compile(r"[\x00-\x20\x7f\\]")  # control characters, spaces and backslashes


def _parsed(uri: str) -> tuple[str, str, int | None, str, str] | None:
    """(scheme, host, port, path, query) of an absolute http(s) URI without userinfo or
    fragment, or None. Browsers and servers disagree on ``\\``, ``@`` and odd ports
    (``http://127.0.0.1:80@evil.example/``): refuse all of them rather than guess."""
    if not uri or _SAFE_URI.search(uri):
        return None
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or "@" in parts.netloc or parts.fragment or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    return parts.scheme, parts.hostname.lower(), port, parts.path, parts.query


def redirect_matches(uri: str, pattern: str) -> bool:
    """Redirect matching as the OAuth 2.0 security BCP (RFC 9700 4.1.3) asks: on the parsed
    scheme, host, port and path, never as a string glob.

    * A registered URI matches itself exactly (scheme and host compared without case).
    * A ``*`` port (``http://127.0.0.1:*``, ``http://localhost:*/cb``) is RFC 8252's loopback
      rule: any port on exactly that host; the path must be equal when the pattern has one.
    * A pattern without a path (``http://127.0.0.1:*``, or an origin the
      ``oauth_redirect_origin`` setting names, ``http://app:3000``) allows any path there.
    """
    wildcard = "://" in pattern and pattern.split("://", 1)[1].split("/", 1)[0].endswith(":*")
    target = _parsed(uri)
    registered = _parsed(pattern.replace(":*", "", 1) if wildcard else pattern)
    if target is None or registered is None:
        return False
    scheme, host, port, path, query = target
    r_scheme, r_host, r_port, r_path, r_query = registered
    if (scheme, host) != (r_scheme, r_host):
        return False
    default = 443 if scheme == "https" else 80
    if not wildcard and (port or default) != (r_port or default):
        return False
    if r_path in ("", "/") and (wildcard or not r_query):
        return True  # an origin: any path on it
    return path == r_path and query == r_query


@dataclass
class Grant:
    """A user's approval of an app in one account, with the permissions it had then."""

    id: int
    client_id: str
    account_id: int
    user_id: int | None
    permissions: dict[str, str]
    refresh_digest: str
    created_at: float
    revoked: bool = False


@dataclass
class AccessToken:
    digest: str
    grant_id: int
    expires_at: float
    hint: str  # the first characters, for listings and logs; never the whole token


@dataclass
class AuthorizationCode:
    digest: str
    client_id: str
    redirect_uri: str
    account_id: int
    user_id: int | None
    expires_at: float
    used: bool = False
    grant_id: int | None = None


@dataclass
class OAuthConfig:
    token_lifetime: int = 30 * 86400
    code_lifetime: int = 600
    auto_approve: bool = False
    dev_token: str | None = "dev"  # a long-lived token of the default app (None: off)
    extra_apps: list[DeveloperApp] = field(default_factory=list)  # declared in --apps FILE
    redirect_origins: tuple[str, ...] = ()  # more origins every app may redirect to (containers: http://app:3000)


PRINCIPALS_KEPT = 4096


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _data(item: Any) -> dict[str, Any] | None:
    """An app, grant, token or code as JSON-able data (a shallow copy), None when absent."""
    return None if item is None else dict(item.__dict__)


# Store collections (one row per item with --data) and the system row of the rest.
APPS, GRANTS, TOKENS, CODES = "oauth_apps", "oauth_grants", "oauth_tokens", "oauth_codes"
SYSTEM = "oauth"  # the form secret (in a version-1 data file: everything, as one row)


@dataclass
class OAuthServer(Authenticator):
    """Apps, grants, codes and tokens of one mock, and the bearer-token check of the API.

    Every change goes through a method that tells the store which item it touched
    (``touch_item``), inside a store write; ``_apply_*`` load an item back without telling."""

    store: MemoryStore
    clock: Clock
    config: OAuthConfig = field(default_factory=OAuthConfig)
    apps: dict[str, DeveloperApp] = field(default_factory=dict)
    grants: dict[int, Grant] = field(default_factory=dict)
    tokens: dict[str, AccessToken] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    refresh: dict[str, int] = field(default_factory=dict)  # refresh digest -> grant id (derived from the grants)
    form_secret: str = field(default_factory=lambda: secrets.token_hex(32))  # signs approval-form tokens
    restored: bool = False
    # Token -> (stored entry, grant, principal) of tokens recently seen: a request skips the
    # digest and the scope set while the entry is still the stored one (bounded; memory only).
    principals: dict[str, tuple[AccessToken, Grant, Principal]] = field(default_factory=dict, repr=False)
    # Derived indexes: a revocation finds its tokens, a prune its expired items, without a scan.
    grant_tokens: dict[int, set[str]] = field(default_factory=dict, init=False, repr=False)
    token_expiry: list[tuple[float, str]] = field(default_factory=list, init=False, repr=False)  # a heap
    code_expiry: list[tuple[float, str]] = field(default_factory=list, init=False, repr=False)  # a heap
    legacy: bool = field(default=False, init=False, repr=False)  # loaded from a version-1 single row

    def __post_init__(self) -> None:
        # Apps, grants and tokens persist with the records (--data) and are shared by workers.
        # Collections first: a version-1 file's single row (loaded as the system) must win.
        for name, collection in self._collections().items():
            self.store.register_collection(name, collection)
        self.store.register_system(SYSTEM, self._dump_system, self._load_system)
        if self.legacy:
            self._rewrite_legacy_row()
        if not self.restored:
            self.reset()

    def _collections(self) -> dict[str, Collection]:
        # Lambdas, not bound dict methods: they must read the attributes as they are then.
        return {
            APPS: Collection(lambda: self.apps.keys(), lambda key: _data(self.apps.get(key)), self._apply_app),
            GRANTS: Collection(lambda: map(str, self.grants), lambda key: _data(self.grants.get(int(key))), self._apply_grant),
            TOKENS: Collection(lambda: self.tokens.keys(), lambda key: _data(self.tokens.get(key)), self._apply_token),
            CODES: Collection(lambda: self.codes.keys(), lambda key: _data(self.codes.get(key)), self._apply_code),
        }

    def _dump_system(self) -> dict[str, Any]:
        return {"form_secret": self.form_secret}  # shared by workers, so any of them checks a form

    def _load_system(self, data: dict[str, Any]) -> None:
        if "tokens" in data:  # a version-1 data file kept all OAuth state in this one row
            self.load(data)
            self.legacy = True
        else:
            self.form_secret = data.get("form_secret") or self.form_secret
            self.legacy = False  # (another process rewrote the version-1 row)
        self.restored = True

    def _rewrite_legacy_row(self) -> None:
        """Store what a version-1 file's single row held as items, and the row as the new
        system row. After the catch-up inside the write, unless another process did it first."""
        with self.store.write():
            if self.legacy:
                for name in (APPS, GRANTS, TOKENS, CODES):
                    self.store.touch_collection(name)
                self.store.touch_system(SYSTEM)
        self.legacy = False

    def dump(self) -> dict[str, Any]:
        """Everything, as JSON-able data (tokens and codes only as digests)."""
        return {
            "apps": [_data(a) for a in self.apps.values()], "grants": [_data(g) for g in self.grants.values()],
            "tokens": [_data(t) for t in self.tokens.values()], "codes": [_data(c) for c in self.codes.values()],
            "refresh": self.refresh, "form_secret": self.form_secret,
        }

    def load(self, data: dict[str, Any]) -> None:
        """Everything, from :meth:`dump`'s shape (a version-1 data file's row)."""
        self._forget_all()
        for app in data["apps"]:
            self._apply_app(app["client_id"], app)
        for grant in data["grants"]:
            self._apply_grant(str(grant["id"]), grant)
        for token in data["tokens"]:
            self._apply_token(token["digest"], token)
        for code in data["codes"]:
            self._apply_code(code["digest"], code)
        self.form_secret = data.get("form_secret") or self.form_secret
        self.restored = True

    def _forget_all(self) -> None:
        for held in (self.apps, self.grants, self.tokens, self.codes, self.refresh, self.grant_tokens, self.token_expiry, self.code_expiry,
                     self.principals):
            held.clear()

    def reset(self) -> None:
        """Forget grants, codes and tokens; keep only the default app (and the dev token)."""
        with self.store.write():
            self._forget_all()
            for name in (APPS, GRANTS, TOKENS, CODES):
                self.store.touch_collection(name)
            self.store.touch_system(SYSTEM)
            self.register_app(DeveloperApp(
                DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, "clio-mock default app", list(DEFAULT_REDIRECT_URIS),
                {"*": WRITE}, "The app every clio-mock server has out of the box.", "https://github.com/clio-mock",
            ))
            for app in self.config.extra_apps:
                self.register_app(app)
            if self.config.dev_token and self.store.accounts:
                account = next(iter(self.store.accounts.values()))
                users = account.table("User").ids
                self._mint(DEFAULT_CLIENT_ID, account.id, users[0] if users else None, token=self.config.dev_token, lifetime=10 * 365 * 86400)

    # ------------------------------------------------------------------ items, loaded back (no touch)

    def _apply_app(self, key: str, data: dict[str, Any] | None) -> None:
        if data is None:
            self.apps.pop(key, None)
        else:
            self.apps[key] = DeveloperApp(**data)

    def _apply_grant(self, key: str, data: dict[str, Any] | None) -> None:
        old = self.grants.pop(int(key), None)
        if old is not None and self.refresh.get(old.refresh_digest) == old.id:
            del self.refresh[old.refresh_digest]
        if data is not None:
            grant = self.grants[int(key)] = Grant(**data)
            self.refresh[grant.refresh_digest] = grant.id

    def _apply_token(self, key: str, data: dict[str, Any] | None) -> None:
        self._forget_token(key)
        if data is not None:
            self._keep_token(AccessToken(**data))

    def _apply_code(self, key: str, data: dict[str, Any] | None) -> None:
        self.codes.pop(key, None)
        if data is not None:
            self._keep_code(AuthorizationCode(**data))

    def _keep_token(self, token: AccessToken) -> None:
        self.tokens[token.digest] = token
        self.grant_tokens.setdefault(token.grant_id, set()).add(token.digest)
        self._schedule(self.token_expiry, token.expires_at, token.digest, self.tokens, _token_deadline)

    def _forget_token(self, digest: str) -> bool:
        token = self.tokens.pop(digest, None)
        if token is None:
            return False
        held = self.grant_tokens.get(token.grant_id)
        if held is not None:
            held.discard(digest)
            if not held:
                del self.grant_tokens[token.grant_id]
        return True

    def _keep_code(self, code: AuthorizationCode) -> None:
        self.codes[code.digest] = code
        self._schedule(self.code_expiry, _code_deadline(code), code.digest, self.codes, _code_deadline)

    @staticmethod
    def _schedule(heap: list[tuple[float, str]], when: float, digest: str, live: dict[str, Any], deadline: Callable[[Any], float]) -> None:
        """Note when an item may be pruned. Entries of revoked or reloaded items stay behind
        (they are skipped when popped); past twice the live count the heap is rebuilt."""
        heapq.heappush(heap, (when, digest))
        if len(heap) > 2 * len(live) + 64:
            heap[:] = [(deadline(item), d) for d, item in live.items()]
            heapq.heapify(heap)

    # ------------------------------------------------------------------ items, changed (touched)

    def _add_token(self, token: AccessToken) -> None:
        self._keep_token(token)
        self.store.touch_item(TOKENS, token.digest)

    def _drop_token(self, digest: str) -> None:
        if self._forget_token(digest):
            self.store.touch_item(TOKENS, digest)

    def _drop_code(self, digest: str) -> None:
        if self.codes.pop(digest, None) is not None:
            self.store.touch_item(CODES, digest)

    # ------------------------------------------------------------------ apps

    def register_app(self, app: DeveloperApp) -> DeveloperApp:
        with self.store.write():
            app.app_id = app.app_id or len(self.apps) + 1
            self.apps[app.client_id] = app
            self.store.touch_item(APPS, app.client_id)
            return app

    def create_app(self, name: str, redirect_uris: list[str], permissions: dict[str, str], **extra: Any) -> DeveloperApp:
        """A new app with generated, unguessable credentials."""
        return self.register_app(DeveloperApp(secrets.token_urlsafe(18), secrets.token_urlsafe(32), name, redirect_uris, permissions, **extra))

    def app(self, client_id: str | None) -> DeveloperApp | None:
        return self.apps.get(client_id or "")

    def check_client(self, client_id: str | None, client_secret: str | None) -> DeveloperApp:
        app = self.app(client_id)
        expected = app.client_secret if app else "x" * 32  # compare anyway: no timing hint for unknown ids
        if not hmac.compare_digest(expected.encode(), (client_secret or "").encode()) or app is None:
            raise OAuthError("invalid_client", "Client authentication failed (unknown client_id or wrong client_secret).", 401)
        return app

    # ------------------------------------------------------------------ the approval form (CSRF)

    def form_token(self, client_id: str, redirect_uri: str, state: str, now: float | None = None) -> str:
        """A token for one approval page, bound to its authorization request (client, redirect
        URI, state) and time: a cross-site POST cannot know it, so it obtains no code."""
        issued = int(time.time() if now is None else now)
        return f"{issued}.{self._form_mac(issued, client_id, redirect_uri, state)}"

    def check_form_token(self, token: str | None, client_id: str, redirect_uri: str, state: str) -> bool:
        issued, _, mac = (token or "").partition(".")
        if not issued.isascii() or not issued.isdigit() or not mac:
            return False
        if not 0 <= time.time() - int(issued) <= FORM_TOKEN_LIFETIME:
            return False
        return hmac.compare_digest(mac, self._form_mac(int(issued), client_id, redirect_uri, state))

    def _form_mac(self, issued: int, client_id: str, redirect_uri: str, state: str) -> str:
        message = "\x00".join((str(issued), client_id, redirect_uri, state)).encode()
        return hmac.new(self.form_secret.encode(), message, hashlib.sha256).hexdigest()

    # ------------------------------------------------------------------ authorization codes

    def issue_code(self, app: DeveloperApp, redirect_uri: str, account_id: int, user_id: int | None) -> str:
        code = secrets.token_urlsafe(24)
        with self.store.write():
            self._prune()
            self._keep_code(AuthorizationCode(
                _digest(code), app.client_id, redirect_uri, account_id, user_id, self.clock.time() + self.config.code_lifetime
            ))
            self.store.touch_item(CODES, _digest(code))
        return code

    def exchange_code(self, app: DeveloperApp, code: str | None, redirect_uri: str | None) -> dict[str, Any]:
        """``grant_type=authorization_code``: a single-use, unexpired code bound to app and URI."""
        if not code:
            raise OAuthError("invalid_request", "The code parameter is required.")
        with self.store.write():
            entry = self.codes.get(_digest(code))
            replayed = entry is not None and entry.client_id == app.client_id and entry.used
            if replayed and entry.grant_id is not None:  # type: ignore[union-attr]
                # Replay: revoke what the code produced (RFC 6749 4.1.2), committed with this
                # write (the error is raised after it: raising inside would roll it back).
                self._revoke(entry.grant_id)  # type: ignore[union-attr]
        if replayed:
            raise OAuthError("invalid_grant", "The authorization code has already been used.")
        with self.store.write():
            entry = self.codes.get(_digest(code))
            if entry is None or entry.client_id != app.client_id or entry.used:
                raise OAuthError("invalid_grant", "The authorization code is invalid.")
            if entry.expires_at <= self.clock.time():
                raise OAuthError("invalid_grant", "The authorization code has expired.")
            if redirect_uri != entry.redirect_uri:
                raise OAuthError("invalid_grant", "The redirect_uri does not match the one the code was issued for.")
            entry.used = True
            response = self._mint(app.client_id, entry.account_id, entry.user_id)
            entry.grant_id = self.refresh[_digest(response["refresh_token"])]
            self.store.touch_item(CODES, entry.digest)
            return response

    # ------------------------------------------------------------------ tokens

    def issue_token(self, account_id: int, user_id: int | None, client_id: str = DEFAULT_CLIENT_ID) -> dict[str, Any]:
        """A grant and token pair without the browser dance (fixtures, control API)."""
        return self._mint(client_id, account_id, user_id)

    def refresh_token(self, app: DeveloperApp, refresh_token: str | None) -> dict[str, Any]:
        """``grant_type=refresh_token``: a new access token; the refresh token stays valid."""
        if not refresh_token:
            raise OAuthError("invalid_request", "The refresh_token parameter is required.")
        with self.store.write():
            grant = self.grants.get(self.refresh.get(_digest(refresh_token), -1))
            if grant is None or grant.revoked or grant.client_id != app.client_id:
                raise OAuthError("invalid_grant", "The refresh token is invalid or has been revoked.")
            token = self._new_access_token(grant)
            return {"token_type": "bearer", "access_token": token, "expires_in": self.config.token_lifetime}

    def deauthorize(self, token: str | None) -> bool:
        """Revoke the grant behind an access token; False when the token names no live grant."""
        with self.store.write():
            entry = self.tokens.get(_digest(token or ""))
            grant = self.grants.get(entry.grant_id) if entry else None
            if grant is None or grant.revoked:
                return False
            self._revoke(grant.id)
            return True

    def authenticate(self, authorization: str | None, now: float) -> Principal:
        token = bearer_token(authorization)
        if token is None:
            raise ClioError(401, "Unauthorized", "An access token is required: send Authorization: Bearer <token>")
        seen = self.principals.get(token)
        if seen is not None:  # the same token again: still the stored entry and grant, and live?
            entry, grant, principal = seen
            if self.tokens.get(entry.digest) is entry and self.grants.get(grant.id) is grant and self._live(entry, grant, now):
                return principal
            del self.principals[token]
        entry = self.tokens.get(_digest(token))
        grant = self.grants.get(entry.grant_id) if entry else None
        if entry is None or grant is None or not self._live(entry, grant, now):
            raise AuthError()
        scopes = frozenset(f"{area}:{level}" for area, level in grant.permissions.items())
        principal = Principal(grant.account_id, grant.user_id, entry.digest, scopes)
        if len(token) <= 512:  # a real token is 43 characters: a huge one is not worth keeping
            if len(self.principals) >= PRINCIPALS_KEPT:
                self.principals.clear()
            self.principals[token] = (entry, grant, principal)
        return principal

    def _live(self, entry: AccessToken, grant: Grant, now: float) -> bool:
        """Whether a token still acts: unexpired, its grant unrevoked, its firm still there."""
        return not grant.revoked and entry.expires_at > now and grant.account_id in self.store.accounts

    def _mint(self, client_id: str, account_id: int, user_id: int | None, token: str | None = None, lifetime: int | None = None) -> dict[str, Any]:
        app = self.apps[client_id]
        refresh = secrets.token_urlsafe(32)
        with self.store.write():
            # Grants are only ever removed all together (reset), so the count names the next id.
            grant = Grant(len(self.grants) + 1, client_id, account_id, user_id, dict(app.permissions), _digest(refresh), self.clock.time())
            self.grants[grant.id] = grant
            self.refresh[grant.refresh_digest] = grant.id
            self.store.touch_item(GRANTS, str(grant.id))
            access = self._new_access_token(grant, token, lifetime)
        lifetime = lifetime or self.config.token_lifetime
        return {"token_type": "bearer", "access_token": access, "expires_in": lifetime, "refresh_token": refresh}

    def _prune(self) -> None:
        """Forget expired access tokens and codes past their use (inside a write). Codes stay
        a while after expiring, so a late replay still revokes what the code produced. From
        the expiry heaps: the work is what expired, not a scan of everything live."""
        now = self.clock.time()
        self._expire(self.token_expiry, now, self.tokens, _token_deadline, self._drop_token)
        self._expire(self.code_expiry, now, self.codes, _code_deadline, self._drop_code)

    @staticmethod
    def _expire(heap: list[tuple[float, str]], now: float, live: dict[str, Any], deadline: Callable[[Any], float],
                drop: Callable[[str], None]) -> None:
        while heap and heap[0][0] <= now:
            _, digest = heapq.heappop(heap)
            item = live.get(digest)
            if item is not None and deadline(item) <= now:  # (not one re-issued since with a later expiry)
                drop(digest)

    def _new_access_token(self, grant: Grant, token: str | None = None, lifetime: int | None = None) -> str:
        self._prune()
        token = token or secrets.token_urlsafe(32)
        expires = self.clock.time() + (lifetime or self.config.token_lifetime)
        self._add_token(AccessToken(_digest(token), grant.id, expires, token[:6] + "…"))
        return token

    def _revoke(self, grant_id: int) -> None:
        grant = self.grants[grant_id]
        grant.revoked = True
        self.store.touch_item(GRANTS, str(grant_id))
        for digest in list(self.grant_tokens.get(grant_id, ())):
            self._drop_token(digest)

    def listing(self) -> dict[str, Any]:
        """Apps (without secrets), grants and tokens (by hint only), for the control API."""
        # list() first: a catch-up on another thread changes these dicts in place.
        return {
            "apps": [a.public() for a in list(self.apps.values())],
            "grants": [{k: v for k, v in g.__dict__.items() if k != "refresh_digest"} for g in list(self.grants.values())],
            "tokens": [{"hint": t.hint, "grant_id": t.grant_id, "expires_at": t.expires_at} for t in list(self.tokens.values())],
        }


def _token_deadline(token: AccessToken) -> float:
    return token.expires_at


def _code_deadline(code: AuthorizationCode) -> float:
    return code.expires_at + CODE_MEMORY


def check_permission(principal: Principal, op: Operation) -> None:
    """403 ForbiddenError unless the grant gives the operation's area the level it needs.

    Reads need read or write; anything else needs write. An operation listed in several
    areas (Notes: Contacts and Matters) is allowed by any of them. ``who_am_i`` is always
    allowed: every integration asks it who it is.
    """
    if op.action == "who_am_i" or f"*:{WRITE}" in principal.permissions:
        return
    wanted = (READ, WRITE) if op.method == "GET" else (WRITE,)
    if f"*:{READ}" in principal.permissions and op.method == "GET":
        return
    if any(f"{area}:{level}" in principal.permissions for area in op.areas for level in wanted):
        return
    need = "read" if op.method == "GET" else "read-write"
    raise ClioError(403, "ForbiddenError", f"This application needs {need} access to {' or '.join(op.areas) or 'this area'}.")


def load_apps_file(path: str) -> list[DeveloperApp]:
    """Developer apps declared in a YAML (or JSON) file::

        apps:
          - name: Matter Sync
            client_id: matter-sync          # optional: generated when absent
            client_secret: s3cret           # optional: generated when absent
            redirect_uris: ["http://127.0.0.1:*/callback"]
            permissions: {matters: write, contacts: read}
            auto_approve: true              # optional
    """
    import yaml

    from mockserver.engine.errors import ClioError

    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ClioError(400, "InvalidAppsFile", f"{path}: {exc}") from None
    apps = []
    for i, raw in enumerate(doc.get("apps", []) if isinstance(doc, dict) else []):
        where = f"{path}: apps[{i}]"
        if not isinstance(raw, dict) or not raw.get("name") or not isinstance(raw.get("redirect_uris", []), list):
            raise ClioError(400, "InvalidAppsFile", f"{where}: needs a name and a list of redirect_uris")
        perms = raw.get("permissions") or {"*": WRITE}
        if not isinstance(perms, dict) or any(v not in (READ, WRITE) for v in perms.values()):
            raise ClioError(400, "InvalidAppsFile", f"{where}.permissions: each area must be 'read' or 'write'")
        apps.append(DeveloperApp(
            str(raw.get("client_id") or secrets.token_urlsafe(18)), str(raw.get("client_secret") or secrets.token_urlsafe(32)),
            str(raw["name"]), [str(u) for u in raw.get("redirect_uris", [])], {str(k): str(v) for k, v in perms.items()},
            str(raw.get("description", "")), str(raw.get("website", "")), bool(raw.get("auto_approve", False)),
        ))
    return apps
