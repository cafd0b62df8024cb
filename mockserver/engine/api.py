"""HTTP for ``/api/v4``: request -> route -> checks -> engine -> response.

A plain ASGI app (no middleware stack) because it is the hot path: one trie lookup, one
token check, one store read and one orjson dump per request. Every failure becomes Clio's
error envelope; nothing escapes as a bare 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote

import jsonschema_rs
from starlette.requests import Request

from mockserver.engine.auth import Authenticator
from mockserver.engine.bodies import coerce, read_body
from mockserver.engine.errors import ClioError, bad_request, unprocessable
from mockserver.engine.handlers import ApiRequest, ApiResponse, Engine, Principal
from mockserver.engine.jsonenc import dumps
from mockserver.engine.readcache import CONDITIONAL, MAX_KEPT_QUERY, ReadCache
from mockserver.engine.routing import Router
from mockserver.engine.urls import origin
from mockserver.engine.writes import WriteSchema, out_of_range, writable
from mockserver.spec.index import Operation, SpecIndex

log = logging.getLogger("clio_mock.api")
API_PREFIX = "/api/v4"
MAX_BODY = 10 * 1024 * 1024


class RequestValidator:
    """Judges write bodies by the operation's request schema as Clio reads it
    (:class:`~mockserver.engine.writes.WriteSchema`): compiled validators, one per write
    operation, built on first use."""

    def __init__(self, schemas: WriteSchema) -> None:
        self.schemas = schemas
        self.compiled: dict[str, Any] = {}

    def validate(self, op: Operation, body: Any) -> Any:
        """``body`` with its read-only and unknown fields dropped; 422 if it is invalid."""
        schema = self.schemas.for_operation(op)
        if schema is None:
            return body
        where = out_of_range(body, "body")
        if where is not None:
            raise _invalid(op, f"{where.removeprefix('body.')}: the value is out of range (integers must fit 64 bits, numbers must be finite)")
        validator = self.compiled.get(op.operation_id)
        if validator is None:
            validator = jsonschema_rs.validator_for(schema, validate_formats=True)
            self.compiled[op.operation_id] = validator
        error = next(iter(validator.iter_errors(body)), None)
        if error is not None:
            where = ".".join(str(p) for p in error.instance_path) or "body"
            raise _invalid(op, f"{where}: {error.message}")
        return writable(body, schema)[0]


def _invalid(op: Operation, message: str) -> ClioError:
    """A body Clio would refuse: 422, or 400 where the operation documents no 422 (copy)."""
    if 422 not in op.responses and 400 in op.responses:
        return bad_request(message, "ValidationError")
    return unprocessable(message, "ValidationError")


class ApiApp:
    """The ASGI application serving every spec operation below ``/api/v4``."""

    def __init__(
        self,
        index: SpecIndex,
        engine: Engine,
        authenticator: Authenticator,
        now: Callable[[], float],
        hooks: list[Callable[[Principal, Operation, dict[str, str]], dict[str, str] | None]] | None = None,
        public_url: str | None = None,
    ) -> None:
        self.index = index
        self.router = Router(index.operations)
        self.engine = engine
        self.authenticator = authenticator
        self.validator = RequestValidator(WriteSchema(index, engine.writer.replaced_required))
        self.now = now
        # Per-request hooks after authentication (rate limits, fault injection); each may
        # raise ClioError or return headers to add to the response.
        self.hooks = hooks or []
        # A configured public base URL wins over the Host header for links (paging, redirects).
        self.public_url = public_url
        self.reads = ReadCache()  # answers to repeated reads, while nothing is written

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        version = self.index.versions.default
        extra: dict[str, str] = {}
        try:
            version = self._version(headers)
            response = await self._serve(scope, receive, headers, extra, version)
        except ClioError as exc:
            response = ApiResponse(exc.status, exc.body(), exc.headers)
        except Exception:  # a bug must still answer in Clio's shape, and be visible in the log
            log.exception("unhandled error serving %s %s", scope["method"], scope["path"])
            response = ApiResponse(500, ClioError(500, "InternalServerError", "The mock failed to handle this request").body())
        response.headers = {**extra, **response.headers}
        if response.status < 400 or response.status == 304:
            response.headers["X-API-VERSION"] = version
        await _send(send, response)

    def _version(self, headers: dict[str, str]) -> str:
        requested = headers.get("x-api-version")
        if requested is None:
            return self.index.versions.default
        if not self.index.versions.accepts(requested.strip()):
            raise ClioError(410, "Gone", f"API version {requested!r} is invalid or no longer supported")
        return requested.strip()

    async def _serve(self, scope: dict, receive: Callable, headers: dict[str, str], extra: dict[str, str], version: str = "") -> ApiResponse:
        """Route, authenticate, run the hooks, decode the body, call the engine. Headers the
        hooks give (rate limits) land in ``extra`` so error answers carry them too."""
        method = scope["method"]
        path = scope["path"][len(API_PREFIX):] or "/"
        op, path_params = self.router.match("GET" if method == "HEAD" else method, path)
        self.engine.store.refresh()  # another worker may have written (--data with --workers)
        now = self.now()
        principal = self.authenticator.authenticate(headers.get("authorization"), now)
        for hook in self.hooks:
            extra.update(hook(principal, op, headers) or {})
        base_url = _base_url(scope, headers, self.public_url)
        key = self._read_key(scope, headers, op, principal, base_url, version, now)
        if key is None:
            return await self._call(scope, receive, headers, op, path_params, principal, base_url, path, version)
        store = self.engine.store
        generation = store.generation
        kept = self.reads.get(key, generation)
        if kept is not None:
            return kept
        response = await self._call(scope, receive, headers, op, path_params, principal, base_url, path, version)
        if response.status == 200 and generation % 2 == 0 and store.generation == generation:  # no write ran meanwhile
            response.body = _payload(response)
            self.reads.put(key, generation, response.status, response.body, response.headers)
        return response

    def _read_key(self, scope: dict, headers: dict[str, str], op: Operation, principal: Principal, base_url: str,
                  version: str, now: float) -> tuple | None:
        """What a read's answer depends on, if the read cache may keep it (None otherwise)."""
        query = scope.get("query_string", b"")
        if scope["method"] != "GET" or not self.engine.pure_read(op) or len(query) > MAX_KEPT_QUERY or any(h in headers for h in CONDITIONAL):
            return None
        # Today's date is an input (date filters): minutes, so a date boundary in any zone is one too.
        return (principal.account_id, principal.user_id, scope["path"], query, version, base_url, int(now // 60))

    async def _call(self, scope: dict, receive: Callable, headers: dict[str, str], op: Operation, path_params: dict[str, str],
                    principal: Principal, base_url: str, path: str, version: str) -> ApiResponse:
        """Decode the body (if the operation takes one), build the request, call the engine."""
        data = await self._body(scope, receive, headers, op) if op.request_schema is not None else None
        query: dict[str, list[str]] = {}
        try:
            for key, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
                query.setdefault(key, []).append(value)
        except ValueError:
            raise bad_request("The query string is malformed", "InvalidParameter") from None
        request = ApiRequest(op, principal, {k: unquote(v) for k, v in path_params.items()}, query, headers, data, base_url, path, version)
        return self.engine.handle(request)

    async def _body(self, scope: dict, receive: Callable, headers: dict[str, str], op: Operation) -> Any:
        raw = await _read(receive)
        replay = _replayer(raw)

        async def form_pairs() -> list[tuple[str, Any]]:
            try:
                form = await Request(scope, replay).form(max_files=100, max_fields=10000)
            except Exception as exc:  # python-multipart raises several types on bad input
                raise bad_request(f"The multipart body is malformed: {exc}", "InvalidParameter") from None
            return [(k, v if isinstance(v, str) else (v.filename or "")) for k, v in form.multi_items()]

        body = await read_body(headers.get("content-type", "application/json"), raw, form_pairs)
        if body is None:
            if op.method == "POST" and (op.request_schema or {}).get("required"):
                raise unprocessable("body: the request needs a JSON body {\"data\": {...}}", "ValidationError")
            return {"data": {}}
        body = coerce(body, op.request_schema or {})
        return self.validator.validate(op, body)


async def _read(receive: Callable) -> bytes:
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise ClioError(413, "PayloadTooLarge", "The request body is too large")
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replayer(raw: bytes) -> Callable:
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    return receive


def _base_url(scope: dict, headers: dict[str, str], public_url: str | None = None) -> str:
    """The one base URL of links: ``public_url`` when set, else as the client addressed the mock."""
    return origin(scope, headers.get("host") or "", public_url) + API_PREFIX


def _payload(response: ApiResponse) -> bytes:
    body = response.body
    if body is None or response.status in (204, 304):
        return b""
    if isinstance(body, bytes):
        return body
    return dumps(body)  # never raises on a stored value orjson refuses (an integer past 64 bits)


async def _send(send: Callable, response: ApiResponse) -> None:
    payload = _payload(response)
    headers = [(b"content-length", str(len(payload)).encode())]
    if payload or response.status >= 400:
        headers.append((b"content-type", response.media_type.encode()))
    # "replace": a value outside latin-1 (built from input) must not fail the whole answer
    headers += [(k.lower().encode("latin-1", "replace"), str(v).encode("latin-1", "replace")) for k, v in response.headers.items()]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
