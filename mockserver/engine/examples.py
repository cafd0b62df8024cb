"""Valid example requests for any operation, built from the spec and the current store.

Used by the conformance test, the contract-test kit and the pytest plugin's factories:
required body fields get schema-valid values, and ``{"id": N}`` objects name records that
exist in the account, so the request is valid at the data level too.
"""

from __future__ import annotations

from typing import Any

from mockserver.engine.store import Account
from mockserver.spec.index import Operation, SpecIndex, flatten

_BY_FORMAT = {"date": "2026-01-15", "date-time": "2026-01-15T09:30:00-05:00"}


class ExampleBuilder:
    """Builds a minimal valid ``{"data": {...}}`` body for a write operation."""

    def __init__(self, index: SpecIndex) -> None:
        self.index = index

    def body(self, op: Operation, account: Account, every_field: bool = False) -> dict[str, Any] | None:
        """A valid body: the required fields, or (``every_field``) every field the request
        schema lists, nested values included (one item per array, without ``id``)."""
        if op.request_schema is None:
            return None
        data_schema = flatten(op.request_schema).get("properties", {}).get("data", {})
        return {"data": self._object(op.model, flatten(data_schema), account, required_only=not every_field)}

    def _object(self, model_name: str, schema: dict[str, Any], account: Account, required_only: bool) -> dict[str, Any]:
        model = self.index.models.get(model_name)
        out: dict[str, Any] = {}
        for name in schema.get("required", []) if required_only else schema.get("properties", {}):
            prop = flatten(schema.get("properties", {}).get(name, {}))
            out[name] = self._value(model, name, prop, account, every=not required_only)
        return out

    def _value(self, model, name: str, prop: dict[str, Any], account: Account, every: bool = False) -> Any:
        field = model.fields.get(name, {}) if model is not None else {}
        if "format" in field:
            prop = {**prop, "format": field["format"]}  # the record's type is stricter
        if field.get("enum") and not prop.get("enum"):
            prop = {**prop, "enum": field["enum"]}  # the only value set stated (record-enum)
        assoc = model.associations.get(name) if model else None
        target = assoc.target if assoc and assoc.stored else None
        nested = self.index.models.get(assoc.target) if assoc is not None else None
        if target is None and name.endswith("_id") and model is not None:
            inner = model.associations.get(name[:-3])
            target = inner.target if inner and inner.stored else self.index.model_for_id_field(name)
        if field.get("type") in ("boolean", "integer", "number") and prop.get("type") == "string" and not target:
            return {"boolean": "true", "integer": "1", "number": "10.5"}[field["type"]]  # text the record's type reads
        if prop.get("type") == "object":
            props = prop.get("properties", {})
            keys = [k for k in props if k != "_destroy"] if every and not target else prop.get("required", [])
            value = {k: self._value(nested, k, flatten(props[k]), account, every) for k in keys if k in props}
            if target and "id" in props:
                value["id"] = _first_id(account, target)
            elif "id" in props and ("id" in prop.get("required", []) or every):
                # a polymorphic reference ({"id", "type"}): a record of the first stored type
                kinds = [k for k in props.get("type", {}).get("enum", []) if k in self.index.models]
                value["id"] = _first_id(account, kinds[0]) if kinds else 1
                if kinds:
                    value["type"] = kinds[0]
            return value
        items = flatten(prop.get("items", {})) if prop.get("type") == "array" else {}
        if every and items.get("type") == "object":
            required = items.get("required", [])
            item_props = {k: v for k, v in items.get("properties", {}).items() if k != "_destroy" and (k != "id" or k in required)}
            item = {k: self._value(nested, k, flatten(v), account, every) for k, v in item_props.items() if k != "id"}
            if "id" in item_props:  # an item naming a record ({"id", "type"})
                kinds = [k for k in items.get("properties", {}).get("type", {}).get("enum", []) if k in self.index.models]
                item["id"] = _first_id(account, kinds[0]) if kinds else 1
                if kinds:
                    item["type"] = kinds[0]
            return [item]
        if target and (prop.get("type") == "integer" or field.get("type") == "integer"):
            found = _first_id(account, target)
            return str(found) if prop.get("type") == "string" else found
        return scalar_example(name, prop)


def scalar_example(name: str, prop: dict[str, Any]) -> Any:
    """A schema-valid value for a scalar property."""
    if "enum" in prop:
        return prop["enum"][0]
    kind = prop.get("type")
    if kind == "integer":
        return 1
    if kind == "number":
        return 10.5
    if kind == "boolean":
        return True
    if kind == "array":
        return [scalar_example(name, prop.get("items", {}))] if prop.get("items", {}).get("type") not in (None, "object") else []
    if kind == "object":
        return {}
    if prop.get("format") in _BY_FORMAT:
        return _BY_FORMAT[prop["format"]]
    if "url" in name:
        return "https://127.0.0.1:9/hook"  # loopback, so nothing (webhook handshakes) leaves the machine
    if name == "fields":
        return "id,etag"
    if name == "color":
        return "#336699"
    return f"Example {name.replace('_', ' ')}"


def _first_id(account: Account, model: str) -> int:
    ids = account.table(model).ids
    return ids[0] if ids else 1
