"""Spec drift: what changed between two versions of Clio's OpenAPI document.

Backs ``clio-mock spec diff OLD NEW``. :func:`diff_specs` compares two parsed documents and
returns a :class:`SpecDiff` listing operations and component schemas that were added,
removed or changed. Only what matters to a mock is compared:

* operations: the ``.json`` paths (a bare ``/x`` only when ``/x.json`` does not exist) and
  the methods get/post/put/patch/delete; per operation the parameters (type, format,
  required), the fields of the ``application/json`` request body's ``data`` object, the
  response status codes and the schema named by a 200/201 response;
* component schemas: their own properties (inline ``allOf`` parts included, ``$ref``'d
  parts are schemas of their own) and each property's type, format and enum.

Descriptions, examples and other prose are ignored.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from mockserver.spec.index import HTTP_METHODS, SpecError, parse_spec_bytes
from mockserver.spec.source import read_spec_bytes

SCHEMA_REF_PREFIX = "#/components/schemas/"
SUCCESS_CODES = ("200", "201")


class SpecLoadError(SpecError):
    """A spec to diff is missing, unreadable, not JSON or not an OpenAPI document."""


# --------------------------------------------------------------------------- result types


@dataclass
class OperationDiff:
    """How one operation present in both documents differs."""

    params_added: list[str] = field(default_factory=list)  # "name (in): type"
    params_removed: list[str] = field(default_factory=list)  # "name (in)"
    params_changed: dict[str, str] = field(default_factory=dict)  # "name (in)" -> what changed
    body_fields_added: list[str] = field(default_factory=list)
    body_fields_removed: list[str] = field(default_factory=list)
    statuses_added: list[str] = field(default_factory=list)
    statuses_removed: list[str] = field(default_factory=list)
    response_schemas_changed: dict[str, str] = field(default_factory=dict)  # "200" -> "A -> B"

    def is_empty(self) -> bool:
        """True when nothing compared differs."""
        return not any(asdict(self).values())

    def lines(self) -> list[str]:
        """One readable line per difference."""
        out = [f"parameter added: {p}" for p in self.params_added]
        out += [f"parameter removed: {p}" for p in self.params_removed]
        out += [f"parameter changed: {p}: {what}" for p, what in self.params_changed.items()]
        out += [f"request body field added: {f}" for f in self.body_fields_added]
        out += [f"request body field removed: {f}" for f in self.body_fields_removed]
        out += [f"response status added: {s}" for s in self.statuses_added]
        out += [f"response status removed: {s}" for s in self.statuses_removed]
        out += [f"response {s} schema changed: {what}" for s, what in self.response_schemas_changed.items()]
        return out


@dataclass
class SchemaDiff:
    """How one component schema present in both documents differs."""

    properties_added: list[str] = field(default_factory=list)  # "name: type"
    properties_removed: list[str] = field(default_factory=list)
    properties_changed: dict[str, str] = field(default_factory=dict)  # name -> what changed

    def is_empty(self) -> bool:
        """True when no property was added, removed or changed."""
        return not any(asdict(self).values())

    def lines(self) -> list[str]:
        """One readable line per difference."""
        out = [f"field added: {p}" for p in self.properties_added]
        out += [f"field removed: {p}" for p in self.properties_removed]
        out += [f"field changed: {p}: {what}" for p, what in self.properties_changed.items()]
        return out


@dataclass
class SpecDiff:
    """The drift between two OpenAPI documents."""

    added_operations: list[str] = field(default_factory=list)  # "GET /path (Model#action)"
    removed_operations: list[str] = field(default_factory=list)
    changed_operations: dict[str, OperationDiff] = field(default_factory=dict)  # "GET /path" -> diff
    added_schemas: list[str] = field(default_factory=list)
    removed_schemas: list[str] = field(default_factory=list)
    changed_schemas: dict[str, SchemaDiff] = field(default_factory=dict)

    def is_empty(self) -> bool:
        """True when the two documents agree on everything compared."""
        return not any(asdict(self).values())

    def counts(self) -> dict[str, int]:
        """How many operations and schemas were added, removed and changed."""
        return {
            "operations_added": len(self.added_operations),
            "operations_removed": len(self.removed_operations),
            "operations_changed": len(self.changed_operations),
            "schemas_added": len(self.added_schemas),
            "schemas_removed": len(self.removed_schemas),
            "schemas_changed": len(self.changed_schemas),
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-serialisable), with the counts under ``summary``."""
        return {**asdict(self), "summary": self.counts()}

    def summary(self) -> str:
        """The one-line count summary that ends :meth:`to_text`."""
        c = self.counts()
        return (
            f"Summary: operations {c['operations_added']} added, {c['operations_removed']} removed, "
            f"{c['operations_changed']} changed; schemas {c['schemas_added']} added, "
            f"{c['schemas_removed']} removed, {c['schemas_changed']} changed"
        )

    def to_text(self) -> str:
        """A readable report grouped by operations and schemas, ending with the summary."""
        out: list[str] = []
        if self.is_empty():
            out.append("No differences.")
        _section(out, "Operations added", [f"+ {op}" for op in self.added_operations])
        _section(out, "Operations removed", [f"- {op}" for op in self.removed_operations])
        _changed_section(out, "Operations changed", {k: d.lines() for k, d in self.changed_operations.items()})
        _section(out, "Schemas added", [f"+ {name}" for name in self.added_schemas])
        _section(out, "Schemas removed", [f"- {name}" for name in self.removed_schemas])
        _changed_section(out, "Schemas changed", {k: d.lines() for k, d in self.changed_schemas.items()})
        out.append(self.summary())
        return "\n".join(out)


