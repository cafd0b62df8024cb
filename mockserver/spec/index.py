"""Loading Clio's OpenAPI document and indexing it into operations and models.

Everything the engine knows about Clio's API comes from here: the operations (one per
path and method, named by Clio's ``Model#action`` operationId), the models (``X_base``
scalar fields plus the association properties of ``X``) and the API minor versions.
The index is plain data, so it pickles; :mod:`mockserver.speccache` keeps it on disk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
CRUD_ACTIONS = frozenset({"index", "show", "create", "update", "destroy"})


class SpecError(Exception):
    """The spec is missing, unreadable or not an OpenAPI document (one-line message)."""


@dataclass
class Param:
    """One declared parameter of an operation."""

    name: str
    location: str  # "path" | "query" | "header"
    schema: dict[str, Any]
    required: bool = False
    description: str = ""


@dataclass
class Association:
    """A property of a model that points at another schema (``Matter.client -> Contact``).

    ``target`` is the model name without ``_base``; ``stored`` tells whether the target has
    records of its own (a reference by id) or is an embedded value kept inside the owner.
    """

    name: str
    target: str
    schema_name: str
    many: bool
    stored: bool = False


@dataclass
class Model:
    """A Clio model as the spec describes it: scalar fields and associations."""

    name: str
    fields: dict[str, dict[str, Any]]  # scalar properties (from X_base), resolved
    associations: dict[str, Association] = field(default_factory=dict)
    stored: bool = False  # has records of its own (some operation lists/shows/creates it)

    @property
    def default_fields(self) -> list[str]:
        """Clio's default ``fields``: id and etag where the model has them."""
        found = [f for f in ("id", "etag") if f in self.fields]
        return found or list(self.fields)


@dataclass
class Operation:
    """One operation of the spec, with everything the engine needs to serve it."""

    operation_id: str
    method: str  # upper case
    path: str  # the spec's template, with .json
    model: str  # the stored model it acts on (from the response schema)
    action: str  # index/show/create/update/destroy or a custom action name
    params: dict[str, Param]
    path_params: list[str]
    request_schema: dict[str, Any] | None
    request_content_types: list[str]
    success_status: int
    response_schema: dict[str, Any] | None  # resolved schema of the success body
    response_content_type: str | None
    responses: dict[int, dict[str, Any] | None]  # status -> resolved schema (None: no body)
    list_response: bool = False  # success body is {"data": [...]}
    areas: tuple[str, ...] = ()  # permission areas (the spec's x-tagGroups holding its tag)

    @property
    def parent_params(self) -> list[str]:
        """Path parameters other than the record's own ``id`` (``matter_id``...)."""
        return [p for p in self.path_params if p != "id"]

    def limit_range(self) -> tuple[int, int]:
        """(minimum, maximum) accepted for ``limit``; default is the maximum."""
        param = self.params.get("limit")
        if param is None:
            return 1, 200
        # Clio states the range in prose: "Limit can range between 1 and 2000."
        m = re.search(r"between (\d+) and (\d+)", param.description)
        if m:
            return int(m.group(1)), int(m.group(2))
        return int(param.schema.get("minimum", 1)), int(param.schema.get("maximum", 200))

    def default_order(self) -> str:
        """The default ``order``: stated in prose ("Default: `date(asc)`"), else ``id(asc)``."""
        param = self.params.get("order")
        if param is None:
            return "id(asc)"
        m = re.search(r"Default: `([\w.]+\((?:asc|desc)\))`", param.description)
        return m.group(1) if m else param.schema.get("default") or "id(asc)"


@dataclass
class ApiVersions:
    """Clio's API minor versions as the spec's "Minor Versions" section lists them."""

    listed: list[str]
    default: str

    def accepts(self, version: str) -> bool:
        """Known 4.0.x up to the newest listed; anything else is 410 Gone."""
        m = re.fullmatch(r"4\.0\.(\d+)", version)
        return bool(m) and int(m.group(1)) <= max(int(v.split(".")[2]) for v in self.listed)


