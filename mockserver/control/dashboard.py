"""The dashboard at ``/__mock__/ui``: a page for a person developing an integration.

Panels: the firms and their records per model (paged, searchable, each record as the API's
JSON with all fields and associations), the request journal (live), webhook subscriptions
and every delivery attempt, faults and the clock, OAuth apps, grants and tokens, and reset /
reseed. Pages are rendered on the server with Jinja2 (:mod:`.templating`); a small script
(``static/app.js``, no build step, nothing from a CDN) refreshes the journal and sends the
buttons' writes to the control API with ``fetch()`` as JSON, same origin.

Guarded like the control API (:mod:`.guard`): a rebinding ``Host`` or a foreign ``Origin`` is
refused; open on loopback; otherwise the admin token is needed, given
once (the login form or ``?token=``) and then kept in an HttpOnly, SameSite=Strict cookie that
the control API accepts too (:func:`mockserver.control.api.admin_allowed`). Every response
carries a strict Content-Security-Policy (scripts and styles from the mock only).

Every list is bounded: records, journal entries and deliveries come a page at a time and
bodies are cut at :data:`mockserver.control.templating.MAX_TEXT` characters.
"""

from __future__ import annotations

import fnmatch
import hmac
from itertools import islice
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from mockserver.control.api import (
    DASHBOARD_COOKIE,
    LOOPBACK,
    PREFIX,
    admin_allowed,
    dashboard_cookie_value,
)
from mockserver.control.faults import FAULT_KINDS
from mockserver.control.guard import check_browser
from mockserver.control.templating import STATIC, environment
from mockserver.engine.errors import decimal

if TYPE_CHECKING:
    from mockserver.engine.store import Account, Record
    from mockserver.state import MockState

