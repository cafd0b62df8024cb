"""Clio's spec as the kit feeds it to schemathesis: leniently loaded, lightly amended.

Two amendments, both recorded in :class:`Prepared` so reports can show them:

* **Header parameters are the kit's business.** ``X-API-VERSION``, ``IF-MATCH``,
  ``IF-NONE-MATCH`` and ``IF-MODIFIED-SINCE`` are dropped from generation: random values
  only produce 410 (unknown version) or 412, which says nothing about the operation. The
  kit sends them itself where they mean something (the conditional-request checks).
* **Links.** Clio's spec declares no OpenAPI links, so the kit adds them: a create's 201
  links to the record's show, update and destroy; an update's 200 to show and destroy; a
  destroy's 204 to show (which must then be 404). The stateful sequences walk these links,
  and schemathesis's own state machine sees them as transitions.

The document is never written anywhere; Clio's file stays where it is.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from mockserver.spec.index import HTTP_METHODS, Operation, SpecIndex, parse_spec_bytes
from mockserver.spec.source import read_spec_bytes

KIT_HEADERS = frozenset({"x-api-version", "if-match", "if-none-match", "if-modified-since"})
LINK_BY_ID = "$response.body#/data/id"
LINK_SAME_ID = "$request.path.id"


@dataclass
class CrudSet:
    """The operations of one model that a create -> ... -> destroy sequence uses."""

    model: str
    create: Operation
    show: Operation | None = None
    update: Operation | None = None
    destroy: Operation | None = None

    @property
    def complete(self) -> bool:
        return self.show is not None and self.destroy is not None


@dataclass
class Prepared:
    """The amended document and what was changed."""

    document: dict[str, Any]
    removed_headers: int = 0
    links: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # operationId -> name -> link
    crud: dict[str, CrudSet] = field(default_factory=dict)  # model -> its CRUD operations

    @property
    def link_count(self) -> int:
        return sum(len(v) for v in self.links.values())


def load_document(location: str) -> dict[str, Any]:
    """Clio's spec from a path or URL, parsed without strict validation (it fails it)."""
    return parse_spec_bytes(read_spec_bytes(location), location)


def member_path(op: Operation) -> str:
    """Where a created record lives: ``/contacts.json`` -> ``/contacts/{id}.json``."""
    return op.path[: -len(".json")] + "/{id}.json" if op.path.endswith(".json") else op.path + "/{id}"


def crud_sets(index: SpecIndex) -> dict[str, CrudSet]:
    """Per model: its create and the show/update/destroy of the records it creates.

    A singleton (``/timer.json``) has show and destroy at the create's own path.
    """
    by_key = {(op.method, op.path): op for op in index.operations}
    sets: dict[str, CrudSet] = {}
    for op in index.operations:
        if op.action != "create" or op.method != "POST" or op.parent_params or "id" in op.path_params:
            continue
        member = member_path(op)
        crud = CrudSet(op.model, op)
        for method, attr in (("GET", "show"), ("PATCH", "update"), ("DELETE", "destroy")):
            target = by_key.get((method, member))
            if target is None and (method, op.path) in by_key and by_key[(method, op.path)].action in (attr, "show", "update", "destroy"):
                target = by_key[(method, op.path)]  # a singleton: /timer.json
            if target is not None and target.action == attr:
                setattr(crud, attr, target)
        sets.setdefault(op.model, crud)
    return sets


def prepare(document: dict[str, Any], index: SpecIndex) -> Prepared:
    """A deep copy of ``document`` with kit-managed headers removed and CRUD links added."""
    doc = copy.deepcopy(document)
    prepared = Prepared(doc)
    for item in doc.get("paths", {}).values():
        if not isinstance(item, dict):
            continue
        prepared.removed_headers += _drop_headers(item)
        for method in HTTP_METHODS:
            if isinstance(item.get(method), dict):
                prepared.removed_headers += _drop_headers(item[method])
    prepared.crud = crud_sets(index)
    for crud in prepared.crud.values():
        _add_links(doc, prepared, crud)
    return prepared


def _drop_headers(node: dict[str, Any]) -> int:
    params = node.get("parameters")
    if not isinstance(params, list):
        return 0
    kept = [p for p in params if not (isinstance(p, dict) and p.get("in") == "header" and str(p.get("name", "")).lower() in KIT_HEADERS)]
    node["parameters"] = kept
    return len(params) - len(kept)


def _id_parameter(target: Operation, expression: str) -> dict[str, str]:
    return {"path.id": expression} if "id" in target.path_params else {}


def _add_links(doc: dict[str, Any], prepared: Prepared, crud: CrudSet) -> None:
    plan: list[tuple[Operation, str, list[tuple[str, Operation | None]]]] = [
        (crud.create, LINK_BY_ID, [("show", crud.show), ("update", crud.update), ("destroy", crud.destroy)]),
    ]
    if crud.update is not None:
        plan.append((crud.update, LINK_SAME_ID, [("show", crud.show), ("destroy", crud.destroy)]))
    if crud.destroy is not None:
        plan.append((crud.destroy, LINK_SAME_ID, [("show", crud.show)]))
    for source, expression, targets in plan:
        raw = doc["paths"][source.path][source.method.lower()]
        response = raw.setdefault("responses", {}).setdefault(str(source.success_status), {"description": "Success"})
        links = response.setdefault("links", {})
        for name, target in targets:
            if target is None:
                continue
            link = {"operationId": target.operation_id, "parameters": _id_parameter(target, expression), "description": f"kit-added: {name} the record"}
            links[name] = link
            prepared.links.setdefault(source.operation_id, {})[name] = link


def evaluate(expression: str, request_path: dict[str, Any], response_body: Any) -> Any:
    """The value of a link expression: ``$response.body#/a/b`` or ``$request.path.name``."""
    if expression.startswith("$request.path."):
        return request_path.get(expression[len("$request.path."):])
    if expression.startswith("$response.body#"):
        node = response_body
        pointer = expression[len("$response.body#"):]
        for part in [p for p in pointer.split("/") if p]:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, list):
                node = node[int(part)] if part.isdigit() and int(part) < len(node) else None
            elif isinstance(node, dict):
                node = node.get(part)
            else:
                return None
        return node
    raise ValueError(f"unsupported link expression {expression!r}")


def link_parameters(link: dict[str, Any], request_path: dict[str, Any], response_body: Any) -> dict[str, Any]:
    """Path parameters for following ``link`` from a request/response pair."""
    values = {}
    for name, expression in (link.get("parameters") or {}).items():
        values[name.split(".", 1)[-1]] = evaluate(expression, request_path, response_body)
    return values


def load_schema(prepared: Prepared):
    """The amended document as a schemathesis schema (imported lazily: it is heavy)."""
    import schemathesis
    from schemathesis.config import SchemathesisConfig

    config = SchemathesisConfig()  # not discovered from the working directory: runs are reproducible
    return schemathesis.openapi.from_dict(prepared.document, config=config)
