"""The application factory: spec in, a running Clio mock out.

``create_app`` wires the pieces in the one direction data flows: routing and checks
(:mod:`mockserver.engine.api`) -> the generic engine (:mod:`mockserver.engine.handlers`) -> the store
(:mod:`mockserver.engine.store`) -> the serializer. Everything outside ``/api/v4`` (health,
downloads, later OAuth and the control API) is a small Starlette app beside it.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import time
from dataclasses import replace

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockserver.clio.deletes import Deletes
from mockserver.clio.oauth import (
    OAuthConfig,
    OAuthServer,
    load_apps_file,
)
from mockserver.clio.oauth_http import OAuthRoutes
from mockserver.clio.ratelimit import RateLimiter
from mockserver.clio.rules import DomainRules
from mockserver.clio.uploads import UPLOAD_PATH, DocumentUploads
from mockserver.clio.versions import VersionRules
from mockserver.clio.webhooks import WebhookService, WebhookSettings, activate_operation
from mockserver.config import Settings
from mockserver.control.api import PREFIX as CONTROL_PREFIX
from mockserver.control.api import ControlApi
from mockserver.control.dashboard import Dashboard
from mockserver.control.faults import inject
from mockserver.control.guard import LOOPBACK, check_browser
from mockserver.control.journal import Journal
from mockserver.data.seeding import Seeder
from mockserver.engine.api import API_PREFIX, ApiApp
from mockserver.engine.errors import decimal
from mockserver.engine.handlers import Engine
from mockserver.engine.persistence import SqliteStore
from mockserver.engine.records import Clock, RecordWriter
from mockserver.engine.store import MemoryStore, settle_heap
from mockserver.logs import ACCESS, escape
from mockserver.spec.index import SpecIndex
from mockserver.spec.source import load_index, resolve_location
from mockserver.state import MockState

OAUTH_PREFIX = "/oauth/"  # journaled as source "oauth"


_HEADER_JUNK = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


def safe_header(value: bytes) -> bytes:
    """A header value h11 will send: control characters (CR, LF, NUL...) become spaces.
    A last line of defence: a value built from input must never cost the whole answer."""
    return _HEADER_JUNK.sub(b" ", value) if _HEADER_JUNK.search(value) else value


def safe_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` with every value made safe (one search over all of them in the common case:
    tab, the joint, is a legal header character)."""
    if _HEADER_JUNK.search(b"\t".join([v for _, v in headers])):
        return [(k, safe_header(v)) for k, v in headers]
    return list(headers)


_REQUEST_IDS = itertools.count(1)
_PROCESS_ID = [os.urandom(4).hex()]  # ids from several processes (--workers) never collide


def _new_request_id() -> bytes:
    """A request id unique to this mock (16 hex digits, like the ids clients send): a random
    per-process prefix and a count, without a system call per request."""
    return f"{_PROCESS_ID[0]}{next(_REQUEST_IDS) & 0xFFFFFFFF:08x}".encode()


os.register_at_fork(after_in_child=lambda: _PROCESS_ID.__setitem__(0, os.urandom(4).hex()))  # a forked worker


