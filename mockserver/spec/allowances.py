"""Known gaps between Clio's published spec and Clio's real behaviour.

Each allowance is named, explained and applied in one place: the conformance test and
the contract-test kit validate against the spec's schema *as amended here*, and report
which allowances they used, so nothing is silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockserver.spec.index import Operation


@dataclass(frozen=True)
class Allowance:
    name: str
    reason: str


LIST_META = Allowance(
    "list-meta", "Clio's list responses carry meta.paging (and the mock adds meta.records); no *_List schema declares meta."
)
IDS_ARRAY = Allowance(
    "billable-matter-ids", "/billable_matters/ids returns {\"data\": [ids]} though the spec points at BillableMatter_Show."
)
NULL_VALUES = Allowance(
    "null-values", "Clio returns null for unset fields; the spec declares no nullable fields."
)
OAUTH_401 = Allowance(
    "oauth-401-body", "Token errors answer 401 with the OAuth body {error, error_description}, not the Error schema."
)
ENUM_CASING = Allowance(
    "enum-casing", "Clio's enums differ in case between writes/filters and responses (Matter status open vs Open); a value equal to a declared one but for case passes."
)
ALL = (LIST_META, IDS_ARRAY, NULL_VALUES, OAUTH_401, ENUM_CASING)
BY_NAME = {a.name: a for a in ALL}


def response_schema_for(op: Operation, status: int) -> dict[str, Any] | None:
    """The spec's response schema for ``status`` with the allowances applied."""
    schema = op.responses.get(status)
    if schema is None:
        return None
    if op.action == "ids" and status == 200:
        return {"type": "object", "required": ["data"], "properties": {"data": {"type": "array", "items": {"type": "integer"}}}}
    return schema


def without_nulls(value: Any) -> Any:
    """The body with null values dropped: the ``null-values`` allowance, applied before validation."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def with_enum_casing(value: Any, schema: dict[str, Any]) -> tuple[Any, int]:
    """The body with enum values in the declared case (the ``enum-casing`` allowance), and how
    many values it changed. ``schema`` is a resolved schema (``allOf`` parts are followed)."""
    if not isinstance(schema, dict):
        return value, 0
    changed = 0
    for part in schema.get("allOf", []):
        value, n = with_enum_casing(value, part)
        changed += n
    if isinstance(value, str) and isinstance(schema.get("enum"), list) and value not in schema["enum"]:
        match = next((e for e in schema["enum"] if isinstance(e, str) and e.lower() == value.lower()), None)
        return (match, changed + 1) if match is not None else (value, changed)
    if isinstance(value, dict):
        props = schema.get("properties", {})
        out = {}
        for key, item in value.items():
            out[key], n = with_enum_casing(item, props.get(key, {}))
            changed += n
        return out, changed
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        out_list = []
        for item in value:
            new, n = with_enum_casing(item, schema["items"])
            out_list.append(new)
            changed += n
        return out_list, changed
    return value, changed


def is_oauth_401(status: int, body: Any) -> bool:
    """Whether a response is the OAuth-style token error (the ``oauth-401-body`` allowance)."""
    return status == 401 and isinstance(body, dict) and isinstance(body.get("error"), str) and isinstance(body.get("error_description"), str)
