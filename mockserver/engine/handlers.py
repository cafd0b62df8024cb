"""The generic engine: one handler per kind of action, driven by the spec's operations.

There is no per-resource code. An operation's ``Model#action`` and path decide what
happens: CRUD on the model's table, nested collections read through their parent, views
(``MatterContacts``, ``BillableMatter``) read from the model they mirror, singletons per user
or per account, and Clio's custom actions (who_am_i, ids, download, copy, list...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from mockserver.engine.errors import ClioError, decimal, not_found
from mockserver.engine.query import (
    build_filters,
    decode_token,
    integer_param,
    page_by_id,
    page_by_offset,
    parse_limit,
    parse_order,
)
from mockserver.engine.records import RecordWriter, stamp
from mockserver.engine.serializer import Serializer
from mockserver.engine.store import Account, MemoryStore, Record, updated_of
from mockserver.spec.index import Operation, ParentLink, SpecIndex, parent_links, snake


@dataclass(frozen=True)
class Principal:
    """Who is calling: the account (firm) and user a token acts as."""

    account_id: int
    user_id: int | None
    token: str = ""  # a stable key for the token (its digest), never the token in clear
    permissions: frozenset[str] = frozenset()


@dataclass
class ApiRequest:
    """What a handler needs from an HTTP request below ``/api/v4``."""

    op: Operation
    principal: Principal
    path_params: dict[str, str]
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    data: dict[str, Any] | None
    base_url: str  # e.g. http://127.0.0.1:8000/api/v4
    path: str
    version: str = ""  # the X-API-VERSION in use ("" = the default)

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


@dataclass
class ApiResponse:
    status: int
    body: Any = None  # JSON-able, bytes, or None
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Source:
    """Where an operation's records come from."""

    kind: str  # "table" | "embedded" | "association" | "related" | "singleton"
    model: str  # the model whose records are read
    link: ParentLink | None = None
    association: str | None = None


