"""Drift between two targets: the same read-only requests, compared answer by answer.

``clio-mock contract diff A B`` sends every GET operation of the spec (one request each:
real ids found on *each* target, every top-level field asked for) to both targets and
reports, per operation, what differs: the status code, the field paths present (one
level into associations), and the JSON types seen at each path. Nulls are data, not
shape: a path that is null on one side and a string on the other is not a difference;
a string on one side and a number on the other is.

Only GETs are sent, so it is safe against real accounts without any flag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mockserver.contract.checks import body_json
from mockserver.contract.client import KitError
from mockserver.contract.kit import Kit, KitConfig, _invalid_field
from mockserver.spec.index import Operation


@dataclass
class Observation:
    status: int | None = None
    types: dict[str, set[str]] = field(default_factory=dict)  # field path -> JSON types seen
    note: str = ""  # why nothing was observed

    @property
    def fields(self) -> set[str]:
        return set(self.types)


@dataclass
class OperationDrift:
    operation: str
    label: str
    status: tuple[int | None, int | None]
    only_a: list[str] = field(default_factory=list)
    only_b: list[str] = field(default_factory=list)
    types: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)
    notes: tuple[str, str] = ("", "")

    @property
    def differs(self) -> bool:
        return self.status[0] != self.status[1] or bool(self.only_a or self.only_b or self.types)

    def to_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation, "label": self.label, "status": list(self.status),
            "only_in_a": self.only_a, "only_in_b": self.only_b,
            "types": {k: {"a": a, "b": b} for k, (a, b) in self.types.items()},
            "notes": {"a": self.notes[0], "b": self.notes[1]},
        }


@dataclass
class DriftReport:
    a: str
    b: str
    operations: list[OperationDrift] = field(default_factory=list)
    requests: tuple[dict, dict] = ({}, {})

    @property
    def differing(self) -> list[OperationDrift]:
        return [o for o in self.operations if o.differs]

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "compared": len(self.operations), "differing": len(self.differing),
                "operations": [o.to_dict() for o in self.differing], "requests": {"a": self.requests[0], "b": self.requests[1]}}

    def to_text(self) -> str:
        lines = [f"Drift: A = {self.a}, B = {self.b}",
                 f"{len(self.operations)} GET operations compared, {len(self.differing)} differ."]
        for o in self.differing:
            lines.append(f"\n{o.label} ({o.operation})")
            if o.status[0] != o.status[1]:
                lines.append(f"  status: A {o.status[0]} | B {o.status[1]}")
                for side, note in zip("AB", o.notes):
                    if note:
                        lines.append(f"    {side}: {note}")
            if o.only_a:
                lines.append(f"  fields only in A: {', '.join(o.only_a)}")
            if o.only_b:
                lines.append(f"  fields only in B: {', '.join(o.only_b)}")
            for path, (ta, tb) in o.types.items():
                lines.append(f"  type of {path}: A {'/'.join(ta)} | B {'/'.join(tb)}")
        lines.append(f"\nRequests: A {self.requests[0].get('total', 0)}, B {self.requests[1].get('total', 0)}.")
        return "\n".join(lines)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def shape(data: Any) -> dict[str, set[str]]:
    """Field path -> JSON types, over every record of a list or the single record;
    associations one level deep (``client.name``, ``email_addresses[].address``)."""
    types: dict[str, set[str]] = {}
    for record in data if isinstance(data, list) else [data]:
        if not isinstance(record, dict):
            types.setdefault("(item)", set()).add(json_type(record))
            continue
        for key, value in record.items():
            types.setdefault(key, set()).add(json_type(value))
            inner = value if isinstance(value, dict) else None
            items = value if isinstance(value, list) else []
            for prefix, sub in ([(key, inner)] if inner else []) + [(f"{key}[]", i) for i in items if isinstance(i, dict)]:
                for k, v in sub.items():
                    types.setdefault(f"{prefix}.{k}", set()).add(json_type(v))
    return types


def observe(kit: Kit, op: Operation) -> Observation:
    try:
        values = kit.discovery.path_values(op)
        if values is None:
            return Observation(note="no record to call it with")
        params: dict[str, Any] = {}
        fields = kit.all_fields(op)
        if fields:
            params["fields"] = fields
        if "limit" in op.params:
            params["limit"] = 5
        path = op.path
        for name, value in values.items():
            path = path.replace("{" + name + "}", str(value))
        for _ in range(4):
            response = kit.client.request("GET", path, params=params)
            bad = _invalid_field(response)
            if not (bad and "fields" in params and bad in params["fields"].split(",")):
                break
            params["fields"] = ",".join(f for f in params["fields"].split(",") if f != bad)
    except KitError as exc:
        return Observation(note=f"{type(exc).__name__}: {exc}")
    body = body_json(response)
    data = body.get("data") if isinstance(body, dict) else None
    note = ""
    if response.status_code >= 400 and isinstance(body, dict) and isinstance(body.get("error"), dict):
        note = f"{body['error'].get('type')}: {str(body['error'].get('message'))[:120]}"
    return Observation(response.status_code, shape(data) if data is not None else {}, note)


def compare(op: Operation, a: Observation, b: Observation) -> OperationDrift:
    drift = OperationDrift(op.operation_id, f"{op.method} {op.path}", (a.status, b.status), notes=(a.note, b.note))
    if a.status is None or b.status is None or a.status != b.status:
        return drift
    drift.only_a = sorted(a.fields - b.fields)
    drift.only_b = sorted(b.fields - a.fields)
    for path in sorted(a.fields & b.fields):
        ta, tb = a.types[path] - {"null"}, b.types[path] - {"null"}
        if ta and tb and ta != tb:
            drift.types[path] = (sorted(ta), sorted(tb))
    return drift


def diff_targets(config_a: KitConfig, config_b: KitConfig, operations: str | None = None, progress=None) -> DriftReport:
    """Observe every GET operation on both targets and compare them."""
    with Kit(config_a) as kit_a, Kit(config_b, index=_index_of(config_a, config_b, kit_a)) as kit_b:
        pattern = re.compile(operations) if operations else None
        report = DriftReport(kit_a.result.target, kit_b.result.target)
        for op in kit_a.operations():
            if op.method != "GET" or op.action == "download" or (pattern and not (pattern.search(op.operation_id) or pattern.search(op.path))):
                continue
            if progress:
                progress(op.operation_id)
            report.operations.append(compare(op, observe(kit_a, op), observe(kit_b, op)))
        report.requests = (kit_a.client.summary(), kit_b.client.summary())
    return report


def _index_of(config_a: KitConfig, config_b: KitConfig, kit_a: Kit):
    """Both targets are read through one spec: B reuses A's index when they name the same one."""
    return kit_a.index if config_a.spec == config_b.spec else None
