"""Clio's domain rules, in one declarative layer applied alike to seeding and to writes.

Each rule is data plus a small function: the model it belongs to, what kind of rule it is,
the fields it owns, where Clio says so (``source``: a spec field description with its schema
name, a BEHAVIOR.md section, or ``UNCONFIRMED: chosen because ...``), and

* ``apply(change)``: make the record follow the rule (derive fields, default an owner, stamp
  a status date, reject an impossible write with Clio's error);
* ``holds(firm, record)``: whether a stored record follows it; the seeded-firm test walks
  every record with these same predicates, so the check never restates a rule.

Kinds: ``derive`` (computed from other fields or records, never generated independently;
``holds`` is "applying it again changes nothing"), ``default`` (on create, when the write left
the field out), ``transition`` (a state change stamps its date), ``validate`` (a documented
refusal) and ``link`` (a write that changes another record: a matter's client becomes a client).

The area modules (:mod:`.contacts`, :mod:`.matters`, ...) declare the rules; :class:`DomainRules`
registers them into the generic writer's hook (``RecordWriter.rules``), gives the request
validator the required fields a rule replaces (:meth:`DomainRules.install` calls `RecordWriter.replace_required`), and runs
them over a seeded firm (:meth:`DomainRules.settle`). The engine never imports this package.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mockserver.engine.records import RecordWriter, Write, current_write, stamp, writing
from mockserver.engine.store import Account, Record
from mockserver.spec.index import Model, SpecIndex

KINDS = ("validate", "default", "derive", "transition", "link")  # the order rules run in


class Firm:
    """Read access to one account's records for rules, with per-pass indexes.

    On a write the lookups scan (tables are small, and a write is rare); while settling a
    seeded firm :meth:`children` is built once per (model, key) so 100k records cost one pass.
    """

    def __init__(self, account: Account, index: SpecIndex, cached: bool = False) -> None:
        self.account = account
        self.index = index
        self.cached = cached
        self._children: dict[tuple[str, str], dict[Any, list[Record]]] = {}

    def get(self, model: str, record_id: Any) -> Record | None:
        if record_id is None or model not in self.account.tables:
            return None
        return self.account.tables[model].get(record_id)

    def table(self, model: str) -> Iterable[Record]:
        table = self.account.tables.get(model)
        return table.rows.values() if table is not None else ()

    def children(self, model: str, key: str, parent_id: Any) -> list[Record]:
        """Records of ``model`` whose ``key`` is ``parent_id`` (line items of a bill...)."""
        if not self.cached:
            return [r for r in self.table(model) if r.get(key) == parent_id]
        groups = self._children.get((model, key))
        if groups is None:
            groups = defaultdict(list)
            for record in self.table(model):
                groups[record.get(key)].append(record)
            self._children[(model, key)] = groups
        return groups.get(parent_id, [])

    def forget(self) -> None:
        """Drop the per-pass indexes (records they group have changed)."""
        self._children.clear()

    def touch(self, model: str, record: Record, now: datetime | None) -> None:
        """Another record changed because of a write: new etag/updated_at, persisted."""
        spec_model = self.index.models.get(model)
        if spec_model is not None and now is not None:
            stamp(spec_model, record, now, created=False)
        if self.account.on_change is not None:
            self.account.on_change(model, record["id"])


@dataclass
class Change:
    """One rule application: the record being written and what the write is."""

    firm: Firm
    model: Model
    record: Record
    data: dict[str, Any]
    created: bool
    actor: int | None = None
    now: datetime | None = None
    before: Record | None = None
    seeding: bool = False

    def given(self, name: str) -> bool:
        """Whether the write itself set ``name`` (or its ``name_id`` twin)."""
        return name in self.data or f"{name}_id" in self.data

    def changed(self, name: str) -> bool:
        """Whether ``name`` differs from the stored record (always True on create)."""
        return self.before is None or self.before.get(name) != self.record.get(name)

    @property
    def today(self) -> str | None:
        return self.now.date().isoformat() if self.now is not None else None

    @property
    def timestamp(self) -> str | None:
        return self.now.isoformat(timespec="seconds") if self.now is not None else None


@dataclass(frozen=True)
class Rule:
    """One of Clio's rules for ``model``; see the module docstring for the kinds."""

    model: str
    name: str
    kind: str
    source: str
    apply: Callable[[Change], None]
    holds: Callable[[Firm, Record], bool] | None = None
    owns: tuple[str, ...] = ()  # fields the rule sets (the seeder leaves them to it)
    relaxes: tuple[str, ...] = ()  # spec-required request fields this rule replaces
    on: str = "write"  # "write" | "create" | "update"