class Engine:
    """Serves any operation of the indexed spec against the store."""

    def __init__(self, index: SpecIndex, store: MemoryStore, writer: RecordWriter) -> None:
        self.index = index
        self.store = store
        self.writer = writer
        self.serializer = Serializer(index)
        self.serializer.follow(store)
        self.sources = {op.operation_id: self._source(op) for op in index.operations}
        self.view_models = {op.model for op in index.operations if self.sources[op.operation_id].kind not in ("table", "singleton")}
        self.singletons = {op.model for op in index.operations if self.sources[op.operation_id].kind == "singleton"}
        self.mirrors = self._mirrors()
        # Singletons a user can create (the timer) are per user; settings are per firm.
        self.user_singletons = {op.model for op in index.operations if op.action == "create" and op.model in self.singletons}
        # The model of a member path's {id} (/documents/{id}/versions/... -> Document).
        self.owners = {op.operation_id: index.collection_model(op.path.split("/{id}")[0]) for op in index.operations if "/{id}" in op.path}
        actions: dict[str, Callable[[ApiRequest, Account], ApiResponse]] = {
            "index": self.index_action, "show": self.show, "create": self.create, "update": self.update,
            "destroy": self.destroy, "who_am_i": self.who_am_i, "ids": self.ids, "copy": self.copy,
            "list": self.list_items,
        }
        # Per operation; other modules may register handlers for actions they own (activate).
        self.handlers = {op.operation_id: actions.get(op.action) or self._custom(op) for op in index.operations}
        # Minor-version behaviour (a table outside the engine): serve(request, account, handler)
        # wraps every write, and reads made at a version other than the default.
        self.versions: Callable[[ApiRequest, Account, Callable[[ApiRequest, Account], ApiResponse]], ApiResponse] | None = None
        self._pure: dict[str, bool] = {}  # see pure_read

    # ------------------------------------------------------------------ dispatch

    def handle(self, request: ApiRequest) -> ApiResponse:
        account = self.store.account(request.principal.account_id)
        if account is None:
            raise ClioError(401, "Unauthorized", "The account for this token no longer exists")
        handler = self.handlers[request.op.operation_id]
        if self._versioned(request):
            return self.versions(request, account, handler)  # type: ignore[misc]
        return handler(request, account)

    def pure_read(self, op: Operation) -> bool:
        """Whether the operation is a read the engine itself answers from the store alone (its
        own index or show, not a handler another module installed): the same request, with
        nothing written, gets the same answer (:mod:`mockserver.engine.readcache`)."""
        pure = self._pure.get(op.operation_id)
        if pure is None:
            handler = self.handlers[op.operation_id]
            pure = self._pure[op.operation_id] = op.method == "GET" and (handler == self.index_action or handler == self.show)
        return pure

    def _versioned(self, request: ApiRequest) -> bool:
        """Whether the ``versions`` hook sees (and may edit) this request's answer."""
        return self.versions is not None and (request.op.method != "GET" or request.version not in ("", self.index.versions.default))

    def _render(self, request: ApiRequest, account: Account, records: list[Record], plan) -> list[Any]:
        """Rendered records: ready JSON fragments from the serializer's cache, or plain dicts
        when the ``versions`` hook will edit them."""
        if self._versioned(request):
            return self.serializer.render_many(account, records, plan)
        return self.serializer.render_page(account, records, plan)

    def _custom(self, op: Operation) -> Callable[[ApiRequest, Account], ApiResponse]:
        if op.success_status == 303:
            return self.download
        if op.method == "POST" and op.response_schema is None:
            return self.promote
        if op.method == "POST":
            return self.create_from
        return self.preview

    # ------------------------------------------------------------------ sources

    def _source(self, op: Operation) -> Source:
        links = parent_links(self.index, op)
        model = self.index.models.get(op.model)
        creatable = {o.model for o in self.index.operations if o.action == "create"}
        if links and model is not None:
            link = links[0]
            parent = self.index.models[link.parent]
            for assoc in parent.associations.values():
                if assoc.target == op.model and not assoc.stored:
                    return Source("embedded", op.model, link, assoc.name)
            assoc = parent.associations.get(snake(op.model))
            if assoc is not None and assoc.stored:
                return Source("association", assoc.target, link, assoc.name)
            mirrored = self._mirrored(op.model, creatable)
            if mirrored and op.model not in creatable:
                return Source("related", mirrored, link)
            return Source("table", op.model, link)
        if "id" not in op.path_params and op.action in ("show", "create", "destroy") and not any(
            o.model == op.model and o.action == "index" for o in self.index.operations
        ):
            return Source("singleton", op.model)
        return Source("table", op.model)

    def _mirrors(self) -> dict[str, str]:
        """Read-only tables named after a creatable model (BillableMatter): seeded from it."""
        creatable = {o.model for o in self.index.operations if o.action == "create"}
        writable = {o.model for o in self.index.operations if o.action in ("create", "update", "destroy")}
        out = {}
        for op in self.index.operations:
            source = self.sources[op.operation_id]
            if source.kind == "table" and op.model not in writable and (mirrored := self._mirrored(op.model, creatable)):
                out[op.model] = mirrored
        return out

    def _mirrored(self, name: str, creatable: set[str]) -> str | None:
        """A read-only model named after a creatable one mirrors it (BillableMatter -> Matter)."""
        for candidate in sorted(creatable, key=len, reverse=True):
            if candidate != name and (name.endswith(candidate) or name.endswith(candidate + "s")):
                return candidate
        return None

    def _parent(self, request: ApiRequest, account: Account, link: ParentLink) -> Record:
        raw = request.path_params[link.param]
        parent = account.table(link.parent).get(_path_id(raw))
        if parent is None:
            raise not_found(f"{link.parent} with id {raw} was not found")
        return parent

    def _rows(self, request: ApiRequest, account: Account) -> tuple[Callable[..., Iterator[Record]] | None, list[Record] | None]:
        """Either a scan function over a table (cursor-pageable) or a computed list of rows."""
        source = self.sources[request.op.operation_id]
        if source.kind == "table":
            table = account.table(source.model)
            if source.link is not None:
                parent = self._parent(request, account, source.link)
                key, pid = source.link.key, parent["id"]
                return None, [r for r in table if r.get(key) == pid]
            return table.scan, None
        parent = self._parent(request, account, source.link)  # type: ignore[arg-type]
        if source.kind == "embedded":
            return None, list(parent.get(source.association) or [])
        if source.kind == "association":
            ref = parent.get(source.association)
            row = account.table(source.model).get(ref) if ref is not None else None
            return None, [self._view_row(row, parent, source)] if row else []
        related = self._related(account, source.link.parent, parent, source.model)  # type: ignore[union-attr]
        return None, [self._view_row(r, parent, source) for r in related]

    def _related(self, account: Account, parent_model: str, parent: Record, target: str) -> list[Record]:
        """Records of ``target`` a parent points at, directly or through its references."""
        model = self.index.models[parent_model]
        found: dict[int, Record] = {}
        table = account.table(target)
        for name, assoc in model.associations.items():
            value = parent.get(name)
            if assoc.target == target and value is not None:
                for ref in value if assoc.many else [value]:
                    if (row := table.get(ref)) is not None:
                        found.setdefault(row["id"], row)
            elif assoc.stored and assoc.many and value:
                inner = self.index.models[assoc.target]
                for ref in value:
                    hop = account.table(assoc.target).get(ref) or {}
                    for inner_name, inner_assoc in inner.associations.items():
                        if inner_assoc.target == target and (row := table.get(hop.get(inner_name))) is not None:
                            found.setdefault(row["id"], row)
        return list(found.values())

    def _view_row(self, row: Record, parent: Record, source: Source) -> Record:
        """A source record seen through a view model (``is_client``, ``matter_id``...)."""
        view = dict(row)
        link = source.link
        if link is not None:
            view[f"{snake(link.parent)}_id"] = parent["id"]
            client = parent.get("client")
            view["is_client"] = view["is_matter_client"] = client is not None and client == row["id"]
        prefix = snake(source.model) + "_"
        for name in self.index.models[source.model].fields:  # contact_id, contact_created_at...
            view.setdefault(prefix + name, row.get(name))
        return view

    # ------------------------------------------------------------------ CRUD

    def index_action(self, request: ApiRequest, account: Account) -> ApiResponse:
        op = request.op
        if not op.list_response:  # an "index" answering one object (event_metrics)
            return self._record_response(request, account, self._first(request, account), 200, conditional=False)
        model = self.index.models[self.sources[op.operation_id].model]
        render_model = self.index.models[op.model]
        plan = self.serializer.plan(render_model.name, request.arg("fields"))
        limit = parse_limit(op, request.arg("limit"))
        order = parse_order(op, request.arg("order"))
        preds = build_filters(op, model, request.query, account, self.writer.clock.now)
        scan, rows = self._rows(request, account)
        offset = request.arg("offset")
        token = request.arg("page_token")
        if scan is not None and order[0] == "id" and offset is None and not _is_offset_token(token):
            page = page_by_id(scan, preds, limit, order[1], token)
            start = None
        else:
            records = rows if rows is not None else scan()  # type: ignore[misc]
            start = integer_param("offset", offset) if offset is not None else _offset_from(token)
            page = page_by_offset(records, preds, order, limit, start)
        data = self._render(request, account, page.records, plan)
        paging: dict[str, str] = {}
        if page.previous_token:
            paging["previous"] = _page_url(request, page.previous_token, page.previous_offset, start)
        if page.next_token:
            paging["next"] = _page_url(request, page.next_token, page.next_offset, start)
        return ApiResponse(200, {"data": data, "meta": {"paging": paging, "records": len(data)}})

    def show(self, request: ApiRequest, account: Account) -> ApiResponse:
        record = self._find(request, account)
        return self._record_response(request, account, record, 200)

    def create(self, request: ApiRequest, account: Account) -> ApiResponse:
        op = request.op
        source = self.sources[op.operation_id]
        model = self.index.models[op.model]
        preset: Record = {}
        with self.store.write():
            if source.link is not None:
                preset[source.link.key] = self._parent(request, account, source.link)["id"]
            if op.model in self.user_singletons:
                preset["_owner"] = request.principal.user_id
            previous = self._singleton(request, account) if source.kind == "singleton" else None
            record = self.writer.create(account, model, _data(request), preset, request.principal.user_id)
            if previous is not None:  # a new timer replaces the user's running one
                account.table(op.model).delete(previous["id"])
        self.store.notify("created", account.id, op.model, record)
        return self._record_response(request, account, record, op.success_status, conditional=False)

    def update(self, request: ApiRequest, account: Account) -> ApiResponse:
        op = request.op
        model = self.index.models[op.model]
        with self.store.write():
            record = self._find(request, account)
            self._check_if_match(request, record)
            before = self.writer.update(account, model, record, _data(request), request.principal.user_id)
            self.store.touch(account.id, op.model, record["id"])
        self.store.notify("updated", account.id, op.model, record, before)
        return self._record_response(request, account, record, 200, conditional=False)

    def destroy(self, request: ApiRequest, account: Account) -> ApiResponse:
        op = request.op
        with self.store.write():
            record = self._find(request, account)
            if "IF-MATCH" in op.params:
                self._check_if_match(request, record)
            account.table(self.sources[op.operation_id].model).delete(record["id"])
        self.store.notify("deleted", account.id, op.model, record)
        if op.success_status == 200 and op.response_schema is not None:
            return self._record_response(request, account, record, 200, conditional=False)
        return ApiResponse(op.success_status)

    # ------------------------------------------------------------------ custom actions

    def who_am_i(self, request: ApiRequest, account: Account) -> ApiResponse:
        user = account.table(request.op.model).get(request.principal.user_id)  # type: ignore[arg-type]
        if user is None:
            raise not_found("The user for this token was not found")
        return self._record_response(request, account, user, 200)

    def ids(self, request: ApiRequest, account: Account) -> ApiResponse:
        op = request.op
        model = self.index.models[self.sources[op.operation_id].model]
        preds = build_filters(op, model, request.query, account, self.writer.clock.now)
        limit = parse_limit(op, request.arg("limit"))
        scan, rows = self._rows(request, account)
        records = rows if rows is not None else scan()  # type: ignore[misc]
        out = [r["id"] for r in records if all(p(r) for p in preds)][:limit]
        return ApiResponse(200, {"data": out})

    def copy(self, request: ApiRequest, account: Account) -> ApiResponse:
        op = request.op
        original = self._find(request, account)
        model = self.index.models[op.model]
        with self.store.write():
            record = self.writer.create(account, model, _data(request), original, request.principal.user_id)
        self.store.notify("created", account.id, op.model, record)
        return self._record_response(request, account, record, op.success_status, conditional=False)

    def list_items(self, request: ApiRequest, account: Account) -> ApiResponse:
        """``Folder#list``: folders and documents together, as ``Item`` rows."""
        op = request.op
        parent_id = request.arg("parent_id")
        wanted = integer_param("parent_id", parent_id) if parent_id else None
        # The item kinds are the models the view's ``type`` enum names (Folder, Document).
        kinds = self.index.models[op.model].fields.get("type", {}).get("enum", [])
        rows: list[Record] = []
        for name in kinds:
            for record in account.table(name) if name in self.index.models else []:
                parent = record.get("parent")
                pid = parent.get("id") if isinstance(parent, dict) else parent
                if wanted is None or pid == wanted:
                    rows.append({**record, "type": name})
        plan = self.serializer.plan(op.model, request.arg("fields"))
        limit = parse_limit(op, request.arg("limit"))
        page = page_by_offset(rows, build_filters(op, self.index.models[op.model], request.query, account, self.writer.clock.now), ("id", False), limit, _offset_from(request.arg("page_token")))
        paging = {"next": _page_url(request, page.next_token, page.next_offset, 0)} if page.next_token else {}
        return ApiResponse(200, {"data": self.serializer.render_many(account, page.records, plan), "meta": {"paging": paging}})

    def download(self, request: ApiRequest, account: Account) -> ApiResponse:
        """Downloads answer 303 to a URL the mock serves (Clio: a pre-signed storage URL)."""
        op = request.op
        if "id" in request.path_params:
            record = self._find(request, account)
            target = f"{op.model}/{record['id']}"
        else:
            target = f"{op.model}/preview"
        root = request.base_url.rsplit("/api/v4", 1)[0]
        location = f"{root}/__mock__/files/{account.id}/{target}"
        version = request.arg("document_version_id")  # a download may name the version it wants
        if version:
            location += "?" + urlencode({"document_version_id": version})
        return ApiResponse(303, None, {"Location": location})

    def promote(self, request: ApiRequest, account: Account) -> ApiResponse:
        """A POST without a body answer (``save_as_latest_version``): point the parent at the child."""
        op = request.op
        parent_model = self.owners.get(op.operation_id)
        if parent_model is None or "id" not in request.path_params:
            raise not_found()
        parent = account.table(parent_model).get(_path_id(request.path_params["id"]))
        if parent is None:
            raise not_found(f"{parent_model} with id {request.path_params['id']} was not found")
        child_param = next(p for p in op.path_params if p != "id")
        child = account.table(op.model).get(_path_id(request.path_params[child_param]))
        if child is None:
            raise not_found(f"{op.model} with id {request.path_params[child_param]} was not found")
        model = self.index.models[parent_model]
        with self.store.write():
            for name, assoc in model.associations.items():
                if assoc.target == op.model and not assoc.many:
                    parent[name] = child["id"]
            stamp(model, parent, self.writer.clock.now(), created=False)
            self.store.touch(account.id, parent_model, parent["id"])
        self.store.notify("updated", account.id, parent_model, parent)
        return ApiResponse(op.success_status)

    def create_from(self, request: ApiRequest, account: Account) -> ApiResponse:
        """A POST action on a record that makes a record of another model (generate_report)."""
        op = request.op
        path_model = self.owners.get(op.operation_id)
        if path_model is not None and "id" in request.path_params:
            if account.table(path_model).get(_path_id(request.path_params["id"])) is None:
                raise not_found(f"{path_model} with id {request.path_params['id']} was not found")
        return self.create(request, account)

    def preview(self, request: ApiRequest, account: Account) -> ApiResponse:
        """A GET action without a declared body (``Bill#preview``): an HTML rendering."""
        record = self._find(request, account) if "id" in request.path_params else {"id": 0}
        html = f"<html><body><h1>{request.op.model} {record['id']} preview</h1></body></html>"
        return ApiResponse(200, html.encode(), media_type="text/html; charset=utf-8")

    # ------------------------------------------------------------------ helpers

    def _find(self, request: ApiRequest, account: Account) -> Record:
        op = request.op
        source = self.sources[op.operation_id]
        if source.kind == "singleton":
            record = self._singleton(request, account)
        elif source.kind in ("association", "related", "embedded"):
            rows = self._rows(request, account)[1] or []
            record = rows[0] if rows else None
        else:
            raw = request.path_params.get("id")
            if raw is None:
                raise not_found()
            record = account.table(source.model).get(_path_id(raw))
            if record is not None and source.link is not None:
                parent = self._parent(request, account, source.link)
                if record.get(source.link.key) != parent["id"]:
                    record = None
        if record is None:
            raise not_found(f"{op.model} not found")
        return record

    def _first(self, request: ApiRequest, account: Account) -> Record:
        scan, rows = self._rows(request, account)
        record = next(iter(rows if rows is not None else scan()), None)  # type: ignore[misc]
        if record is None:
            raise not_found(f"{request.op.model} not found")
        return record

    def _singleton(self, request: ApiRequest, account: Account) -> Record | None:
        table = account.table(request.op.model)
        owned = request.op.model in self.user_singletons
        for record in table:
            if not owned or record.get("_owner") == request.principal.user_id:
                return record
        return None

    def _check_if_match(self, request: ApiRequest, record: Record) -> None:
        wanted = request.headers.get("if-match")
        if wanted and wanted != "*" and record.get("etag") not in {w.strip() for w in wanted.split(",")}:
            raise ClioError(412, "PreconditionFailed", "The record has changed since it was read (If-Match does not match its etag)")

    def _record_response(self, request: ApiRequest, account: Account, record: Record, status: int, conditional: bool = True) -> ApiResponse:
        op = request.op
        plan = self.serializer.plan(op.model, request.arg("fields"))
        headers: dict[str, str] = {}
        etag = record.get("etag")
        updated = updated_of(record)
        if etag:
            headers["ETag"] = etag
        if updated:
            headers["Last-Modified"] = _http_date(int(updated))
        if conditional and status == 200 and _not_modified(request.headers, etag, updated):
            return ApiResponse(304, None, headers)
        return ApiResponse(status, {"data": self._render(request, account, [record], plan)[0]}, headers)