class Exchange:
    """One HTTP request passing through the mock, with what the mock notes of it: its request
    id (``X-Request-Id``, kept if the client sent one), its answer's status for the access log,
    and, for API and OAuth requests, its journal entry. ``receive`` and ``send`` wrap the server's.

    One object per request rather than a wrapper per concern: this runs on every API call.
    """

    __slots__ = ("scope", "_receive", "_send", "request_id", "started", "status", "journal", "source", "clock",
                 "request_body", "response_body", "response_headers", "journaled")

    def __init__(self, scope: dict, receive, send, journal: Journal | None, source: str, clock: Clock) -> None:
        self.scope, self._receive, self._send = scope, receive, send
        sent_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                sent_id = value
                break
        self.request_id = safe_header(sent_id) if sent_id else _new_request_id()
        self.started, self.status = time.perf_counter(), 0
        self.journal, self.source, self.clock = journal, source, clock
        self.request_body = journal.tap() if journal is not None else None
        self.response_body = journal.tap() if journal is not None else None
        self.response_headers: list[tuple[bytes, bytes]] = []
        self.journaled = journal is None

    async def receive(self) -> dict:
        message = await self._receive()
        if self.request_body is not None:
            self.request_body.add(message.get("body", b""))
        return message

    async def send(self, message: dict) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
            self.response_headers = [*safe_headers(message.get("headers", [])), (b"x-request-id", self.request_id)]
            message = {**message, "headers": self.response_headers}
        elif kind == "http.response.body" and not self.journaled:
            self.response_body.add(message.get("body", b""))  # type: ignore[union-attr]
            if not message.get("more_body"):
                self.note()  # before the last chunk leaves: a client that got the answer finds it journaled
        await self._send(message)

    def note(self) -> None:
        """Journal the request as it was answered so far (status 0: no answer at all)."""
        if self.journaled:
            return
        self.journaled = True
        scope = self.scope
        self.journal.add(self.clock.time(), scope["method"], scope["path"], scope.get("query_string", b""),  # type: ignore[union-attr]
                         scope["headers"], self.request_body, self.status, self.source,  # type: ignore[arg-type]
                         self.response_headers, self.response_body, self.elapsed_ms())

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    def log(self) -> None:
        if ACCESS.isEnabledFor(logging.INFO):
            scope = self.scope
            ms = round(self.elapsed_ms(), 2)
            method, path, rid = escape(scope["method"]), escape(scope["path"]), escape(self.request_id.decode("latin-1"))
            ACCESS.info("%s %s %s %sms id=%s", method, path, self.status, ms, rid,
                        extra={"request_id": rid, "method": method, "path": path, "status": self.status, "duration_ms": ms})


class ClioMock:
    """ASGI entry point: ``/api/v4`` goes straight to the engine, the rest to Starlette.

    Injected faults apply to every path but the control API's; API and OAuth requests are journaled.
    """

    def __init__(self, state: MockState, api: ApiApp, other: Starlette) -> None:
        self.state = state
        self.api = api
        self.other = other

    async def __call__(self, scope: dict, receive, send) -> None:
        if scope["type"] != "http":
            await self.other(scope, receive, send)
            return
        path, state = scope["path"], self.state
        if path.startswith(API_PREFIX + "/"):
            app, source, faulted = self.api, "api", True
        elif path.startswith(CONTROL_PREFIX):
            app, source, faulted = self.other, "", False
        else:
            app, source, faulted = self.other, "oauth" if path.startswith(OAUTH_PREFIX) else "", True
        exchange = Exchange(scope, receive, send, state.journal if source else None, source, state.clock)
        try:
            if not faulted or not await self._fault(scope, exchange):
                await app(scope, exchange.receive, exchange.send)
        finally:
            exchange.note()
            if state.settings.access_log:
                exchange.log()

    async def _fault(self, scope: dict, exchange: Exchange) -> bool:
        """Answer with an injected fault, if one matches; True when it answered."""
        store, faults = self.state.store, self.state.faults
        store.refresh()  # faults another worker added (--workers N share them through --data)
        if not faults.active:
            return False
        with store.write():  # a count is one budget across workers: pick and count under the lock
            fault = faults.pick(scope["method"], scope["path"])
            if fault is not None and fault.count is not None:
                self.state.controls_changed("faults")
        return fault is not None and await inject(fault, exchange.send)


def dev_token(settings: Settings) -> str | None:
    """The long-lived ``dev`` token, unless the mock listens beyond loopback (anyone who can
    reach it would have the firm): there only with ``dev_token_public``."""
    if settings.host in LOOPBACK or settings.dev_token_public:
        return settings.dev_token
    return None


