"""Rendering stored records as Clio does: ``fields`` selection and live associations.

``fields=id,display_number,client{id,name}`` is parsed once into a :class:`FieldPlan`
(cached per model and ``fields`` string); rendering a record walks the plan. Associations
are read from the current state of the record they point at, so renaming a contact shows
in ``matter.client.name`` at once, as in Clio.

Pages go through :meth:`Serializer.render_page`, which gives each plan a compiled render
function and keeps each record's rendering as ready JSON bytes (an ``orjson.Fragment``) in a
bounded :class:`FragmentCache`. A fragment is used again only while the record is the same
stored object at the same version (its etag) and every record it embeds is too, so a write
shows in the next read at once.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from mockserver.engine.errors import invalid_fields
from mockserver.engine.store import Account, Record, version_of
from mockserver.spec.index import Association, Model, SpecIndex

SCALAR, REF, REFS, EMBEDDED, STRING_ID = 0, 1, 2, 3, 4
_serials = itertools.count(1)


@dataclass(frozen=True)
class FieldPlan:
    """What to render: (name, kind, target model, sub-plan) per selected field."""

    model: str
    entries: tuple[tuple[str, int, str | None, "FieldPlan | None"], ...]
    # The field names when every entry is a plain scalar (most nested plans: id, etag).
    scalars: tuple[str, ...] | None = field(init=False, default=None)
    # A number unique to this plan object: the key of its fragments (a rebuilt plan starts afresh).
    serial: int = field(init=False, default=0, compare=False)
    # The compiled render function (Serializer.compiled), built on first use.
    compiled: Callable | None = field(init=False, default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        names = tuple(name for name, kind, _, _ in self.entries if kind == SCALAR)
        object.__setattr__(self, "scalars", names if len(names) == len(self.entries) else None)
        object.__setattr__(self, "serial", next(_serials))


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


class FragmentCache:
    """Rendered records as JSON bytes, bounded by entry count and by bytes.

    Keys are ``(plan serial, record id)``; an entry is ``(record, version, deps, fragment,
    size, generation)`` where ``deps`` names the records the rendering read, each with the
    version it saw, and ``generation`` is the store's when they were last seen current. The
    entry holds its record, so that object (and its ``id()``) cannot be recycled while cached.
    The oldest entries go first when a bound is reached.
    """

    def __init__(self, max_entries: int = 20_000, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.entries: dict[tuple[int, Any], tuple[Record, Any, tuple, orjson.Fragment, int, int | None]] = {}
        self.bytes = 0

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, key: tuple[int, Any]) -> tuple | None:
        return self.entries.get(key)

    def put(self, key: tuple[int, Any], record: Record, version: Any, deps: tuple, body: bytes,
            generation: int | None = None) -> orjson.Fragment:
        """Keep ``body`` for ``key``, dropping the oldest entries beyond the bounds."""
        fragment = orjson.Fragment(body)
        size = len(body) + 64 * (len(deps) + 1)  # the bytes, and roughly what holds them
        old = self.entries.pop(key, None)
        if old is not None:
            self.bytes -= old[4]
        if size > self.max_bytes:
            return fragment
        self.entries[key] = (record, version, deps, fragment, size, generation)
        self.bytes += size
        while len(self.entries) > self.max_entries or self.bytes > self.max_bytes:
            self.bytes -= self.entries.pop(next(iter(self.entries)))[4]
        return fragment

    def clear(self) -> None:
        self.entries.clear()
        self.bytes = 0


class Serializer:
    """Builds field plans from the spec's models and renders records with them."""

    # Nested plans at least this wide keep their renderings as fragments too (a client with
    # every field); narrower ones ({id, etag}) are cheaper to build than to look up.
    WIDE_NESTED = 4

    def __init__(self, index: SpecIndex, cache_size: int = 4096, cache_weight: int = 400_000) -> None:
        self.fragments = FragmentCache()
        self.store: Any = None  # see follow()
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


    # ------------------------------------------------------------------ pages, compiled and cached

    def render_page(self, account: Account, records: list[Record], plan: FieldPlan) -> list[Any]:
        """A page of records ready for ``orjson.dumps``: what :meth:`render_many` returns, the
        same bytes once dumped, but each record with associations comes as an
        ``orjson.Fragment`` reused while it and everything it embeds keep their versions."""
        scalars = plan.scalars
        if scalars is not None:  # id, etag...: building the dict is cheaper than any lookup
            return [{name: r.get(name) for name in scalars} for r in records]
        # Read before anything else: a write that ends after this moment makes the next read
        # check the records again.
        generation = self.store.generation if self.store is not None else None
        table = account.tables.get(plan.model)
        rows = table.rows if table is not None else {}
        serial, entries, current = plan.serial, self.fragments.entries, self._current
        out: list[Any] = []
        for record in records:
            key = (serial, record.get("id"))
            entry = entries.get(key)
            if entry is not None and entry[0] is record and entry[1] == version_of(record):
                if generation is not None and entry[5] == generation:  # nothing written since
                    out.append(entry[3])
                    continue
                if current(account, entry[2]):
                    entries[key] = (*entry[:5], generation)
                    out.append(entry[3])
                    continue
            out.append(self._fresh(account, record, plan, rows.get(key[1]) is record, generation))
        return out

    def follow(self, store: Any) -> None:
        """Let pages skip re-checking what a fragment read while ``store.generation`` stays
        the same (every change to records happens inside ``store.write()``)."""
        self.store = store

    def _fresh(self, account: Account, record: Record, plan: FieldPlan, stored: bool, generation: int | None) -> Any:
        deps: list[tuple[str, Any, Record | None, Any]] = []
        rendered = self.compiled(plan)(account, record, deps)
        version = version_of(record)
        if not stored or version is None:  # a view or an embedded value: nothing to key it on
            return rendered
        unique = tuple({(d[0], d[1]): d for d in deps}.values())
        return self.fragments.put((plan.serial, record.get("id")), record, version, unique, orjson.dumps(rendered), generation)

    @staticmethod
    def _current(account: Account, deps: tuple) -> bool:
        """Whether every record a fragment read is still the same object at the same version."""
        tables = account.tables
        for target, ref, seen, version in deps:
            table = tables.get(target)
            now = table.rows.get(ref) if table is not None else None
            if now is not seen or (now is not None and version_of(now) != version):
                return False
        return True

    def compiled(self, plan: FieldPlan) -> Callable[[Account, Record, list], dict[str, Any]]:
        """The plan as one function ``(account, record, deps) -> dict``, built once per plan:
        one step per field, chosen when compiling rather than on every record. Each record it
        reads through an association is noted in ``deps`` with its version."""
        fn = plan.compiled
        if fn is None:
            fn = self._compile(plan)
            object.__setattr__(plan, "compiled", fn)
        return fn

    def _compile(self, plan: FieldPlan) -> Callable[[Account, Record, list], dict[str, Any]]:
        scalars = plan.scalars
        if scalars is not None:
            def render_scalars(account: Account, record: Record, deps: list) -> dict[str, Any]:
                get = record.get
                return {name: get(name) for name in scalars}
            return render_scalars
        steps = tuple((name, self._step(kind, target, sub)) for name, kind, target, sub in plan.entries)

        def render(account: Account, record: Record, deps: list) -> dict[str, Any]:
            get = record.get
            out: dict[str, Any] = {}
            for name, step in steps:
                value = get(name)
                out[name] = value if step is None or value is None else step(account, value, deps)
            return out
        return render

    def _step(self, kind: int, target: str | None, sub: FieldPlan | None) -> Callable | None:
        """What one field's value becomes (None: the stored value as is)."""
        if kind == SCALAR:
            return None
        if kind == STRING_ID:
            return lambda account, value, deps: str(value)
        assert sub is not None and target is not None
        if kind in (REF, REFS):
            one = self._reference_step(target, sub)
            if kind == REF:
                return one
            return lambda account, value, deps: [r for i in value if (r := one(account, i, deps)) is not None]
        if not sub.entries:  # an embedded schema with no model of its own: as stored
            return None
        inner = self.compiled(sub)

        def embedded(account: Account, value: Any, deps: list) -> Any:
            if isinstance(value, list):
                return [inner(account, v, deps) if isinstance(v, dict) else v for v in value]
            return inner(account, value, deps) if isinstance(value, dict) else value
        return embedded

    def _reference_step(self, target: str, sub: FieldPlan) -> Callable[[Account, Any, list], Any]:
        """Render the record an id points at, noting it in ``deps``; wide all-scalar plans keep
        the rendering as a fragment keyed by the record's own version (its etag)."""
        inner = self.compiled(sub)
        serial, entries, fragments = sub.serial, self.fragments.entries, self.fragments
        wide = sub.scalars is not None and len(sub.scalars) >= self.WIDE_NESTED

        def reference(account: Account, ref: Any, deps: list) -> Any:
            table = account.tables.get(target)
            other = table.rows.get(ref) if table is not None else None
            if other is None:
                deps.append((target, ref, None, None))
                return None
            version = version_of(other)
            deps.append((target, ref, other, version))
            if not wide or version is None:
                return inner(account, other, deps)
            entry = entries.get((serial, ref))
            if entry is not None and entry[0] is other and entry[1] == version:
                return entry[3]
            return fragments.put((serial, ref), other, version, (), orjson.dumps(inner(account, other, deps)))
        return reference


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