@lru_cache(maxsize=8192)
def _http_date(timestamp: int) -> str:
    """An HTTP date (``Sat, 28 Nov 2026 12:00:00 GMT``), cached: many records share a second."""
    return formatdate(timestamp, usegmt=True)


def _data(request: ApiRequest) -> dict[str, Any]:
    """The ``data`` object of a write body (validated already)."""
    return (request.data or {}).get("data") or {}


def _path_id(raw: str) -> int:
    """Path ids are integers; anything else names no record (404, as Clio's routes do)."""
    record_id = decimal(raw)
    if record_id is None:
        raise not_found(f"Couldn't find a record with id {raw!r}")
    return record_id


def _not_modified(headers: dict[str, str], etag: str | None, updated: float | None) -> bool:
    none_match = headers.get("if-none-match")
    if none_match and etag:
        return etag in {v.strip() for v in none_match.split(",")} or none_match.strip() == "*"
    since = headers.get("if-modified-since")
    if since and updated:
        try:
            return int(updated) <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False
    return False


def _offset_from(token: str | None) -> int:
    if not token:
        return 0
    kind, value = decode_token(token)
    return value if kind == "o" else 0


def _is_offset_token(token: str | None) -> bool:
    return bool(token) and decode_token(token)[0] == "o"  # type: ignore[arg-type]


def _page_url(request: ApiRequest, token: str | None, offset: int | None, start: int | None) -> str:
    """The full URL of another page: the same query with a new page_token (or offset)."""
    pairs = [(k, v) for k, vs in request.query.items() for v in vs if k not in ("page_token", "offset")]
    if request.arg("offset") is not None and offset is not None:
        pairs.append(("offset", str(offset)))
    elif token:
        pairs.append(("page_token", token))
    return f"{request.base_url}{request.path}?{urlencode(pairs)}"