UI = PREFIX + "/ui"
COOKIE = DASHBOARD_COOKIE
PAGE_SIZE = 50  # rows per page of records, journal entries and deliveries
MAX_SCAN = 200_000  # records a search looks through at most, so one query stays bounded
MAX_LINKS = 50  # association links listed per field of a record
# What a search looks in (those the model has; else all its text fields) and what a list shows.
LABEL_FIELDS = ("display_number", "name", "first_name", "last_name", "subject", "summary", "title", "description", "note", "email", "address")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # not no-referrer: with it a form POST carries Origin: null
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class Dashboard:
    """The dashboard's Starlette routes over a :class:`mockserver.state.MockState`."""

    def __init__(self, state: MockState) -> None:
        self.state = state
        self.templates = Jinja2Templates(env=environment())

    def routes(self) -> list[BaseRoute]:
        pages = [
            ("", self.overview),
            ("/firms/{account:int}", self.firm),
            ("/firms/{account:int}/{model}", self.records),
            ("/firms/{account:int}/{model}/{record}", self.record),
            ("/journal", self.journal),
            ("/journal/rows", self.journal_rows),
            ("/webhooks", self.webhooks),
            ("/faults", self.faults),
            ("/oauth", self.oauth),
        ]
        return [
            Route("/", self.home, methods=["GET"]),
            Route(UI + "/login", self.login, methods=["GET", "POST"]),
            Route(UI + "/logout", self.logout, methods=["POST"]),
            *(Route(UI + path, self._guarded(endpoint), methods=["GET"]) for path, endpoint in pages),
            Route(UI + "/", lambda request: RedirectResponse(UI, 307)),
            Mount(UI + "/static", app=StaticFiles(directory=str(STATIC)), name="dashboard-static"),
        ]

    # ------------------------------------------------------------------ guard and rendering

    def _guarded(self, endpoint):
        async def guarded(request: Request) -> Response:
            settings = self.state.settings
            refused = check_browser(settings, request)  # a rebinding Host or a foreign Origin: 403
            if refused is not None:
                return refused
            given = request.query_params.get("token")
            if given is not None and settings.admin_token and hmac.compare_digest(given.encode(), settings.admin_token.encode()):
                # Trade the token in the address for a cookie, and drop it from the address bar.
                query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
                return self._signed_in(request, request.url.path + (f"?{query}" if query else ""))
            if not admin_allowed(request, settings):
                return self._login_page(request, request.url.path + (f"?{request.url.query}" if request.url.query else ""), None, 401)
            return await endpoint(request)

        return guarded

    def render(self, request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
        """A page of the dashboard, with the security headers every page carries."""
        base = {
            "ui": UI, "prefix": PREFIX, "clock": self._clock(), "tz": self.state.clock.tz, "signed_in": self.state.settings.host not in LOOPBACK,
            "accounts": len(self.state.store.accounts),
        }
        return self.templates.TemplateResponse(request, template, {**base, **context}, status_code=status, headers=SECURITY_HEADERS)

    def _clock(self) -> dict[str, Any]:
        clock = self.state.clock
        return {"now": clock.now().isoformat(timespec="seconds"), "frozen": clock.frozen is not None,
                "shifted": clock.frozen is None and bool(clock.offset.total_seconds())}

    # ------------------------------------------------------------------ login

    def _login_page(self, request: Request, next_url: str, error: str | None, status: int) -> Response:
        return self.render(request, "login.html", {"next": _safe_next(next_url), "error": error, "title": "Sign in"}, status)

    def _signed_in(self, request: Request, next_url: str) -> Response:
        response = RedirectResponse(_safe_next(next_url), 303, headers={"Cache-Control": "no-store"})
        response.set_cookie(COOKIE, dashboard_cookie_value(self.state.settings.admin_token or ""), path=PREFIX, httponly=True,
                            samesite="strict", secure=request.url.scheme == "https")
        return response

    async def login(self, request: Request) -> Response:
        """The admin token, given once in a form (or ``?token=``), becomes a session cookie."""
        settings = self.state.settings
        refused = check_browser(settings, request)
        if refused is not None:
            return refused
        if request.method == "GET":
            if admin_allowed(request, settings):
                return RedirectResponse(_safe_next(request.query_params.get("next", UI)), 303)
            return self._login_page(request, request.query_params.get("next", UI), None, 200)
        form = await request.form()
        given, next_url = str(form.get("token") or ""), str(form.get("next") or UI)
        if settings.admin_token and hmac.compare_digest(given.encode(), settings.admin_token.encode()):
            return self._signed_in(request, next_url)
        return self._login_page(request, next_url, "That is not the admin token.", 401)

    async def logout(self, request: Request) -> Response:
        response = RedirectResponse(UI + "/login", 303)
        response.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="strict")
        return response

    async def home(self, request: Request) -> Response:
        """``/``: what this server is, and where the dashboard and the API are (no data: unguarded)."""
        return self.render(request, "home.html", {"title": "clio-mock", "nav": "", "spec": self.state.index.title})

    # ------------------------------------------------------------------ firms and records

    async def overview(self, request: Request) -> Response:
        state = self.state
        firms = [{"id": a.id, "name": a.name, "records": a.count(), "users": len(a.tables.get("User") or ())} for a in state.store.accounts.values()]
        settings = state.settings
        return self.render(request, "overview.html", {
            "title": "Overview", "nav": "overview", "firms": firms,
            "journal_size": len(state.journal.find()), "faults": len(state.faults.active),
            "deliveries": len(state.webhooks.history), "tokens": len(state.oauth.tokens),
            "settings": {"seed": settings.seed, "scale": settings.scale, "accounts": settings.accounts},
            "spec": state.index.title, "operations": len(state.index.operations),
        })

    def _account(self, request: Request) -> Account | None:
        return self.state.store.account(request.path_params["account"])

    def _not_found(self, request: Request, message: str) -> Response:
        return self.render(request, "not_found.html", {"title": "Not found", "nav": "overview", "message": message}, 404)

    async def firm(self, request: Request) -> Response:
        account = self._account(request)
        if account is None:
            return self._not_found(request, f"No firm {request.path_params['account']}")
        models = sorted((name, len(table)) for name, table in account.tables.items() if len(table))
        users = [{"id": u["id"], "name": u.get("name"), "email": u.get("email")} for u in islice(account.tables.get("User") or (), PAGE_SIZE)]
        return self.render(request, "firm.html", {"title": account.name, "nav": "overview", "firm": account, "models": models, "users": users})

    async def records(self, request: Request) -> Response:
        account = self._account(request)
        model_name = request.path_params["model"]
        model = self.state.index.models.get(model_name)
        if account is None or model is None:
            return self._not_found(request, f"No firm {request.path_params['account']} or no model {model_name}")
        table = account.tables.get(model_name)
        q = request.query_params.get("q", "").strip()
        page = _positive(request.query_params.get("page"), 1)
        offset = (page - 1) * PAGE_SIZE
        oldest_first = request.query_params.get("order") == "asc"
        rows: list[Record]
        scanned = 0
        searched = [f for f in LABEL_FIELDS if f in model.fields] or [f for f, schema in model.fields.items() if schema.get("type") == "string"]
        total: int | None
        if table is None:
            rows, more, total = [], False, 0
        elif not q:
            # Positions, not a scan: cheap on any table size. Newest first unless ?order=asc.
            count = len(table.ids)
            if oldest_first:
                ids = table.ids[offset:offset + PAGE_SIZE]
            else:
                ids = table.ids[max(0, count - offset - PAGE_SIZE):max(0, count - offset)][::-1]
            rows = [r for i in ids if (r := table.get(i)) is not None]
            more, total = offset + PAGE_SIZE < count, len(table)
        else:
            # Off the event loop: a search of a large firm is a scan, and the API keeps serving meanwhile.
            rows, more, scanned = await run_in_threadpool(_search, table.scan(reverse=not oldest_first), searched, q, offset, PAGE_SIZE)
            total = None
        labels = [f for f in LABEL_FIELDS if f in model.fields and f not in ("first_name", "last_name")][:2]
        extra = [f for f in ("status", "type", "state") if f in model.fields and f not in labels][:1]
        columns = ["id", *labels, *extra, *(["updated_at"] if "updated_at" in model.fields else [])]
        return self.render(request, "records.html", {
            "title": f"{model_name} · {account.name}", "nav": "overview", "firm": account, "model": model_name, "q": q,
            "page": page, "more": more, "total": total, "columns": columns, "scanned": scanned, "max_scan": MAX_SCAN, "searched": searched, "order": "asc" if oldest_first else "",
            "pages": (total + PAGE_SIZE - 1) // PAGE_SIZE if total else None, "page_size": PAGE_SIZE,
            "rows": [{c: _cell(r.get(c)) for c in columns} for r in rows],
        })

    async def record(self, request: Request) -> Response:
        account = self._account(request)
        model_name = request.path_params["model"]
        model = self.state.index.models.get(model_name)
        table = account.tables.get(model_name) if account is not None and model is not None else None
        raw_id = request.path_params["record"]
        record = table.get(decimal(raw_id)) if table is not None and decimal(raw_id) is not None else None
        if account is None or record is None:
            return self._not_found(request, f"No {model_name} {raw_id} in firm {request.path_params['account']}")
        serializer = self.state.engine.serializer
        fields = self.record_fields(model_name)
        rendered = serializer.render(account, record, serializer.plan(model_name, fields))
        links = []
        for name, assoc in model.associations.items():  # type: ignore[union-attr]
            value = record.get(name)
            if not assoc.stored or value in (None, []):
                continue
            ids = value if isinstance(value, list) else [value]
            target = account.tables.get(assoc.target)
            shown = [i for i in ids[:MAX_LINKS] if target is not None and target.get(i) is not None]
            links.append({"name": name, "target": assoc.target, "ids": shown, "more": max(0, len(ids) - MAX_LINKS)})
        show = next((op for op in self.state.index.operations if op.model == model_name and op.action == "show" and "{id}" in op.path), None)
        return self.render(request, "record.html", {
            "title": f"{model_name} {raw_id} · {account.name}", "nav": "overview", "firm": account, "model": model_name,
            "record_id": raw_id, "document": {"data": rendered}, "links": links,
            "api_path": show.path.replace("{id}", raw_id) if show else None, "fields": fields,
        })

    def record_fields(self, model_name: str) -> str:
        """A ``fields`` value asking for every field, and every field of each association (one
        level, as Clio allows): what the record page shows, as the API would answer it."""
        models = self.state.index.models
        model = models[model_name]
        parts = list(model.fields)
        for name, assoc in model.associations.items():
            target = models.get(assoc.target) or models.get(assoc.schema_name)
            parts.append(f"{name}{{{','.join(target.fields)}}}" if target is not None and target.fields else name)
        return ",".join(parts)

    # ------------------------------------------------------------------ journal

    def _journal_entries(self, request: Request, since: int = 0) -> tuple[list[dict[str, Any]], bool]:
        """Matching entries, newest first, a page at a time (``before=`` for older ones)."""
        q = request.query_params
        path, status, method = q.get("path", "").strip(), q.get("status", "").strip(), q.get("method", "").strip().upper()
        before = _positive(q.get("before"), 0)
        entries = self.state.journal.find()  # a copy, oldest first
        out: list[dict[str, Any]] = []
        for entry in reversed(entries):
            e = journal_entry(entry.as_dict())
            if e["id"] <= since:
                break
            if before and e["id"] >= before:
                continue
            if method and e["method"] != method:
                continue
            if path and not _path_matches(e["path"], path):
                continue
            if status and not _status_matches(e["status"], status):
                continue
            out.append(e)
            if len(out) > PAGE_SIZE:
                break
        return out[:PAGE_SIZE], len(out) > PAGE_SIZE

    async def journal(self, request: Request) -> Response:
        entries, more = self._journal_entries(request)
        q = request.query_params
        filters = {"path": q.get("path", ""), "status": q.get("status", ""), "method": q.get("method", "")}
        older = urlencode({**{k: v for k, v in filters.items() if v}, "before": entries[-1]["id"]}) if more and entries else None
        return self.render(request, "journal.html", {
            "title": "Journal", "nav": "journal", "entries": entries, "filters": filters, "older": older,
            "live": not q.get("before"), "size": len(self.state.journal.find()),
            "rows_query": urlencode({k: v for k, v in filters.items() if v}),
        })

    async def journal_rows(self, request: Request) -> Response:
        """The entries after ``since``, as HTML the page's script puts on top (live refresh)."""
        entries, _ = self._journal_entries(request, since=_positive(request.query_params.get("since"), 0))
        return self.render(request, "journal_rows.html", {"entries": entries})

    # ------------------------------------------------------------------ webhooks

    async def webhooks(self, request: Request) -> Response:
        hooks = []
        for account in self.state.store.accounts.values():
            table = account.tables.get("Webhook")
            for hook in islice(table.scan(reverse=True), PAGE_SIZE) if table is not None else []:
                hooks.append({"firm": account, **{k: hook.get(k) for k in ("id", "url", "model", "events", "fields", "status", "expires_at", "created_at")},
                              "secret": hook.get("shared_secret")})
        wanted = request.query_params.get("webhook_id", "").strip()
        page = _positive(request.query_params.get("page"), 1)
        history = [d for d in reversed(list(self.state.webhooks.history)) if not wanted or str(d.get("webhook_id")) == wanted]
        offset = (page - 1) * PAGE_SIZE
        return self.render(request, "webhooks.html", {
            "title": "Webhooks", "nav": "webhooks", "hooks": hooks, "deliveries": history[offset:offset + PAGE_SIZE],
            "page": page, "more": len(history) > offset + PAGE_SIZE, "total": len(history), "webhook_id": wanted,
        })

    # ------------------------------------------------------------------ faults and clock, OAuth

    async def faults(self, request: Request) -> Response:
        faults = [f.as_dict() for f in list(self.state.faults.active)]
        return self.render(request, "faults.html", {"title": "Faults and clock", "nav": "faults", "faults": faults, "kinds": FAULT_KINDS})

    async def oauth(self, request: Request) -> Response:
        listing = self.state.oauth.listing()  # apps without secrets, tokens by hint only
        return self.render(request, "oauth.html", {
            "title": "OAuth", "nav": "oauth", "apps": listing["apps"], "grants": listing["grants"][-PAGE_SIZE * 4:][::-1],
            "tokens": listing["tokens"][-PAGE_SIZE * 4:][::-1], "token_count": len(listing["tokens"]),
            "grant_count": len(listing["grants"]),
        })


