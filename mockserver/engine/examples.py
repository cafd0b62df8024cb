"""Valid example requests for any operation, built from the spec and the current store.

Used by the conformance test, the contract-test kit and the pytest plugin's factories:
required body fields get schema-valid values, and ``{"id": N}`` objects name records that
exist in the account, so the request is valid at the data level too.
"""

from __future__ import annotations

from typing import Any

from mockserver.engine.store import Account
from mockserver.spec.index import Operation, SpecIndex

_BY_FORMAT = {"date": "2026-01-15", "date-time": "2026-01-15T09:30:00-05:00"}


class ExampleBuilder:
    """Builds a minimal valid ``{"data": {...}}`` body for a write operation."""

    def __init__(self, index: SpecIndex) -> None:
        self.index = index

    def body(self, op: Operation, account: Account) -> dict[str, Any] | None:
        if op.request_schema is None:
            return None
        data_schema = op.request_schema.get("properties", {}).get("data", {})
        return {"data": self._object(op.model, data_schema, account, required_only=True)}

    def _object(self, model_name: str, schema: dict[str, Any], account: Account, required_only: bool) -> dict[str, Any]:
        model = self.index.models.get(model_name)
        out: dict[str, Any] = {}
        for name in schema.get("required", []) if required_only else schema.get("properties", {}):
            prop = schema.get("properties", {}).get(name, {})
            out[name] = self._value(model, name, prop, account)
        return out

    def _value(self, model, name: str, prop: dict[str, Any], account: Account) -> Any:
        if model is not None and name in model.fields and "format" in model.fields[name]:
            prop = {**prop, "format": model.fields[name]["format"]}  # the record's type is stricter
        assoc = model.associations.get(name) if model else None
        target = assoc.target if assoc and assoc.stored else None
        if target is None and name.endswith("_id") and model is not None:
            inner = model.associations.get(name[:-3])
            target = inner.target if inner and inner.stored else self.index.model_for_id_field(name)
        if prop.get("type") == "object":
            value = {k: self._value(None, k, p, account) for k, p in prop.get("properties", {}).items() if k in prop.get("required", [])}
            if target and "id" in value:
                value["id"] = _first_id(account, target)
            return value
        if prop.get("type") == "integer" and target:
            return _first_id(account, target)
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
