"""The control API under ``/__mock__/``: what tests and operators use to drive the mock.

``reset`` / ``reseed``, firms (accounts), apps and tokens, scenarios, the request journal,
fault injection and the clock. Bound to loopback it is open; when the server listens on
another address, every call needs the admin token (``Authorization: Bearer <admin token>``).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockserver.clio.oauth import DeveloperApp
from mockserver.control.faults import Fault
from mockserver.data.seeding import SeedPlan
from mockserver.engine.errors import ClioError

if TYPE_CHECKING:
    from mockserver.state import MockState

PREFIX = "/__mock__"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
DASHBOARD_COOKIE = "clio_mock_admin"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def dashboard_cookie_value(admin_token: str) -> str:
    """What the dashboard's session cookie holds: derived from the admin token, not the token."""
    return hmac.new(admin_token.encode(), b"clio-mock dashboard session", hashlib.sha256).hexdigest()


def admin_allowed(request: Request, settings: Any) -> bool:
    """May this request use the control API (and the dashboard)? Always on loopback; otherwise
    with the admin token as a Bearer token, or the dashboard's cookie (see
    :mod:`mockserver.control.dashboard`) on a read or on a write a foreign page cannot send
    without a CORS preflight (JSON, or DELETE), which the mock never grants."""
    if settings.host in LOOPBACK:
        return True
    token = settings.admin_token
    if not token:
        return False
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if given and hmac.compare_digest(given.encode(), token.encode()):
        return True
    cookie = request.cookies.get(DASHBOARD_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), dashboard_cookie_value(token).encode()):
        return False
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return request.method in SAFE_METHODS or request.method == "DELETE" or content_type == "application/json"


def _error(status: int, type_: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"type": type_, "message": message}}, status)


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
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
            if not admin_allowed(request, self.state.settings):
                return _error(401, "Unauthorized", "The control API needs the admin token when the mock is not bound to loopback")
            try:
                return await endpoint(request)
            except ClioError as exc:
                return Response(exc.body(), exc.status, media_type="application/json")
            except (ValueError, TypeError, KeyError) as exc:
                return _error(400, "InvalidParameter", str(exc))

        return guarded

    # ------------------------------------------------------------------ state

    async def reset(self, request: Request) -> Response:
        self.state.reset()
        return JSONResponse({"reset": True, "accounts": len(self.state.store.accounts)})

    async def reseed(self, request: Request) -> Response:
        body = await _json(request)
        settings = self.state.settings
        settings.seed = int(body.get("seed", settings.seed))
        settings.scale = float(body.get("scale", settings.scale))
        settings.records = {str(k): int(v) for k, v in (body.get("counts") or settings.records).items()}
        settings.accounts = int(body.get("accounts", settings.accounts))
        return await self.reset(request)

    async def accounts(self, request: Request) -> Response:
        store = self.state.store
        if request.method == "POST":
            body = await _json(request)
            plan = SeedPlan(int(body.get("seed", self.state.settings.seed)), float(body.get("scale", 1.0)), {str(k): int(v) for k, v in (body.get("counts") or {}).items()})
            with store.write():
                account = store.add_account(str(body.get("name") or f"Firm {len(store.accounts) + 1}"))
                self.state.seeder.seed(account, plan)
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
        from mockserver.data.scenarios import load_scenario, load_scenario_file

        body = await _json(request)
        account_id = body.get("account_id")
        if "path" in body:
            loaded = load_scenario_file(self.state, str(body["path"]), account_id)
        elif isinstance(body.get("scenario"), dict):
            loaded = load_scenario(self.state, body["scenario"], "<control API>", account_id)
        else:
            raise ValueError("send {\"path\": FILE} or {\"scenario\": {...}}")
        account = getattr(loaded, "account", loaded)
        return JSONResponse(self._account(account.id), 201)

    # ------------------------------------------------------------------ journal, faults, clock

    async def journal(self, request: Request) -> Response:
        journal = self.state.journal
        if request.method == "DELETE":
            journal.clear()
            return Response(status_code=204)
        q = request.query_params
        entries = journal.find(q.get("method"), q.get("path"), int(q.get("since", 0)))
        return JSONResponse({"data": [e.as_dict() for e in entries]})

    async def faults(self, request: Request) -> Response:
        faults = self.state.faults
        if request.method == "DELETE":
            faults.remove()
            return Response(status_code=204)
        if request.method == "POST":
            body = await _json(request)
            allowed = {"kind", "path", "method", "status", "latency_ms", "retry_after", "count", "probability", "seed"}
            unknown = set(body) - allowed
            if unknown:
                raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
            return JSONResponse(faults.add(Fault(**body)).as_dict(), 201)
        return JSONResponse({"data": [f.as_dict() for f in faults.active]})

    async def fault(self, request: Request) -> Response:
        self.state.faults.remove(request.path_params["fault_id"])
        return Response(status_code=204)

    async def deliveries(self, request: Request) -> Response:
        """Webhook handshakes and delivery attempts, oldest first (``?webhook_id=``)."""
        wanted = request.query_params.get("webhook_id")
        rows = [d for d in list(self.state.webhooks.history) if wanted is None or str(d["webhook_id"]) == wanted]
        return JSONResponse({"data": rows})

    async def clock(self, request: Request) -> Response:
        """``{"freeze": true}``, ``{"freeze": false}``, ``{"at": ISO}`` (frozen there), ``{"advance": seconds}``."""
        clock = self.state.clock
        if request.method == "POST":
            body = await _json(request)
            if body.get("freeze") is True and clock.frozen is None:
                clock.frozen, clock.offset = clock.now().astimezone(timezone.utc), timedelta(0)
            elif body.get("freeze") is False:
                clock.reset()
            if body.get("at"):
                at = datetime.fromisoformat(str(body["at"]).replace("Z", "+00:00"))
                clock.frozen, clock.offset = (at if at.tzinfo else at.replace(tzinfo=timezone.utc)), timedelta(0)
            if body.get("advance"):
                clock.offset += timedelta(seconds=float(body["advance"]))
        return JSONResponse({"now": clock.now().isoformat(), "frozen": clock.frozen is not None})
