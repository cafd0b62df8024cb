"""Write bodies judged as Clio judges them: by the operation's *request* schema and its prose.

Clio's request schemas are the contract for writes; the record (response) schemas are often
stricter or different (a phone number named ``Mobile`` is writable, though the record's enum
lists only Work, Personal and Other). :class:`WriteSchema` turns an operation's request schema
into the schema the mock validates against, with the leniencies and rules the spec states in
prose, each named after its allowance (:mod:`mockserver.spec.allowances`):

* ``date-leniency``: a field whose description says "Expects an ISO-8601 date" (or
  date-time, timestamp) takes a date or a date-time; the writer stores it as the record types it.
* ``null-association``: where an ``id`` says "Use the keyword `null` to specify no
  association", ``{"id": null}`` and ``null`` clear the association.
* ``null-optional``: ``null`` for an optional field means "no value" (omitted on create,
  cleared on update); real clients send it (``"expires_at": null`` on a webhook).
* ``conditional-required``: "Required only if the Note type is `"Matter"`" replaces the
  schema's blanket ``required`` with a requirement on that type.
* ``string-ids``: a nested ``id`` the record types as a string (a custom field value's
  composite ``"text_line-1"``) is accepted as a string, though the request types it as an integer.
* ``record-enum``: where the request names no value set but the record's field has an enum
  (Note ``detail_text_type``), the record's enum is the only statement of what is valid.
* value ranges: integers fit 64 bits signed (32 where the format says ``int32``), numbers are
  finite and within 64-bit magnitude (anywhere in the body, :func:`out_of_range`), so nothing
  stored can later fail to read back.

Fields a documented rule replaces (the Person first/last-name rule replaces Contact ``name``)
are dropped from ``required`` through :attr:`RecordWriter.replaced_required`.

Read-only fields (``id``, ``etag``, timestamps, anything the request schema does not list)
are dropped from the body before it reaches the writer (:func:`writable`), as Rails' strong
parameters drop unpermitted attributes: a body never changes a record's identity. One
exception, ``scalar-twin``: ``client_id: 5`` is kept where the request lists ``client``
(it is read as ``client: {"id": 5}``).
"""

from __future__ import annotations

import math
import re
from typing import Any

from mockserver.spec.index import Model, Operation, SpecIndex, flatten

INT64 = (-(2**63), 2**63 - 1)
INT32 = (-(2**31), 2**31 - 1)
NULL_ASSOCIATION = "Use the keyword `null` to specify no association"
NULL_NOT_VALID = re.compile(r"keyword `?null`? is not valid", re.I)
EXPECTS_DATE = re.compile(r"Expects an ISO-8601 (date-time|date|timestamp)", re.I)
REQUIRED_IF_TYPE = re.compile(r'Required only if the \w+ type is `"?(\w+)"?`')
DATE_OR_TIME = [{"format": "date"}, {"format": "date-time"}]