def derived(model: str, name: str, owns: tuple[str, ...], compute: Callable[[Firm, Record], dict[str, Any]], source: str,
            when: Callable[[Record], bool] | None = None) -> Rule:
    """A rule that computes ``owns`` from the record (and other records): applying it sets
    them, and it holds when applying it again would change nothing."""

    def apply(change: Change) -> None:
        if when is None or when(change.record):
            change.record.update(compute(change.firm, change.record))

    def holds(firm: Firm, record: Record) -> bool:
        if when is not None and not when(record):
            return True
        return all(_same(record.get(k), v) for k, v in compute(firm, record).items())

    return Rule(model, name, "derive", source, apply, holds, owns)


def owner(model: str, name: str, source: str) -> Rule:
    """On create, association ``name`` (a User) defaults to the user the write acts as."""

    def apply(change: Change) -> None:
        if change.record.get(name) is None and not change.given(name) and change.actor is not None:
            if change.firm.get("User", change.actor) is not None:
                _set(change, name, change.actor)

    return Rule(model, f"{name}-defaults-to-actor", "default", source, apply, on="create")


def today(model: str, name: str, source: str) -> Rule:
    """On create, date ``name`` defaults to the mock clock's today (in the firm's time zone)."""

    def apply(change: Change) -> None:
        if change.record.get(name) is None and change.now is not None:
            change.record[name] = change.today

    return Rule(model, f"{name}-defaults-to-today", "default", source, apply, lambda f, r: r.get(name) is not None, on="create")


def count_of(model: str, name: str, association: str, source: str) -> Rule:
    """``name`` counts the ids of a to-many association (``time_entries_count``)."""
    return derived(model, name, (name,), lambda f, r: {name: len(r.get(association) or [])}, source)


def _set(change: Change, name: str, value: Any) -> None:
    change.record[name] = value
    if f"{name}_id" in change.model.fields:
        change.record[f"{name}_id"] = value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(a - b) < 0.005
    return a == b


@dataclass
class Violation:
    model: str
    record_id: Any
    rule: str
    source: str

    def __str__(self) -> str:
        return f"{self.model} {self.record_id}: {self.rule} ({self.source})"


# The order models settle in a seeded firm: what a rule reads is settled before it.
SETTLE_ORDER = (
    "User", "Contact", "CustomField", "Matter", "Folder", "DocumentVersion", "Document",
    "Activity", "LineItem", "Allocation", "Bill", "Task", "CalendarEntry", "Note", "Communication",
)
SETTLE_AGAIN = ("BillableMatter", "BillableClient")  # totals over the settled activities


