"""Known gaps between Clio's published spec and Clio's real behaviour.

Each allowance is named, explained and applied in one place: the conformance test and
the contract-test kit validate against the spec's schema *as amended here*, and report
which allowances they used, so nothing is silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockserver.spec.index import Operation, SpecIndex, flatten


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
WRITE_ENUMS = Allowance(
    "write-enum-values", "Some record enums are narrower than the request's (a phone number's name is Work, Home, Mobile, Fax, Pager, Skype or Other in writes, Work, Personal or Other in responses; calendar colours differ entirely); a response value a write schema admits for the same field passes."
)
ALL = (LIST_META, IDS_ARRAY, NULL_VALUES, OAUTH_401, ENUM_CASING, WRITE_ENUMS)

# How the mock reads write bodies where the request schema alone says too little or too much
# (applied by mockserver.engine.writes; the README's "How writes are judged" lists them).
DATE_LENIENCY = Allowance(
    "date-leniency", "A field described as \"Expects an ISO-8601 date\" (or date-time, timestamp) takes either a date or a date-time, whatever its declared format (Task due_at is declared date-time but described and stored as a date); it is stored as the record types it."
)
NULL_ASSOCIATION = Allowance(
    "null-association", "Where an association's id says \"Use the keyword `null` to specify no association\", {\"id\": null} and null clear it; where it says null is not valid, both are refused."
)
NULL_OPTIONAL = Allowance(
    "null-optional", "null for an optional field means no value (omitted on create, cleared on update): the spec declares nothing nullable, but real clients send null (a webhook's \"expires_at\": null gets the documented 3-day default)."
)
CONDITIONAL_REQUIRED = Allowance(
    "conditional-required", "\"Required only if the Note type is Matter/Contact\": the record the type names is required, not both, though the schema's required list names both."
)
RECORD_ENUM = Allowance(
    "record-enum", "Where the request names no value set but the record's field has an enum (Note detail_text_type; a line item discount type declared boolean but described as 'percentage' or 'money'), the record's enum judges the value."
)
STRING_IDS = Allowance(
    "string-ids", "Custom field values have composite string ids (\"text_line-1\", BEHAVIOR.md 4.2) and are updated or destroyed by them, though the request schemas type custom_field_values[].id as an integer; both spellings are accepted (the number alone names the value too)."
)
SCALAR_TWIN = Allowance(
    "scalar-twin", "client_id: N is read as client: {id: N} where the request lists the association (records carry both spellings)."
)
READ_ONLY_IGNORED = Allowance(
    "read-only-ignored", "Fields the request schema does not list (id, etag, created_at, updated_at, derived fields) are dropped from a write body, as Rails' strong parameters drop them: a body never changes a record's identity or stamps."
)
VALUE_RANGES = Allowance(
    "value-ranges", "Integers must fit 64 bits signed (32 for int32 fields) and numbers be finite and within 64-bit magnitude, anywhere in a body; otherwise 422. The spec states no ranges, but Clio's columns have them."
)
WRITE_RULES = (DATE_LENIENCY, NULL_ASSOCIATION, NULL_OPTIONAL, CONDITIONAL_REQUIRED, RECORD_ENUM, STRING_IDS, SCALAR_TWIN, READ_ONLY_IGNORED, VALUE_RANGES)
BY_NAME = {a.name: a for a in (*ALL, *WRITE_RULES)}


def write_enums(index: SpecIndex) -> dict[tuple[str, str], frozenset[str]]:
    """Enum values the write operations' request schemas admit, by (enclosing property, field):
    ``("phone_numbers", "name") -> {"Work", "Home", "Mobile", ...}`` (top-level fields have
    the enclosing property ``""``). Used by the ``write-enum-values`` allowance."""
    found: dict[tuple[str, str], set[str]] = {}

    def walk(node: Any, parent: str, depth: int) -> None:
        if not isinstance(node, dict) or depth > 6:
            return
        node = flatten(node)
        for name, prop in (node.get("properties") or {}).items():
            if not isinstance(prop, dict):
                continue
            inner = flatten(prop.get("items", {})) if prop.get("type") == "array" else prop
            if isinstance(inner.get("enum"), list):
                found.setdefault((parent, name), set()).update(v for v in inner["enum"] if isinstance(v, str))
            if inner.get("properties"):
                walk(inner, name, depth + 1)

    for op in index.operations:
        if op.request_schema is not None:
            walk(flatten(op.request_schema).get("properties", {}).get("data", {}), "", 0)
    return {k: frozenset(v) for k, v in found.items()}


def with_write_enums(value: Any, schema: dict[str, Any], enums: dict[tuple[str, str], frozenset[str]], parent: str = "") -> tuple[Any, int]:
    """The body with values outside a response enum but admitted by a write schema for the same
    field replaced by a declared value (the ``write-enum-values`` allowance), and how many."""
    if not isinstance(schema, dict):
        return value, 0
    schema = flatten(schema)
    if isinstance(value, dict):
        props = schema.get("properties", {})
        out, changed = {}, 0
        for key, item in value.items():
            sub = props.get(key, {})
            inner = flatten(sub.get("items", {})) if isinstance(sub, dict) and sub.get("type") == "array" else sub
            enum = inner.get("enum") if isinstance(inner, dict) else None
            if isinstance(item, str) and isinstance(enum, list) and enum and item not in enum and item in enums.get((parent, key), ()):
                out[key], changed = enum[0], changed + 1
                continue
            out[key], n = with_write_enums(item, sub, enums, key if key != "data" else "")
            changed += n
        return out, changed
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        out_list, changed = [], 0
        for item in value:
            new, n = with_write_enums(item, schema["items"], enums, parent)
            out_list.append(new)
            changed += n
        return out_list, changed
    return value, 0


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