@dataclass
class SpecIndex:
    """The indexed form of one spec document."""

    sha256: str
    title: str
    operations: list[Operation]
    models: dict[str, Model]
    schemas: dict[str, dict[str, Any]]  # resolved component schemas
    versions: ApiVersions
    servers: list[str]

    def hosts(self) -> list[str]:
        """Clio's hosts, one per region, from ``servers`` (app.clio.com, eu., ca., au.; just
        ``app.clio.com`` when the document lists none)."""
        from urllib.parse import urlsplit

        found = dict.fromkeys(h.lower() for h in (urlsplit(url).hostname for url in self.servers) if h)
        return list(found) or ["app.clio.com"]

    def collection_model(self, prefix: str) -> str | None:
        """The model listed at ``prefix.json`` (``/matters`` -> Matter). Used at start-up only."""
        for op in self.operations:
            if op.action == "index" and op.path == f"{prefix}.json":
                return op.model
        return None

    def model_for_id_field(self, name: str) -> str | None:
        """The stored model a ``<model>_id`` field names (``document_id`` -> Document)."""
        if not name.endswith("_id"):
            return None
        stem = name[:-3]
        return next((m for m, model in self.models.items() if model.stored and snake(m) == stem), None)


# --------------------------------------------------------------------------- loading


def parse_spec_bytes(raw: bytes, origin: str) -> dict[str, Any]:
    """Parse and sanity-check a spec document, leniently (Clio's fails strict validation)."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise SpecError(f"{origin} is not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or "paths" not in doc or "openapi" not in doc:
        raise SpecError(f"{origin} is not an OpenAPI document (no 'openapi' and 'paths' keys)")
    if not str(doc["openapi"]).startswith("3."):
        raise SpecError(f"{origin} is OpenAPI {doc['openapi']}; clio-mock reads OpenAPI 3.x")
    return doc


# --------------------------------------------------------------------------- resolving


class _Resolver:
    """Inlines ``#/components/schemas/...`` references, memoised per schema name."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.raw = doc.get("components", {}).get("schemas", {})
        self.done: dict[str, dict[str, Any]] = {}
        self.active: set[str] = set()

    def schema(self, name: str) -> dict[str, Any]:
        if name in self.done:
            return self.done[name]
        if name in self.active:  # a cycle: leave an open object rather than recurse forever
            return {"type": "object"}
        self.active.add(name)
        resolved = self.resolve(self.raw.get(name, {"type": "object"}))
        self.active.discard(name)
        self.done[name] = resolved
        return resolved

    def resolve(self, node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                target = self.schema(ref.rsplit("/", 1)[1])
                extra = {k: v for k, v in node.items() if k not in ("$ref", "description")}
                return {**target, **extra} if extra else target
            return {k: self.resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self.resolve(v) for v in node]
        return node


def flatten(schema: dict[str, Any]) -> dict[str, Any]:
    """Merge an ``allOf`` into one object schema (properties and required)."""
    if "allOf" not in schema:
        return schema
    props: dict[str, Any] = {}
    required: list[str] = []
    for part in schema["allOf"]:
        part = flatten(part)
        props.update(part.get("properties", {}))
        required += part.get("required", [])
    out = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


def _ref_name(node: dict[str, Any]) -> str | None:
    ref = node.get("$ref")
    return ref.rsplit("/", 1)[1] if isinstance(ref, str) else None


# --------------------------------------------------------------------------- indexing


def build_index(doc: dict[str, Any], sha256: str) -> SpecIndex:
    """Index a parsed spec document into operations, models and versions."""
    resolver = _Resolver(doc)
    raw_schemas = doc.get("components", {}).get("schemas", {})
    areas_by_tag: dict[str, list[str]] = {}
    for group in doc.get("x-tagGroups", []):
        for tag in group.get("tags", []):
            areas_by_tag.setdefault(tag, []).append(area_name(group.get("name", "")))
    operations = [
        op
        for path, item in doc["paths"].items()
        if path.endswith(".json") or f"{path}.json" not in doc["paths"]
        for method, raw in item.items()
        if method in HTTP_METHODS and isinstance(raw, dict)
        for op in [_operation(path, method, raw, resolver, areas_by_tag)]
    ]
    models = _models(raw_schemas, resolver, operations)
    schemas = {name: flatten(resolver.schema(name)) for name in raw_schemas}
    return SpecIndex(
        sha256=sha256,
        title=str(doc.get("info", {}).get("title", "")),
        operations=operations,
        models=models,
        schemas=schemas,
        versions=_versions(doc),
        servers=[s.get("url", "") for s in doc.get("servers", []) if isinstance(s, dict)],
    )


def area_name(group: str) -> str:
    """A permission area's machine name: ``Clio Payments`` -> ``clio_payments``."""
    return re.sub(r"[^a-z0-9]+", "_", group.lower()).strip("_")


def _operation(path: str, method: str, raw: dict[str, Any], resolver: _Resolver, areas_by_tag: dict[str, list[str]]) -> Operation:
    op_id = str(raw.get("operationId") or f"{path}#{method}")
    name, _, action = op_id.partition("#")
    params = {}
    for p in raw.get("parameters", []):
        p = resolver.resolve(p)
        params[p["name"]] = Param(p["name"], p.get("in", "query"), p.get("schema", {}), bool(p.get("required")), str(p.get("description", "")))
    success, content_type, schema_name, schema = _success(raw, resolver)
    model = _model_name(schema_name, name)
    body = raw.get("requestBody", {}).get("content", {})
    request_schema = None
    if body:
        first = body.get("application/json") or next(iter(body.values()))
        request_schema = resolver.resolve(first.get("schema", {}))
    responses = {}
    for status, resp in raw.get("responses", {}).items():
        if str(status).isdigit():
            content = (resp or {}).get("content") or {}
            sch = next(iter(content.values()), {}).get("schema") if content else None
            responses[int(status)] = resolver.resolve(sch) if sch else None
    list_response = bool(schema) and flatten(schema).get("properties", {}).get("data", {}).get("type") == "array"
    return Operation(
        operation_id=op_id,
        method=method.upper(),
        path=path,
        model=model,
        action=action or method,
        params=params,
        path_params=re.findall(r"{(\w+)}", path),
        request_schema=request_schema,
        request_content_types=list(body),
        success_status=success,
        response_schema=schema,
        response_content_type=content_type,
        responses=responses,
        areas=tuple(a for tag in raw.get("tags", []) for a in areas_by_tag.get(tag, [area_name(tag)])),
        list_response=list_response,
    )


def _success(raw: dict[str, Any], resolver: _Resolver) -> tuple[int, str | None, str | None, dict | None]:
    """(status, content type, schema name, resolved schema) of the success response."""
    codes = sorted(int(c) for c in raw.get("responses", {}) if str(c).isdigit() and 200 <= int(c) < 400)
    status = codes[0] if codes else 200
    content = (raw["responses"].get(str(status)) or {}).get("content") or {}
    if not content:
        return status, None, None, None
    content_type, media = next(iter(content.items()))
    sch = media.get("schema", {})
    return status, content_type, _ref_name(sch), resolver.resolve(sch)


def _model_name(schema_name: str | None, op_model: str) -> str:
    """``Matter_Show`` -> ``Matter``; without a body schema, the operationId's model."""
    if schema_name:
        return re.sub(r"_(Show|List|base)$", "", schema_name)
    return op_model.replace("::", "")


def _models(raw: dict[str, Any], resolver: _Resolver, operations: list[Operation]) -> dict[str, Model]:
    """Every ``X_base`` (and full ``X`` without a base) as a Model with its associations."""
    names = {n[:-5] for n in raw if n.endswith("_base")}
    names |= {op.model for op in operations if op.model in raw}
    # A model only listed under a parent that embeds it (a contact's email addresses) is
    # an embedded value, not a table of its own.
    stored = {op.model for op in operations if not (op.action == "index" and op.parent_params)}
    stored |= {op.model for op in operations if op.action == "index" and op.parent_params and not _embedded_in_parent(raw, op)}
    models: dict[str, Model] = {}
    for name in sorted(names):
        base = flatten(resolver.schema(f"{name}_base")) if f"{name}_base" in raw else None
        full = raw.get(name, {})
        scalars = dict((base or flatten(resolver.schema(name))).get("properties", {}))
        associations = {}
        for prop, node in _association_nodes(full):
            many = node.get("type") == "array"
            ref = _ref_name(node.get("items", {}) if many else node)
            if not ref:
                continue
            target = re.sub(r"_base$", "", ref)
            associations[prop] = Association(prop, target, ref, many, stored=target in stored)
            scalars.pop(prop, None)
        models[name] = Model(name, scalars, associations, stored=name in stored)
    return models


def _embedded_in_parent(raw: dict[str, Any], op: Operation) -> bool:
    """Whether the parent's full schema holds an array of the operation's model."""
    for schema in raw.values():
        for _, node in _association_nodes(schema):
            if node.get("type") == "array" and _ref_name(node.get("items", {})) in (op.model, f"{op.model}_base"):
                return True
    return False


def _association_nodes(full: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Property nodes of a full schema that reference other schemas (not inlined yet)."""
    parts = full.get("allOf", [full])
    found = []
    for part in parts:
        for prop, node in (part.get("properties") or {}).items():
            inner = node.get("items", {}) if node.get("type") == "array" else node
            if "$ref" in inner:
                found.append((prop, node))
    return found


def _versions(doc: dict[str, Any]) -> ApiVersions:
    """Parse the "Minor Versions" section of ``info.description``."""
    text = str(doc.get("info", {}).get("description", ""))
    section = text.split("# Minor Versions", 1)[-1]
    listed = re.findall(r"###\s*\[(4\.\d+\.\d+)\]", section)
    default = listed[-1] if listed else "4.0.0"
    for version, body in zip(listed, re.split(r"###\s*\[4\.\d+\.\d+\]\([^)]*\)", section)[1:]):
        if "default version" in body.lower():
            default = version
    return ApiVersions(listed or [default], default)


def snake(name: str) -> str:
    """``CalendarEntry`` -> ``calendar_entry``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass(frozen=True)
class ParentLink:
    """How a nested collection's records point at their parent (``/matters/{matter_id}/...``)."""

    param: str  # the path parameter carrying the parent's id
    parent: str  # the parent model
    key: str  # the child record key holding the parent id (an association, a scalar, or hidden)


def parent_links(index: SpecIndex, op: Operation) -> list[ParentLink]:
    """The parent links of an operation's path parameters (all but a member's own id)."""
    params = op.path_params if op.action in ("index", "ids", "list") else op.parent_params
    if op.action not in ("index", "ids", "list") and "id" not in op.path_params:
        params = op.path_params  # nested singletons like /matters/{matter_id}/client
    links = []
    for param in params:
        prefix = op.path.split("/{" + param + "}", 1)[0]
        parent = index.collection_model(prefix)
        if parent is None:
            continue
        child = index.models.get(op.model)
        key = f"_{param}"
        if child is not None:
            assoc = next((a for a in child.associations.values() if a.target == parent and a.stored and not a.many), None)
            if assoc is not None:
                key = assoc.name
            elif f"{snake(parent)}_id" in child.fields:
                key = f"{snake(parent)}_id"
            elif param in child.fields:
                key = param
        links.append(ParentLink(param, parent, key))
    return links
