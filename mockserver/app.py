"""The application factory: spec in, a running Clio mock out.

``create_app`` wires the pieces in the one direction data flows: routing and checks
(:mod:`mockserver.engine.api`) -> the generic engine (:mod:`mockserver.engine.handlers`) -> the store
(:mod:`mockserver.engine.store`) -> the serializer. Everything outside ``/api/v4`` (health,
downloads, later OAuth and the control API) is a small Starlette app beside it.
"""

from __future__ import annotations

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
from mockserver.engine.store import MemoryStore
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
        await self._logged(scope, receive, send)

    async def _logged(self, scope: dict, receive, send) -> None:
        """Give the request an id (``X-Request-Id``, kept if the client sent one) and log it."""
        request_id = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), None) or os.urandom(8).hex()
        started, status = time.perf_counter(), 0
        scope["clio_mock.request_id"] = request_id  # the journal shows it with the answer's headers

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, safe_header(v)) for k, v in message.get("headers", [])]
                message = {**message, "headers": [*headers, (b"x-request-id", safe_header(request_id.encode("latin-1")))]}
            await send(message)

        try:
            await self._route(scope, receive, send_with_id)
        finally:
            if self.state.settings.access_log and ACCESS.isEnabledFor(logging.INFO):
                ms = round((time.perf_counter() - started) * 1000, 2)
                path, rid = escape(scope["path"]), escape(request_id)
                ACCESS.info("%s %s %s %sms id=%s", escape(scope["method"]), path, status, ms, rid,
                            extra={"request_id": rid, "method": escape(scope["method"]), "path": path, "status": status, "duration_ms": ms})

    async def _route(self, scope: dict, receive, send) -> None:
        path = scope["path"]
        if path.startswith(CONTROL_PREFIX):
            await self.other(scope, receive, send)
            return
        if path.startswith(API_PREFIX + "/"):
            await self._journaled(self.api, "api", scope, receive, send)
        elif path.startswith(OAUTH_PREFIX):
            await self._journaled(self.other, "oauth", scope, receive, send)
        else:
            await self._faulted(self.other, scope, receive, send)

    async def _faulted(self, app, scope: dict, receive, send) -> None:
        """Serve with ``app`` unless an injected fault answers first."""
        store, faults = self.state.store, self.state.faults
        store.refresh()  # faults another worker added (--workers N share them through --data)
        fault = None
        if faults.active:
            with store.write():  # a count is one budget across workers: pick and count under the lock
                fault = faults.pick(scope["method"], scope["path"])
                if fault is not None and fault.count is not None:
                    self.state.controls_changed("faults")
        if fault is None or not await inject(fault, send):
            await app(scope, receive, send)

    async def _journaled(self, app, source: str, scope: dict, receive, send) -> None:
        """Serve a request (faults included), noting what it asked and how it was answered."""
        journal = self.state.journal
        request_body, response_body = journal.tap(), journal.tap()
        started = time.perf_counter()
        entry = None

        def begin(status: int, headers) -> None:
            nonlocal entry
            if entry is None:  # before the answer leaves, so a client that got it finds it journaled
                entry = journal.begin(self.state.clock.time(), scope["method"], scope["path"], scope.get("query_string", b""),
                                      scope["headers"], request_body, status, source)
                if headers is not None:
                    request_id = scope.get("clio_mock.request_id")
                    journal.answered(entry, [*headers, (b"x-request-id", request_id.encode("latin-1"))] if request_id else headers)

        async def tap_receive():
            message = await receive()
            request_body.add(message.get("body", b""))
            return message

        async def tap_send(message):
            if message["type"] == "http.response.start":
                begin(message["status"], message.get("headers", []))
            elif message["type"] == "http.response.body":
                response_body.add(message.get("body", b""))
                if not message.get("more_body") and entry is not None:
                    journal.finish(entry, response_body, (time.perf_counter() - started) * 1000)
            await send(message)

        try:
            await self._faulted(app, scope, tap_receive, tap_send)
        finally:
            begin(0, None)  # no answer at all
            if entry is not None and not entry.duration_ms:
                journal.finish(entry, response_body, (time.perf_counter() - started) * 1000)


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
        if not store.has_data():
            state.reset()
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
