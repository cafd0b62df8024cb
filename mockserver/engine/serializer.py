"""Rendering stored records as Clio does: ``fields`` selection and live associations.

``fields=id,display_number,client{id,name}`` is parsed once into a :class:`FieldPlan`
(cached per model and ``fields`` string); rendering a record walks the plan. Associations
are read from the current state of the record they point at, so renaming a contact shows
in ``matter.client.name`` at once, as in Clio.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from mockserver.engine.errors import invalid_fields
from mockserver.engine.store import Account, Record
from mockserver.spec.index import Association, Model, SpecIndex

SCALAR, REF, REFS, EMBEDDED, STRING_ID = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class FieldPlan:
    """What to render: (name, kind, target model, sub-plan) per selected field."""

    model: str
    entries: tuple[tuple[str, int, str | None, "FieldPlan | None"], ...]
    # The field names when every entry is a plain scalar (most nested plans: id, etag).
    scalars: tuple[str, ...] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        names = tuple(name for name, kind, _, _ in self.entries if kind == SCALAR)
        object.__setattr__(self, "scalars", names if len(names) == len(self.entries) else None)


def parse_fields(text: str) -> list[tuple[str, list[str] | None]]:
    """Split ``a,b{c,d},e`` into [("a", None), ("b", ["c", "d"]), ("e", None)].

    Only one level of nesting is allowed, as in Clio; anything else is 400 InvalidFields.
    """
    out: list[tuple[str, list[str] | None]] = []
    depth, start, closed = 0, 0, False
    for i, ch in enumerate(text + ","):
        if ch == "{":
            if depth:
                raise invalid_fields("Nested fields may only be one level deep")
            depth, name, start = 1, text[start:i].strip(), i + 1
            if not name or closed:
                raise invalid_fields(f"Malformed fields: {text}")
        elif ch == "}":
            if not depth:
                raise invalid_fields(f"Malformed fields: {text}")
            depth, closed = 0, True
            out.append((name, [f.strip() for f in text[start:i].split(",") if f.strip()]))
            start = i + 1
        elif ch == "," and not depth:
            token = text[start:i].strip()
            if token and closed:
                raise invalid_fields(f"Malformed fields: {text}")
            if token:
                out.append((token, None))
            start, closed = i + 1, False
    if depth:
        raise invalid_fields(f"Malformed fields: {text}")
    return out


class Serializer:
    """Builds field plans from the spec's models and renders records with them."""

    def __init__(self, index: SpecIndex, cache_size: int = 4096, cache_weight: int = 400_000) -> None:
        self.models = index.models
        # LRU of plans, bounded by count and by weight (entries, nested ones included, plus the
        # key's characters): distinct huge ``fields`` values must not grow the process without end.
        self.cache: OrderedDict[tuple[str, str | None], tuple[FieldPlan, int]] = OrderedDict()
        self.cache_size = cache_size
        self.cache_weight = cache_weight
        self.weight = 0

    def plan(self, model: str, fields: str | None) -> FieldPlan:
        """The plan for ``fields`` on ``model`` (default fields when None); 400 if invalid."""
        key = (model, fields)
        hit = self.cache.get(key)
        if hit is not None:
            return hit[0]
        plan = self._build(model, fields)
        weight = _weight(plan) + len(fields or "")
        if weight <= self.cache_weight // 50:  # a plan bigger than 2% of the budget is built per request
            self.cache[key] = (plan, weight)
            self.weight += weight
            while len(self.cache) > self.cache_size or self.weight > self.cache_weight:
                _, (_, dropped) = self.cache.popitem(last=False)
                self.weight -= dropped
        return plan

    def all_fields(self, model: str) -> str:
        """A ``fields`` value naming every top-level field of the model."""
        m = self.models[model]
        return ",".join([*m.fields, *m.associations])

    def _build(self, model_name: str, fields: str | None) -> FieldPlan:
        model = self.models[model_name]
        wanted = parse_fields(fields) if fields else [(f, None) for f in model.default_fields]
        entries = []
        for name, sub in wanted:
            entries.append(self._entry(model, name, sub))
        return FieldPlan(model_name, tuple(entries))

    def _entry(self, model: Model, name: str, sub: list[str] | None):
        if name in model.fields:
            if sub is not None:
                raise invalid_fields(f"{name} is not an association of {model.name}")
            return (name, _scalar_kind(model, name), None, None)
        assoc = model.associations.get(name)
        if assoc is None:
            raise invalid_fields(f"{name} is not a valid field")
        return (name, _kind(assoc), assoc.target, self._nested(assoc, sub))

    def _nested(self, assoc: Association, sub: list[str] | None) -> FieldPlan:
        target = self.models.get(assoc.target) or self.models.get(assoc.schema_name)
        if target is None:  # an embedded schema with no model of its own: render as stored
            return FieldPlan(assoc.target, ())
        names = sub if sub else target.default_fields
        entries = []
        for name in names:
            if name in target.fields:
                entries.append((name, _scalar_kind(target, name), None, None))
            elif name in target.associations:  # one level: nested associations get defaults
                inner = target.associations[name]
                entries.append((name, _kind(inner), inner.target, self._nested(inner, None)))
            else:
                raise invalid_fields(f"{name} is not a valid field")
        return FieldPlan(target.name, tuple(entries))

    # ------------------------------------------------------------------ rendering

    def render(self, account: Account, record: Record, plan: FieldPlan, memo: dict | None = None) -> dict[str, Any]:
        """The record as Clio would return it for this plan.

        ``memo`` (one per response) shares the rendering of a record many others point at:
        forty matters of one responsible attorney render that user once.
        """
        get = record.get
        scalars = plan.scalars
        if scalars is not None:  # the common nested case: a dict of plain values
            return {name: get(name) for name in scalars}
        out: dict[str, Any] = {}
        for name, kind, target, sub in plan.entries:
            value = get(name)
            if kind == SCALAR or value is None:
                out[name] = value
            elif kind == STRING_ID:
                out[name] = str(value)
            elif kind == REF:
                out[name] = self._reference(account, target, value, sub, memo)  # type: ignore[arg-type]
            elif kind == REFS:
                out[name] = [r for i in value if (r := self._reference(account, target, i, sub, memo)) is not None]  # type: ignore[arg-type]
            else:
                out[name] = self._embedded(account, value, sub, memo)  # type: ignore[arg-type]
        return out

    def render_many(self, account: Account, records: list[Record], plan: FieldPlan) -> list[dict[str, Any]]:
        """A page of records, sharing the rendering of what they point at."""
        memo: dict = {}
        return [self.render(account, r, plan, memo) for r in records]

    def _reference(self, account: Account, target: str, ref: int, plan: FieldPlan, memo: dict | None) -> dict | None:
        key = (target, ref, id(plan))
        if memo is not None and key in memo:
            return memo[key]
        other = account.table(target).get(ref)
        rendered = self.render(account, other, plan, memo) if other is not None else None
        if memo is not None:
            memo[key] = rendered
        return rendered

    def _embedded(self, account: Account, value: Any, plan: FieldPlan, memo: dict | None) -> Any:
        if not plan.entries:
            return value
        if isinstance(value, list):
            return [self.render(account, v, plan, memo) if isinstance(v, dict) else v for v in value]
        # Embedded values may hold references ({"custom_field": 7}); render those too.
        return self.render(account, value, plan, memo) if isinstance(value, dict) else value


def _weight(plan: FieldPlan) -> int:
    """A plan's size in entries, nested plans included (what it costs to keep)."""
    return len(plan.entries) + sum(_weight(sub) for _, _, _, sub in plan.entries if sub is not None)


def _scalar_kind(model: Model, name: str) -> int:
    """Ids are integers in the store; a few models (CalendarEntry) declare string ids."""
    if name == "id" and model.fields[name].get("type") == "string":
        return STRING_ID
    return SCALAR


def _kind(assoc: Association) -> int:
    if not assoc.stored:
        return EMBEDDED
    return REFS if assoc.many else REF