def _section(out: list[str], title: str, items: list[str]) -> None:
    """Append a titled list of one-line items; nothing when the list is empty."""
    if items:
        out.append(f"{title} ({len(items)}):")
        out.extend(f"  {item}" for item in items)
        out.append("")


def _changed_section(out: list[str], title: str, changes: dict[str, list[str]]) -> None:
    """Append a titled list of changed things, each followed by its indented details."""
    if changes:
        out.append(f"{title} ({len(changes)}):")
        for name, details in changes.items():
            out.append(f"  ~ {name}")
            out.extend(f"      {line}" for line in details)
        out.append("")


# --------------------------------------------------------------------------- loading


def load_spec_document(path_or_url: str) -> dict[str, Any]:
    """Read an OpenAPI JSON document from a file path or an http(s) URL.

    Raises :class:`SpecLoadError` with a one-line message when the file is missing or
    unreadable, the download fails, the content is not JSON, or it is not an OpenAPI 3
    document (no ``openapi`` and ``paths`` keys).
    """
    try:
        return parse_spec_bytes(read_spec_bytes(path_or_url), path_or_url)
    except SpecError as exc:
        raise SpecLoadError(str(exc).splitlines()[0]) from None


# --------------------------------------------------------------------------- resolving


def _ref_name(node: Any) -> str | None:
    """The component schema name a ``{"$ref": ...}`` node points at, if any."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(SCHEMA_REF_PREFIX):
            return ref[len(SCHEMA_REF_PREFIX):]
    return None


def _resolve_ref(doc: dict[str, Any], node: Any) -> Any:
    """Follow a local ``$ref`` (``#/a/b/c``) chain to its target; cycles stop the chase."""
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if ref in seen or not ref.startswith("#/"):
            return {}
        seen.add(ref)
        target: Any = doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, dict) else None
        node = target if target is not None else {}
    return node


def _object_properties(doc: dict[str, Any], schema: Any, seen: frozenset[str] = frozenset()) -> dict[str, Any]:
    """All properties of an object schema, following ``$ref`` and ``allOf`` (cycle-safe)."""
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    if ref in seen:
        return {}
    if ref:
        seen = seen | {ref}
    schema = _resolve_ref(doc, schema)
    if not isinstance(schema, dict):
        return {}
    props = dict(schema.get("properties") or {})
    for part in schema.get("allOf") or []:
        props.update(_object_properties(doc, part, seen))
    return props


def _own_properties(schema: Any) -> dict[str, Any]:
    """A component schema's own properties: ``properties`` plus inline ``allOf`` parts."""
    if not isinstance(schema, dict):
        return {}
    props = dict(schema.get("properties") or {})
    for part in schema.get("allOf") or []:
        if isinstance(part, dict) and "$ref" not in part:
            props.update(_own_properties(part))
    return props


# --------------------------------------------------------------------------- describing


def _type_of(schema: Any) -> str:
    """A short type label: ``integer/int64``, ``Contact_base``, ``array of string``, ..."""
    if not isinstance(schema, dict):
        return "any"
    name = _ref_name(schema)
    if name:
        return name
    kind = schema.get("type")
    if kind == "array":
        return f"array of {_type_of(schema.get('items'))}"
    if kind is None:
        return "object" if "properties" in schema or "allOf" in schema else "any"
    return f"{kind}/{schema['format']}" if schema.get("format") else str(kind)