@dataclass
class DomainRules:
    """The registry: every area's rules by model, applied to writes and seeded firms."""

    index: SpecIndex
    rules: dict[str, list[Rule]] = field(default_factory=dict)

    @classmethod
    def for_index(cls, index: SpecIndex) -> DomainRules:
        from mockserver.clio.rules import (
            activities,
            bills,
            calendar,
            contacts,
            documents,
            matters,
            notes,
            tasks,
        )

        registry = cls(index)
        for module in (contacts, matters, activities, bills, tasks, calendar, documents, notes):
            for rule in module.RULES:
                if rule.model in index.models:
                    registry.rules.setdefault(rule.model, []).append(rule)
        for rules in registry.rules.values():
            rules.sort(key=lambda r: KINDS.index(r.kind))
        return registry

    def all(self) -> list[Rule]:
        return [r for rules in self.rules.values() for r in rules]

    # ------------------------------------------------------------------ writes

    def install(self, writer: RecordWriter) -> None:
        """Register the rules into the writer's hook, one callable per model, first in line."""
        for model_name, rules in self.rules.items():
            writer.rules.setdefault(model_name, []).insert(0, self._hook(model_name))
            for rule in rules:
                for name in rule.relaxes:  # the rule, not the request schema, decides
                    writer.replace_required(model_name, name, rule.source)

    def _hook(self, model_name: str) -> Callable[[Account, Model, Record, dict[str, Any], bool], None]:
        def run(account: Account, model: Model, record: Record, data: dict[str, Any], created: bool) -> None:
            write = current_write()
            change = Change(Firm(account, self.index), model, record, data, created, write.actor, write.now, write.before)
            self.run(change)

        return run

    def run(self, change: Change) -> None:
        for rule in self.rules.get(change.model.name, ()):
            if rule.on == "write" or (rule.on == "create") == change.created:
                rule.apply(change)

    # ------------------------------------------------------------------ seeding

    def owned(self, model: str) -> set[str]:
        """The fields the rules set: a seeder must not generate them independently."""
        return {name for rule in self.rules.get(model, ()) for name in rule.owns}

    def settle(self, account: Account, times: Callable[[str, Record], tuple[datetime, datetime]],
               actors: Callable[[Record], int | None] | None = None, only: tuple[str, ...] | None = None) -> None:
        """Apply every rule to every seeded record, as if each was created at its
        ``created_at`` and last changed at its ``updated_at`` (``times``); ``only`` these
        models (in this order) when given."""
        firm = Firm(account, self.index, cached=True)
        order = only or (*SETTLE_ORDER, *sorted(set(self.rules) - set(SETTLE_ORDER) - set(SETTLE_AGAIN)))
        for model_name in order:
            self._settle_model(firm, model_name, times, actors)
        firm.forget()
        for model_name in SETTLE_AGAIN:
            self._settle_model(firm, model_name, times, actors, derive_only=True)

    def _settle_model(self, firm: Firm, model_name: str, times, actors, derive_only: bool = False) -> None:
        rules = self.rules.get(model_name)
        model = self.index.models.get(model_name)
        if not rules or model is None or model_name not in firm.account.tables:
            return
        creates = [r for r in rules if r.on in ("write", "create") and r.kind != "validate" and (not derive_only or r.kind == "derive")]
        # the replayed last change runs what a change triggers: transitions and their links
        updates = [r for r in rules if r.on in ("write", "update") and r.kind in ("transition", "link") and not derive_only]
        owned = () if derive_only else tuple(self.owned(model_name))
        prior_of = None if derive_only else PRIOR_STATES.get(model_name)
        for record in list(firm.table(model_name)):
            created, updated = times(model_name, record)
            actor = actors(record) if actors is not None else None
            for name in owned:
                record[name] = None
            prior = prior_of(record) if prior_of is not None else None
            final = {k: record.get(k) for k in prior} if prior else None
            if prior:
                record.update(prior)
            change = Change(firm, model, record, {}, True, actor, created, None, seeding=True)
            for rule in creates:
                rule.apply(change)
            if final:  # replay the last change, at the record's updated_at
                before = dict(record)
                record.update(final)
                change = Change(firm, model, record, dict(final), False, actor, updated, before, seeding=True)
                for rule in updates:
                    rule.apply(change)

    # ------------------------------------------------------------------ checks

    def violations(self, account: Account) -> list[Violation]:
        """Every (record, rule) pair of a firm where the rule does not hold."""
        firm = Firm(account, self.index, cached=True)
        found = []
        for model_name, rules in self.rules.items():
            checks = [r for r in rules if r.holds is not None]
            for record in firm.table(model_name):
                for rule in checks:
                    if not rule.holds(firm, record):  # type: ignore[misc]
                        found.append(Violation(model_name, record.get("id"), rule.name, rule.source))
        return found


# Seeded records are generated in their final state; settling replays the last change from
# this earlier state (a closed matter was open before, a complete task was pending), so the
# transition rules stamp their dates at the record's updated_at.
PRIOR_STATES: dict[str, Callable[[Record], dict[str, Any]]] = {}


def _prior_state(model: str, record: Record) -> dict[str, Any]:
    prior = PRIOR_STATES.get(model)
    return prior(record) if prior is not None else {}


__all__ = ["Change", "DomainRules", "Firm", "Rule", "Violation", "Write", "count_of", "derived", "owner", "today", "writing"]