# ---------------------------------------------------------------------------- helpers


def journal_entry(raw: dict[str, Any]) -> dict[str, Any]:
    """One journal entry with every key the pages use, whichever journal version wrote it
    (the response status, headers and body and the duration came later than the rest)."""
    status = raw.get("response_status", raw.get("status"))
    return {
        "id": int(raw.get("id") or 0), "time": raw.get("time"), "method": str(raw.get("method") or ""),
        "path": str(raw.get("path") or ""), "query": unquote_plus(str(raw.get("query") or "")), "status": status,
        "duration_ms": raw.get("duration_ms"), "source": raw.get("source") or "api", "token_hint": raw.get("token_hint"),
        "request_headers": raw.get("request_headers") or {}, "request_body": raw.get("body"),
        "response_headers": raw.get("response_headers") or {}, "response_body": raw.get("response_body"),
    }


def _search(records, fields: list[str], q: str, offset: int, size: int) -> tuple[list[Record], bool, int]:
    """Records whose id equals ``q`` or whose ``fields`` contain it (case-insensitive)."""
    needle = q.lower()
    wanted_id = decimal(q)
    found: list[Record] = []
    scanned = 0
    for record in records:
        scanned += 1
        if scanned > MAX_SCAN:
            break
        get = record.get
        # One joined, lower-cased string per record: a few calls instead of a few per field.
        text = "\x00".join([v for v in map(get, fields) if isinstance(v, str)]).lower()
        if needle in text or (wanted_id is not None and get("id") == wanted_id):
            found.append(record)
            if len(found) > offset + size:
                break
    return found[offset:offset + size], len(found) > offset + size, scanned


def _path_matches(path: str, wanted: str) -> bool:
    """A glob (``/api/v4/matters*``) when it has a wildcard, else a substring."""
    if any(ch in wanted for ch in "*?["):
        return fnmatch.fnmatchcase(path, wanted)
    return wanted in path


def _status_matches(status: Any, wanted: str) -> bool:
    """``404``, ``4xx`` or ``error`` (400 and above, and no answer at all)."""
    try:
        code = int(status)
    except (TypeError, ValueError):
        code = 0
    wanted = wanted.lower()
    if wanted == "error":
        return code >= 400 or code == 0
    if len(wanted) == 3 and wanted.endswith("xx") and (wanted[0].isascii() and wanted[0].isdigit()):
        return code // 100 == int(wanted[0])
    return decimal(wanted) == code


def _positive(value: str | None, default: int) -> int:
    try:
        number = int(value) if value else default
    except ValueError:
        return default
    return max(number, 1 if default else 0)


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 80 else text[:79] + "…"


def _safe_next(url: str) -> str:
    """Only the dashboard's own pages: never an open redirect."""
    return url if url.startswith(UI) and not url.startswith("//") and "\\" not in url else UI
