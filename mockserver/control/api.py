"""The control API under ``/__mock__/``: what tests and operators use to drive the mock.

``reset`` / ``reseed``, firms (accounts), apps and tokens, scenarios, the request journal,
fault injection and the clock. Bound to loopback it is open; when the server listens on
another address, every call needs the admin token (``Authorization: Bearer <admin token>``).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockserver.clio.oauth import DeveloperApp
from mockserver.config import check_records
from mockserver.control.faults import Fault
from mockserver.control.guard import (  # noqa: F401 (allowed_hosts, DASHBOARD_COOKIE...: the shared interface)
    DASHBOARD_COOKIE,
    LOOPBACK,
    admin_allowed,
    allowed_hosts,
    check_browser,
    dashboard_cookie_value,
    fixture_path,
)
from mockserver.data.seeding import SeedPlan
from mockserver.engine.bodies import read_limited
from mockserver.engine.errors import ClioError

if TYPE_CHECKING:
    from mockserver.state import MockState

PREFIX = "/__mock__"
MAX_FAULT_PATTERN = 1000  # characters of a fault's path glob (fnmatch compiles it to a regex)
MAX_CONTROL_BODY = 1024 * 1024  # a control call is a small JSON object (a scenario document at most)
# The clock stays where dates print and parse (an 8,000-year advance broke every API call).
CLOCK_MIN, CLOCK_MAX = datetime(1970, 1, 2, tzinfo=timezone.utc), datetime(9000, 1, 1, tzinfo=timezone.utc)


def _error(status: int, type_: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"type": type_, "message": message}}, status)


async def _json(request: Request) -> dict[str, Any]:
    raw = await read_limited(request.stream(), MAX_CONTROL_BODY)
    if raw is None:
        raise ClioError(413, "PayloadTooLarge", f"Control API bodies are limited to {MAX_CONTROL_BODY} bytes")
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ClioError(400, "InvalidJSON", "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ClioError(400, "InvalidJSON", "The request body must be a JSON object")
    return body


class ControlApi:
    """Starlette endpoints over a :class:`mockserver.app.MockState`."""

    def __init__(self, state: MockState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        r = [
            ("/reset", self.reset, ["POST"]),
            ("/reseed", self.reseed, ["POST"]),
            ("/accounts", self.accounts, ["GET", "POST"]),
            ("/accounts/{account_id:int}", self.account, ["DELETE"]),
            ("/apps", self.apps, ["GET", "POST"]),
            ("/tokens", self.tokens, ["GET", "POST"]),
            ("/scenarios", self.scenarios, ["POST"]),
            ("/journal", self.journal, ["GET", "DELETE"]),
            ("/faults", self.faults, ["GET", "POST", "DELETE"]),
            ("/faults/{fault_id:int}", self.fault, ["DELETE"]),
            ("/clock", self.clock, ["GET", "POST"]),
            ("/webhooks/deliveries", self.deliveries, ["GET"]),
        ]
        return [Route(PREFIX + path, self._guarded(endpoint), methods=methods) for path, endpoint, methods in r]

    def _guarded(self, endpoint):
        """Admin token check (off on loopback) and Clio-shaped errors for every endpoint."""

        async def guarded(request: Request) -> Response:
            settings = self.state.settings
            if not admin_allowed(request, settings):
                return _error(401, "Unauthorized", "The control API needs the admin token when the mock is not bound to loopback")
            refused = check_browser(settings, request, require_json=True, authenticated=settings.host not in LOOPBACK)
            if refused is not None:
                return refused
            try:
                return await endpoint(request)
            except ClioError as exc:
                return Response(exc.body(), exc.status, media_type="application/json")
            except PermissionError as exc:
                return _error(403, "Forbidden", str(exc))
            except (ValueError, TypeError, KeyError, OverflowError) as exc:
                return _error(400, "InvalidParameter", str(exc))

        return guarded

    # ------------------------------------------------------------------ state

    async def reset(self, request: Request) -> Response:
        # Seeding (100k matters: seconds) runs on a worker thread, building the new firms aside:
        # meanwhile other requests are served from the old firms; the swap itself is short.
        await run_in_threadpool(self.state.reset)
        return JSONResponse({"reset": True, "accounts": len(self.state.store.accounts)})

    async def reseed(self, request: Request) -> Response:
        body = await _json(request)
        settings = self.state.settings
        settings.seed = int(body.get("seed", settings.seed))
        settings.scale = float(body.get("scale", settings.scale))
        records = {str(k): int(v) for k, v in (body.get("records") or body.get("counts") or settings.records).items()}
        check_records(records, self.state.index.models, "records")
        settings.records = records
        settings.accounts = int(body.get("accounts", settings.accounts))
        return await self.reset(request)

    async def accounts(self, request: Request) -> Response:
        store = self.state.store
        if request.method == "POST":
            body = await _json(request)
            records = {str(k): int(v) for k, v in (body.get("records") or body.get("counts") or {}).items()}
            check_records(records, self.state.index.models, "records")
            plan = SeedPlan(int(body.get("seed", self.state.settings.seed)), float(body.get("scale", 1.0)), records)
            account = await run_in_threadpool(self.state.add_firm, str(body.get("name") or f"Firm {len(store.accounts) + 1}"), plan)
            return JSONResponse(self._account(account.id), 201)
        return JSONResponse({"data": [self._account(a) for a in store.accounts]})

    def _account(self, account_id: int) -> dict[str, Any]:
        account = self.state.store.accounts[account_id]
        return {
            "id": account.id, "name": account.name, "records": account.count(),
            "users": [{"id": u["id"], "name": u.get("name"), "email": u.get("email")} for u in account.table("User")],
        }

    async def account(self, request: Request) -> Response:
        self.state.store.remove_account(request.path_params["account_id"])
        return Response(status_code=204)

    async def apps(self, request: Request) -> Response:
        oauth = self.state.oauth
        if request.method == "POST":
            body = await _json(request)
            if not body.get("name"):
                raise ValueError("name is required")
            extra = {k: body[k] for k in ("description", "website", "auto_approve") if k in body}
            if body.get("client_id"):
                app = oauth.register_app(DeveloperApp(
                    str(body["client_id"]), str(body.get("client_secret") or ""), str(body["name"]),
                    list(body.get("redirect_uris") or []), dict(body.get("permissions") or {"*": "write"}), **extra,
                ))
            else:
                app = oauth.create_app(str(body["name"]), list(body.get("redirect_uris") or []), dict(body.get("permissions") or {"*": "write"}), **extra)
            # The secret is shown once, to whoever created the app, as a developer portal does.
            return JSONResponse({**app.public(), "client_secret": app.client_secret}, 201)
        return JSONResponse({"data": oauth.listing()["apps"]})

    async def tokens(self, request: Request) -> Response:
        oauth = self.state.oauth
        if request.method == "POST":
            body = await _json(request)
            account_id = int(body.get("account_id", next(iter(self.state.store.accounts), 1)))
            account = self.state.store.account(account_id)
            if account is None:
                raise ClioError(404, "RecordNotFound", f"No account {account_id}")
            users = account.table("User").ids
            user_id = int(body["user_id"]) if body.get("user_id") else (users[0] if users else None)
            return JSONResponse(oauth.issue_token(account_id, user_id, str(body.get("client_id") or "clio-mock-app-key")), 201)
        listing = oauth.listing()
        return JSONResponse({"grants": listing["grants"], "tokens": listing["tokens"]})

    async def scenarios(self, request: Request) -> Response:
        from mockserver.data.scenarios import (
            load_scenario,
            load_scenario_file,
            scenario_path,
        )

        body = await _json(request)
        account_id = body.get("account_id")
        if "path" in body or "name" in body:  # a file, or a shipped scenario by name ("solo-practice")
            where = scenario_path(str(body.get("path") or body["name"]))
            path = fixture_path(self.state.settings, str(where))  # only under the fixture folders
            loaded = await run_in_threadpool(load_scenario_file, self.state, path, account_id)
        elif isinstance(body.get("scenario"), dict):
            loaded = await run_in_threadpool(load_scenario, self.state, body["scenario"], "<control API>", account_id)
        else:
            raise ValueError("send {\"name\": SHIPPED}, {\"path\": FILE} or {\"scenario\": {...}}")
        account = getattr(loaded, "account", loaded)
        return JSONResponse(self._account(account.id), 201)

    # ------------------------------------------------------------------ journal, faults, clock

    async def journal(self, request: Request) -> Response:
        journal = self.state.journal
        if request.method == "DELETE":
            journal.clear()
            return Response(status_code=204)
        q = request.query_params
        limit = int(q["limit"]) if q.get("limit") else None
        if limit is not None and limit < 1:
            raise ValueError("limit must be 1 or more")
        entries = journal.find(q.get("method"), q.get("path"), int(q.get("since", 0)), q.get("status"), q.get("source"), limit)
        body: dict[str, Any] = {"data": [e.as_dict() for e in entries]}
        if self.state.settings.workers > 1:  # faults, clock and rate counts are shared; the journal is not
            body["meta"] = {"scope": f"worker pid {os.getpid()}: with --workers {self.state.settings.workers} the journal is per worker "
                                     "(each lists the requests it served); run one worker to see them all"}
        return Response(orjson.dumps(body, default=str), media_type="application/json")

    async def faults(self, request: Request) -> Response:
        faults, store = self.state.faults, self.state.store
        if request.method == "DELETE":
            with store.write():
                faults.remove()
                self.state.controls_changed("faults")
            return Response(status_code=204)
        if request.method == "POST":
            body = await _json(request)
            allowed = {"kind", "path", "method", "status", "latency_ms", "retry_after", "count", "probability", "seed", "body", "headers"}
            unknown = set(body) - allowed
            if unknown:
                raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
            if len(str(body.get("path", ""))) > MAX_FAULT_PATTERN:
                raise ValueError(f"path: a fault pattern is at most {MAX_FAULT_PATTERN} characters")
            with store.write():
                fault = faults.add(Fault(**body))
                self.state.controls_changed("faults")
            return JSONResponse(fault.as_dict(), 201)
        store.refresh()
        return JSONResponse({"data": [f.as_dict() for f in faults.active]})

    async def fault(self, request: Request) -> Response:
        with self.state.store.write():
            self.state.faults.remove(request.path_params["fault_id"])
            self.state.controls_changed("faults")
        return Response(status_code=204)

    async def deliveries(self, request: Request) -> Response:
        """Webhook handshakes and delivery attempts, oldest first (``?webhook_id=``)."""
        wanted = request.query_params.get("webhook_id")
        rows = [d for d in list(self.state.webhooks.history) if wanted is None or str(d["webhook_id"]) == wanted]
        return JSONResponse({"data": rows, "meta": {"dropped": dict(self.state.webhooks.dropped)}})

    async def clock(self, request: Request) -> Response:
        """``{"freeze": true}``, ``{"freeze": false}``, ``{"at": ISO}`` (frozen there), ``{"advance": seconds}``."""
        clock = self.state.clock
        if request.method == "POST":
            body = await _json(request)
            frozen, offset = clock.frozen, clock.offset
            if body.get("freeze") is True and frozen is None:
                frozen, offset = clock.now().astimezone(timezone.utc), timedelta(0)
            elif body.get("freeze") is False:
                frozen, offset = None, timedelta(0)
            if body.get("at"):
                at = datetime.fromisoformat(str(body["at"]).replace("Z", "+00:00"))
                frozen, offset = (at if at.tzinfo else at.replace(tzinfo=timezone.utc)), timedelta(0)
            if body.get("advance"):
                offset += timedelta(seconds=float(body["advance"]))
            when = (frozen or datetime.now(timezone.utc)) + offset  # OverflowError past year 9999: a 400
            if not CLOCK_MIN <= when <= CLOCK_MAX:
                raise ValueError(f"the clock must stay between {CLOCK_MIN.date()} and {CLOCK_MAX.date()}; {when.isoformat()} is outside")
            with self.state.store.write():
                clock.frozen, clock.offset = frozen, offset
                self.state.controls_changed("clock")
        else:
            self.state.store.refresh()
        return JSONResponse({"now": clock.now().isoformat(), "frozen": clock.frozen is not None})
