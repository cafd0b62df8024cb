"""The application factory: spec in, a running Clio mock out.

``create_app`` wires the pieces in the one direction data flows: routing and checks
(:mod:`mockserver.engine.api`) -> the generic engine (:mod:`mockserver.engine.handlers`) -> the store
(:mod:`mockserver.engine.store`) -> the serializer. Everything outside ``/api/v4`` (health,
downloads, later OAuth and the control API) is a small Starlette app beside it.
"""

from __future__ import annotations

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
from mockserver.exchange import Exchange
from mockserver.spec.index import SpecIndex
from mockserver.spec.source import load_index, resolve_location
from mockserver.state import MockState

OAUTH_PREFIX = "/oauth/"  # journaled as source "oauth"


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
