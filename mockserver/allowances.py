"""Known gaps between Clio's published spec and Clio's real behaviour.

Each allowance is named, explained and applied in one place: the conformance test and
the contract-test kit validate against the spec's schema *as amended here*, and report
which allowances they used, so nothing is silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockserver.spec import Operation


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
ALL = (LIST_META, IDS_ARRAY, NULL_VALUES, OAUTH_401)


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