class WriteSchema:
    """Builds (and caches) the judged request schema of each write operation."""

    def __init__(self, index: SpecIndex, replaced_required: dict[str, dict[str, str]] | None = None) -> None:
        self.index = index
        # model -> {field: reason}: required fields a documented rule replaces (shared, live)
        self.replaced_required = replaced_required if replaced_required is not None else {}
        self.cache: dict[str, dict[str, Any]] = {}

    def for_operation(self, op: Operation) -> dict[str, Any] | None:
        """The schema a body of ``op`` is validated against (``None``: the op takes no body)."""
        if op.request_schema is None:
            return None
        found = self.cache.get(op.operation_id)
        if found is None:
            found = self._build(op)
            self.cache[op.operation_id] = found
        return found

    def _build(self, op: Operation) -> dict[str, Any]:
        root = flatten(op.request_schema or {})
        props = dict(root.get("properties") or {})
        data = props.get("data")
        if isinstance(data, dict):
            model = self.index.models.get(op.model)
            data = self._object(data, model, top=True)
            replaced = self.replaced_required.get(op.model, {})
            if replaced and data.get("required"):
                data["required"] = [f for f in data["required"] if f not in replaced]
            props["data"] = data
        return {**root, "properties": props}

    def _object(self, schema: dict[str, Any], model: Model | None, top: bool = False) -> dict[str, Any]:
        schema = flatten(schema)
        required = list(schema.get("required") or [])
        props: dict[str, Any] = {}
        conditions: list[dict[str, Any]] = []
        for name, prop in (schema.get("properties") or {}).items():
            prop = flatten(prop) if isinstance(prop, dict) else {}
            if name == "id" and model is not None and model.fields.get("id", {}).get("type") == "string" and prop.get("type") == "integer":
                # string-ids: the record's id is a string (a custom field value's "text_line-1"),
                # though the request types it as an integer: both name the value
                prop = {**prop, "type": ["integer", "string"]}
                prop.pop("format", None)
            when = _required_if_type(prop)
            if top and when is not None and name in required:
                required.remove(name)
                conditions.append({"if": {"properties": {"type": {"const": when}}, "required": ["type"]}, "then": {"required": [name]}})
            props[name] = self._property(name, prop, model, optional=name not in required)
        out = {k: v for k, v in schema.items() if k not in ("properties", "required", "allOf")}
        out["type"] = "object"
        out["properties"] = props
        if required:
            out["required"] = required
        if conditions:
            out["allOf"] = conditions
        return out

    def _property(self, name: str, prop: dict[str, Any], model: Model | None, optional: bool) -> dict[str, Any]:
        assoc = model.associations.get(name) if model is not None else None
        target = self.index.models.get(assoc.target) if assoc is not None else None
        kind = prop.get("type")
        if kind == "array" and isinstance(prop.get("items"), dict):
            items = flatten(prop["items"])
            if items.get("type") == "object" or "properties" in items:
                items = self._object(items, target)
            else:
                items = self._property(name, items, model, optional=False)
            out = {**prop, "items": items}
        elif kind == "object" or "properties" in prop:
            out = self._object(prop, target)
            id_text = str((prop.get("properties") or {}).get("id", {}).get("description", ""))
            if NULL_ASSOCIATION in id_text:  # null-association: {"id": null} and null clear it
                out["properties"]["id"] = {**out["properties"]["id"], "type": ["integer", "null"]}
                return _nullable(out)
            if NULL_NOT_VALID.search(id_text):
                return out
        else:
            out = self._scalar(name, prop, model)
        if optional and not NULL_NOT_VALID.search(str(prop.get("description", ""))):
            out = _nullable(out)  # null-optional
        return out

    def _scalar(self, name: str, prop: dict[str, Any], model: Model | None) -> dict[str, Any]:
        out = dict(prop)
        record = (model.fields.get(name) if model is not None else None) or {}
        kind = out.get("type")
        if record.get("enum") and not out.get("enum") and (kind in (None, "string") or record.get("type") != kind):
            # record-enum: the record's value set is the only one stated (a discount "type"
            # declared boolean in the request, described as 'percentage' or 'money')
            out["type"] = record.get("type", "string")
            out["enum"] = list(record["enum"])
            kind = out["type"]
        if kind == "string" and EXPECTS_DATE.search(str(prop.get("description", ""))):
            out.pop("format", None)
            out["anyOf"] = DATE_OR_TIME  # date-leniency: the writer stores it as the record types it
        if kind == "integer":
            low, high = INT32 if out.get("format") == "int32" else INT64
            out["minimum"] = max(out.get("minimum", low), low)
            out["maximum"] = min(out.get("maximum", high), high)
        return out


def _is_association(schema: Any) -> bool:
    """Whether a request property is an association written as ``{"id": N}``."""
    return isinstance(schema, dict) and "id" in (schema.get("properties") or {})


def _required_if_type(prop: dict[str, Any]) -> str | None:
    """The Note-style ``Required only if the Note type is "Matter"``, on the field or its id."""
    texts = [str(prop.get("description", ""))]
    texts += [str(p.get("description", "")) for p in (prop.get("properties") or {}).values() if isinstance(p, dict)]
    for text in texts:
        m = REQUIRED_IF_TYPE.search(text)
        if m:
            return m.group(1)
    return None


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` that also admits ``null``."""
    if "enum" in schema and None not in schema["enum"]:
        schema = {**schema, "enum": [*schema["enum"], None]}
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    if isinstance(kind, list) and "null" not in kind:
        return {**schema, "type": [*kind, "null"]}
    if "anyOf" in schema:
        return {**schema, "anyOf": [*schema["anyOf"], {"type": "null"}]}
    return schema


def out_of_range(value: Any, path: str = "data") -> str | None:
    """Where a body holds a number no Clio field stores (beyond 64-bit signed, infinite or NaN),
    anywhere, even in fields the writer would ignore; ``None`` if nowhere. Real Clio fields are
    64-bit integers and bounded decimals, so a magnitude past 2**63 is never a valid value."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return path if not INT64[0] <= value <= INT64[1] else None
    if isinstance(value, float):  # orjson reads integers beyond 64 bits as floats (1e30)
        return path if not (math.isfinite(value) and INT64[0] <= value <= INT64[1]) else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = out_of_range(item, f"{path}.{key}")
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = out_of_range(item, f"{path}.{i}")
            if found:
                return found
    return None


def writable(value: Any, schema: dict[str, Any]) -> tuple[Any, list[str]]:
    """``value`` with only the keys its schema lists (read-only and unknown fields dropped),
    and the dotted names of what was dropped."""
    dropped: list[str] = []
    return _prune(value, schema, "", dropped), dropped


def _prune(value: Any, schema: dict[str, Any], path: str, dropped: list[str]) -> Any:
    if isinstance(value, dict):
        props = schema.get("properties")
        if not isinstance(props, dict) or not props:
            return value  # an open object: nothing to judge by
        out = {}
        for key, item in value.items():
            if key in props:
                out[key] = _prune(item, props[key], f"{path}.{key}" if path else key, dropped)
            elif key.endswith("_id") and _is_association(props.get(key[:-3])):
                out[key] = item  # scalar-twin: client_id=5 is the writable client written as its id
            else:
                dropped.append(f"{path}.{key}" if path else key)
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_prune(item, schema["items"], path, dropped) for item in value]
    return value