def _enum_of(schema: Any) -> list[Any] | None:
    """The enum of a schema, or of its array items."""
    if not isinstance(schema, dict):
        return None
    if "enum" in schema:
        return list(schema["enum"])
    items = schema.get("items")
    return list(items["enum"]) if isinstance(items, dict) and "enum" in items else None


def _property_change(old: Any, new: Any) -> str | None:
    """What changed in one property's type/format/enum, or None when nothing did."""
    changes = []
    if _type_of(old) != _type_of(new):
        changes.append(f"type {_type_of(old)} -> {_type_of(new)}")
    old_enum, new_enum = _enum_of(old), _enum_of(new)
    if old_enum != new_enum:
        changes.append(_enum_change(old_enum, new_enum))
    return "; ".join(changes) or None


def _enum_change(old: list[Any] | None, new: list[Any] | None) -> str:
    """Describe an enum change as values added/removed (or enum added/removed)."""
    if old is None:
        return f"enum added {new}"
    if new is None:
        return "enum removed"
    added = [v for v in new if v not in old]
    removed = [v for v in old if v not in new]
    parts = [f"+{added}"] if added else []
    parts += [f"-{removed}"] if removed else []
    return "enum " + (" ".join(parts) if parts else "reordered")


# --------------------------------------------------------------------------- operations


def _operations(doc: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any], dict[str, Any]]]:
    """``"METHOD /path"`` -> (path, path item, operation) for the paths worth comparing."""
    paths = doc.get("paths") or {}
    ops = {}
    for path, item in paths.items():
        if not path.endswith(".json") and f"{path}.json" in paths:
            continue  # the bare twin of a .json path
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            if isinstance(item.get(method), dict):
                ops[f"{method.upper()} {path}"] = (path, item, item[method])
    return ops


def _label(key: str, operation: dict[str, Any]) -> str:
    """``"GET /path (Model#action)"``, or just the key when there is no operationId."""
    op_id = operation.get("operationId")
    return f"{key} ({op_id})" if op_id else key


