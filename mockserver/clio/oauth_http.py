"""The HTTP side of Clio's OAuth: ``/oauth/authorize``, ``/oauth/approval``, ``/oauth/token``
and ``/oauth/deauthorize``, as Starlette routes over :class:`mockserver.clio.oauth.OAuthServer`."""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from mockserver.clio.oauth import APPROVAL_PATH, DeveloperApp, OAuthError, OAuthServer
from mockserver.engine.auth import bearer_token
from mockserver.engine.store import MemoryStore
from mockserver.engine.urls import origin

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;color:#1f2d3d}}
.card{{border:1px solid #d5dde5;border-radius:8px;padding:1.5rem}}button{{font-size:1rem;padding:.5rem 1.5rem;margin-right:.5rem}}
#allow{{background:#0070e0;color:#fff;border:0;border-radius:4px}}#deny{{background:#fff;border:1px solid #aab;border-radius:4px}}
li{{margin:.2rem 0}}select{{font:inherit}}</style></head>
<body><div class="card">{body}</div></body></html>"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=html.escape(title), body=body), status_code=status)


def _with_query(uri: str, params: dict[str, str]) -> str:
    """``uri`` with ``params`` added to its query (keeping what it had)."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


class OAuthRoutes:
    """Builds the Starlette routes; ``users`` lists (account, user id, label) to act as."""

    def __init__(self, oauth: OAuthServer, store: MemoryStore, guard: Callable[[Request], Response | None] | None = None) -> None:
        self.oauth = oauth
        self.store = store
        # The Host/Origin check the composition root gives (DNS rebinding, cross-site POSTs).
        self.guard = guard or (lambda request: None)

    def routes(self) -> list[Route]:
        return [
            Route("/oauth/authorize", self.authorize, methods=["GET"]),
            Route("/oauth/authorize", self.decide, methods=["POST"]),
            Route(APPROVAL_PATH, self.approval, methods=["GET"]),
            Route("/oauth/token", self.token, methods=["POST"]),
            Route("/oauth/deauthorize", self.deauthorize, methods=["POST"]),
        ]

    # ------------------------------------------------------------------ authorize

    def _checked(self, request: Request, params: dict[str, str]) -> tuple[DeveloperApp, str] | HTMLResponse:
        """The app and redirect URI, or an error page: never redirect to an unregistered URI."""
        app = self.oauth.app(params.get("client_id"))
        if app is None:
            return _page("Error: unknown application", "<h1>Unknown application</h1><p>No application has this client_id.</p>", 400)
        uri = params.get("redirect_uri") or ""
        # The out-of-band page's URL comes from the Host header: only a Host that names the mock.
        oob = uri == self._approval_url(request) and self.guard(request) is None
        if not (app.allows_redirect(uri, self.oauth.config.redirect_origins) or oob):
            return _page("Error: invalid redirect URI", f"<h1>Invalid redirect URI</h1><p>{html.escape(uri)} is not registered for {html.escape(app.name)}.</p>", 400)
        return app, uri

    def _approval_url(self, request: Request) -> str:
        return origin(request.scope) + APPROVAL_PATH

    async def authorize(self, request: Request) -> Response:
        params = dict(request.query_params)
        checked = self._checked(request, params)
        if isinstance(checked, HTMLResponse):
            return checked
        app, uri = checked
        if params.get("response_type") != "code":
            return RedirectResponse(_with_query(uri, {"error": "unsupported_response_type", "state": params.get("state")}), 302)
        choices = self._users()
        if not choices:
            return _page("Error: no users", "<h1>No users</h1><p>The mock has no firm with users to act as.</p>", 409)
        if app.auto_approve or self.oauth.config.auto_approve:
            account_id, user_id = self._choice(params.get("user"), choices)
            code = self.oauth.issue_code(app, uri, account_id, user_id)
            return RedirectResponse(_with_query(uri, {"code": code, "state": params.get("state")}), 302)
        return self._approval_page(app, params, choices)

    def _approval_page(self, app: DeveloperApp, params: dict[str, str], choices: list[tuple[int, int, str]]) -> HTMLResponse:
        perms = "".join(
            f"<li>{html.escape('All areas' if area == '*' else area.replace('_', ' ').title())}: "
            f"{'read and write' if level == 'write' else 'read only'}</li>"
            for area, level in sorted(app.permissions.items())
        )
        options = "".join(f'<option value="{a}:{u}">{html.escape(label)}</option>' for a, u, label in choices)
        fields = {k: params.get(k, "") for k in ("client_id", "redirect_uri", "state", "redirect_on_decline")}
        fields["form_token"] = self.oauth.form_token(fields["client_id"], fields["redirect_uri"], fields["state"])
        hidden = "".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in fields.items())
        body = (
            f"<h1>Authorize {html.escape(app.name)}</h1><p>{html.escape(app.description)}</p>"
            f'<p>{html.escape(app.name)} is asking for access to your Clio account:</p><ul id="permissions">{perms}</ul>'
            f'<form method="post" action="/oauth/authorize">{hidden}'
            f'<label>Act as <select name="user" id="user">{options}</select></label><p>'
            '<button id="allow" name="decision" value="allow" autofocus>Allow</button>'
            '<button id="deny" name="decision" value="deny">Deny</button></p></form>'
        )
        return _page(f"Authorize {app.name}", body)

    async def decide(self, request: Request) -> Response:
        refused = self.guard(request)
        if refused is not None:
            return refused
        try:
            form = dict((await request.form(max_files=0, max_fields=50)).items())
        except Exception:  # python-multipart raises several types on bad input
            return _page("Error: bad request", "<h1>Bad request</h1><p>The form could not be read.</p>", 400)
        params = {k: str(v) for k, v in form.items()}
        checked = self._checked(request, params)
        if isinstance(checked, HTMLResponse):
            return checked
        app, uri = checked
        if not self.oauth.check_form_token(params.get("form_token"), params.get("client_id", ""), uri, params.get("state", "")):
            # Not from the approval page this mock served for this request (CSRF): no code, no redirect.
            return _page("Error: expired or forged form", "<h1>This approval form is not valid</h1>"
                         "<p>It expired or did not come from this authorization page. Start the authorization again.</p>", 403)
        state = params.get("state") or None
        if params.get("decision") != "allow":
            oob = uri == self._approval_url(request)
            if oob or params.get("redirect_on_decline", "").lower() == "true":
                return RedirectResponse(_with_query(uri, {"error": "access_denied", "state": state}), 302)
            return _page("Failure error=access_denied", f"<h1>Access declined</h1><p>You did not authorize {html.escape(app.name)}.</p>")
        account_id, user_id = self._choice(params.get("user"), self._users())
        code = self.oauth.issue_code(app, uri, account_id, user_id)
        return RedirectResponse(_with_query(uri, {"code": code, "state": state}), 302)

    async def approval(self, request: Request) -> Response:
        """The out-of-band landing page: desktop apps read the outcome from the title."""
        code, error = request.query_params.get("code"), request.query_params.get("error")
        if code:
            return _page(f"Success code={code}", "<h1>Authorized</h1><p>You may close this window.</p>")
        return _page(f"Failure error={error or 'access_denied'}", "<h1>Not authorized</h1>")

    def _users(self) -> list[tuple[int, int, str]]:
        out = []
        for account in self.store.accounts.values():
            for user in account.table("User"):
                out.append((account.id, user["id"], f"{user.get('name') or user['id']} ({account.name})"))
        return out

    @staticmethod
    def _choice(raw: str | None, choices: list[tuple[int, int, str]]) -> tuple[int, int]:
        if raw and ":" in raw:
            a, _, u = raw.partition(":")
            for account_id, user_id, _label in choices:
                if str(account_id) == a and str(user_id) == u:
                    return account_id, user_id
        return choices[0][0], choices[0][1]

    # ------------------------------------------------------------------ token endpoints

    async def token(self, request: Request) -> Response:
        try:
            params = await _params(request)
            client_id, secret = _client_credentials(request, params)
            app = self.oauth.check_client(client_id, secret)
            grant_type = params.get("grant_type")
            if grant_type == "authorization_code":
                body = self.oauth.exchange_code(app, params.get("code"), params.get("redirect_uri"))
            elif grant_type == "refresh_token":
                body = self.oauth.refresh_token(app, params.get("refresh_token"))
            elif not grant_type:
                raise OAuthError("invalid_request", "The grant_type parameter is required.")
            else:
                raise OAuthError("unsupported_grant_type", f"Clio supports authorization_code and refresh_token, not {grant_type}.")
        except OAuthError as exc:
            headers = {"WWW-Authenticate": 'Basic realm="clio-mock"'} if exc.status == 401 else {}
            return JSONResponse({"error": exc.code, "error_description": exc.description}, exc.status, headers=headers)
        return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def deauthorize(self, request: Request) -> Response:
        """Revokes the grant of the token (form ``token`` or the bearer); 200 with no body."""
        try:
            params = await _params(request)
        except OAuthError:
            params = {}
        token = params.get("token") or bearer_token(request.headers.get("authorization"))
        if not self.oauth.deauthorize(token):
            return JSONResponse({"error": "invalid_token", "error_description": "The access token provided is expired, revoked, malformed or invalid for other reasons."}, 401)
        return Response(status_code=200)


async def _params(request: Request) -> dict[str, str]:
    """Form-encoded (as Clio documents) or JSON (as some clients send) parameters."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json":
        try:
            data = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            raise OAuthError("invalid_request", "The request body is not valid JSON.") from None
        return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    try:
        form = await request.form()
    except Exception:  # a malformed multipart body is the client's error
        raise OAuthError("invalid_request", "The request body could not be parsed.") from None
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _client_credentials(request: Request, params: dict[str, str]) -> tuple[str | None, str | None]:
    """client_id/client_secret from the body, or from HTTP Basic (RFC 6749 2.3.1)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip()).decode()
            client_id, _, secret = decoded.partition(":")
            return client_id, secret
        except (ValueError, UnicodeDecodeError):
            return None, None
    return params.get("client_id"), params.get("client_secret")