def build_state(settings: Settings, index: SpecIndex | None = None) -> MockState:
    """Load the spec (unless given) and seed the store."""
    if index is None:
        index = load_index(resolve_location(settings.spec), use_cache=settings.index_cache)
    activate = activate_operation(index)
    if activate is not None:  # documented by Clio, missing from its spec
        index = replace(index, operations=[*index.operations, activate])
    store = SqliteStore(settings.data) if settings.data else MemoryStore()
    shared = bool(settings.data) and settings.workers > 1  # workers count requests in the file
    clock = Clock()
    writer = RecordWriter(index, clock)
    rules = DomainRules.for_index(index)
    rules.install(writer)  # Clio's domain rules, before any other model rule
    engine = Engine(index, store, writer)
    DocumentUploads(engine).install()
    Deletes(engine).install()  # bills void, documents go to the trash (BEHAVIOR.md 12.3)
    VersionRules(engine).install()  # what X-API-VERSION changes (mockserver/clio/versions.py)
    webhooks = WebhookService(index, store, engine, clock, WebhookSettings(settings.webhook_allow_http, settings.webhook_time_scale,
                                                                                    allow_hosts=list(settings.webhook_allow_host)))
    apps = load_apps_file(settings.apps) if settings.apps else []
    oauth = OAuthServer(store, clock, OAuthConfig(settings.token_lifetime, settings.code_lifetime, settings.auto_approve, dev_token(settings), apps,
                                                  tuple(settings.oauth_redirect_origin)))
    state = MockState(
        settings, index, store, clock, engine, Seeder(index, clock, engine.view_models, engine.singletons, engine.mirrors, rules),
        oauth, RateLimiter(settings.rate_limit, settings.rate_window, clock.time, shared=store if shared else None), webhooks,
        journal=Journal(settings.journal_entries, settings.journal_body_bytes, settings.journal_bytes),
    )
    with store.write():  # with --data, the first process seeds; the rest load what it wrote
        seeded = not store.has_data()
        if seeded:
            state.reset()
    if not seeded:
        settle_heap()  # firms loaded from the data file are as long-lived as seeded ones
    return state


def create_app(settings: Settings | None = None, index: SpecIndex | None = None) -> ClioMock:
    """A ready ASGI app serving Clio's API from the spec in ``settings``."""
    state = build_state(settings or Settings(), index)
    api = ApiApp(state.index, state.engine, state.oauth, state.clock.time, [state.api_checks], public_url=state.settings.public_url)
    return ClioMock(state, api, _service_routes(state))


def _service_routes(state: MockState) -> Starlette:
    uploads = DocumentUploads(state.engine)
    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "spec": state.index.title, "operations": len(state.index.operations)})

    async def file_content(request: Request) -> Response:
        """The target of download redirects: stands in for Clio's pre-signed storage URL."""
        model, record = request.path_params["model"], request.path_params["record"]
        account = state.store.account(request.path_params["account"])
        version = request.query_params.get("document_version_id", "")
        uploaded = uploads.download(account, model, decimal(record), decimal(version)) if account and decimal(record) is not None else None
        if uploaded is not None:  # what was PUT to the document's upload URL, byte for byte
            body, media_type, filename = uploaded
            return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{_header_safe(filename)}"'})
        body = f"clio-mock file content for {model} {record}\n".encode()
        name = _header_safe(f"{model.lower()}-{record}"[:120] + ".txt")
        return Response(body, media_type="application/octet-stream", headers={"Content-Disposition": f'attachment; filename="{name}"'})

    async def not_found(request: Request, exc: Exception) -> Response:
        code = getattr(exc, "status_code", 404)
        return JSONResponse({"error": {"type": "RecordNotFound" if code == 404 else "HttpError", "message": f"No route matches {request.url.path}"}}, status_code=code)

    async def ready(request: Request) -> Response:
        """Readiness: the spec is indexed and the firms are loaded (the app exists only then)."""
        return JSONResponse({"ready": True, "operations": len(state.index.operations), "accounts": len(state.store.accounts),
                             "store": "sqlite" if state.settings.data else "memory"})

    routes = [
        *OAuthRoutes(state.oauth, state.store, guard=lambda request: check_browser(state.settings, request)).routes(),
        *ControlApi(state).routes(),
        *Dashboard(state).routes(),
        Route("/__mock__/health", health),
        Route("/__mock__/ready", ready),
        Route("/__mock__/files/{account:int}/{model}/{record}", file_content),
        Route(UPLOAD_PATH + "/{uuid}", uploads.put, methods=["PUT"]),
    ]
    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})


def _header_safe(name: str) -> str:
    """A file name fit for a Content-Disposition header: no quotes, backslashes, control
    characters (CR/LF would split the header) or non-latin-1."""
    return "".join(c for c in name if c not in '"\\' and 0x20 <= ord(c) < 256 and ord(c) != 0x7F) or "download"