def _parameters(doc: dict[str, Any], item: dict[str, Any], operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``"name (in)"`` -> parameter, path-level ones overridden by the operation's."""
    params = {}
    for raw in [*(item.get("parameters") or []), *(operation.get("parameters") or [])]:
        param = _resolve_ref(doc, raw)
        if isinstance(param, dict) and "name" in param:
            params[f"{param['name']} ({param.get('in', '?')})"] = param
    return params


def _param_change(
    doc_old: dict[str, Any], old: dict[str, Any], doc_new: dict[str, Any], new: dict[str, Any]
) -> str | None:
    """What changed in a parameter's type, format, enum or required flag."""
    changes = []
    schema_change = _property_change(_resolve_ref(doc_old, old.get("schema")), _resolve_ref(doc_new, new.get("schema")))
    if schema_change:
        changes.append(schema_change)
    old_required, new_required = bool(old.get("required")), bool(new.get("required"))
    if old_required != new_required:
        changes.append(f"required {str(old_required).lower()} -> {str(new_required).lower()}")
    return "; ".join(changes) or None


def _body_fields(doc: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    """The field names of the ``application/json`` request body's ``data`` object."""
    body = _resolve_ref(doc, operation.get("requestBody"))
    content = body.get("content") if isinstance(body, dict) else None
    if not isinstance(content, dict):
        return set()
    media = next((v for k, v in content.items() if k.split(";")[0].strip() == "application/json"), None)
    if not isinstance(media, dict):
        return set()
    data = _object_properties(doc, media.get("schema")).get("data")
    return set(_object_properties(doc, data)) if data is not None else set()


def _responses(doc: dict[str, Any], operation: dict[str, Any]) -> dict[str, str | None]:
    """Status code -> the schema named by its body (only looked at for 200/201)."""
    out: dict[str, str | None] = {}
    for code, response in (operation.get("responses") or {}).items():
        code = str(code)
        out[code] = _response_schema_name(doc, response) if code in SUCCESS_CODES else None
    return out


def _response_schema_name(doc: dict[str, Any], response: Any) -> str | None:
    """The component schema a response body refers to (first content type that has one)."""
    response = _resolve_ref(doc, response)
    content = response.get("content") if isinstance(response, dict) else None
    for media in (content or {}).values():
        schema = media.get("schema") if isinstance(media, dict) else None
        if schema is not None:
            return _ref_name(schema) or _type_of(schema)
    return None


def _diff_parameters(diff: OperationDiff, doc_old: dict, doc_new: dict, old: tuple, new: tuple) -> None:
    """Fill in the parameters added, removed and changed."""
    old_params = _parameters(doc_old, old[1], old[2])
    new_params = _parameters(doc_new, new[1], new[2])
    for key in sorted(new_params.keys() - old_params.keys()):
        kind = _type_of(_resolve_ref(doc_new, new_params[key].get("schema")))
        diff.params_added.append(f"{key}: {kind}")
    diff.params_removed = sorted(old_params.keys() - new_params.keys())
    for key in sorted(old_params.keys() & new_params.keys()):
        change = _param_change(doc_old, old_params[key], doc_new, new_params[key])
        if change:
            diff.params_changed[key] = change


def _diff_operation(doc_old: dict, doc_new: dict, old: tuple, new: tuple) -> OperationDiff:
    """Compare one operation present in both documents."""
    diff = OperationDiff()
    _diff_parameters(diff, doc_old, doc_new, old, new)
    old_fields, new_fields = _body_fields(doc_old, old[2]), _body_fields(doc_new, new[2])
    diff.body_fields_added = sorted(new_fields - old_fields)
    diff.body_fields_removed = sorted(old_fields - new_fields)
    old_resp, new_resp = _responses(doc_old, old[2]), _responses(doc_new, new[2])
    diff.statuses_added = sorted(new_resp.keys() - old_resp.keys())
    diff.statuses_removed = sorted(old_resp.keys() - new_resp.keys())
    for code in sorted(old_resp.keys() & new_resp.keys()):
        if old_resp[code] != new_resp[code]:
            diff.response_schemas_changed[code] = f"{old_resp[code]} -> {new_resp[code]}"
    return diff


# --------------------------------------------------------------------------- schemas


def _schemas(doc: dict[str, Any]) -> dict[str, Any]:
    """The document's component schemas."""
    return (doc.get("components") or {}).get("schemas") or {}


def _diff_schema(old: Any, new: Any) -> SchemaDiff:
    """Compare the own properties of one component schema present in both documents."""
    old_props, new_props = _own_properties(old), _own_properties(new)
    diff = SchemaDiff()
    diff.properties_added = [f"{n}: {_type_of(new_props[n])}" for n in sorted(new_props.keys() - old_props.keys())]
    diff.properties_removed = sorted(old_props.keys() - new_props.keys())
    for name in sorted(old_props.keys() & new_props.keys()):
        change = _property_change(old_props[name], new_props[name])
        if change:
            diff.properties_changed[name] = change
    return diff


# --------------------------------------------------------------------------- entry point


def diff_specs(old: dict[str, Any], new: dict[str, Any]) -> SpecDiff:
    """Compare two OpenAPI 3 documents; the result lists what ``new`` changes in ``old``."""
    result = SpecDiff()
    old_ops, new_ops = _operations(old), _operations(new)
    added = sorted(new_ops.keys() - old_ops.keys(), key=_op_sort)
    removed = sorted(old_ops.keys() - new_ops.keys(), key=_op_sort)
    result.added_operations = [_label(k, new_ops[k][2]) for k in added]
    result.removed_operations = [_label(k, old_ops[k][2]) for k in removed]
    for key in sorted(old_ops.keys() & new_ops.keys(), key=_op_sort):
        op_diff = _diff_operation(old, new, old_ops[key], new_ops[key])
        if not op_diff.is_empty():
            result.changed_operations[key] = op_diff
    old_schemas, new_schemas = _schemas(old), _schemas(new)
    result.added_schemas = sorted(new_schemas.keys() - old_schemas.keys())
    result.removed_schemas = sorted(old_schemas.keys() - new_schemas.keys())
    for name in sorted(old_schemas.keys() & new_schemas.keys()):
        schema_diff = _diff_schema(old_schemas[name], new_schemas[name])
        if not schema_diff.is_empty():
            result.changed_schemas[name] = schema_diff
    return result


def _op_sort(key: str) -> tuple[str, int]:
    """Sort operations by path, then in GET/POST/PUT/PATCH/DELETE order."""
    method, _, path = key.partition(" ")
    order = HTTP_METHODS.index(method.lower()) if method.lower() in HTTP_METHODS else len(HTTP_METHODS)
    return path, order
