"""Seeding a firm with Faker data: deterministic for a seed, referentially whole.

Two passes over the spec's stored models: first every record's scalar fields, then every
reference (``Matter.client``, ``Activity.matter``, ``DocumentVersion.document_id``...) picks
an existing record of its target, so no association points at nothing and the order of
models does not matter. Embedded values (addresses, email addresses, custom field values)
are generated inside their owner.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from mockserver.engine.records import (
    Clock,
    assign_number,
    make_etag,
    set_reference,
    stamp,
)
from mockserver.engine.store import Account, Record, Table
from mockserver.spec.index import Model, SpecIndex, parent_links

if TYPE_CHECKING:
    from mockserver.data.fakedata import ValueFaker

# How many records a default firm has, per model (others get DEFAULT_COUNT). Data, not code:
# a small practice with enough of the main models to page and filter through.
BASE_COUNTS: dict[str, int] = {
    "User": 6, "Contact": 60, "Matter": 40, "Activity": 120, "CalendarEntry": 30, "Task": 30,
    "Bill": 15, "Note": 25, "Document": 20, "Folder": 8, "Communication": 20, "PracticeArea": 6,
    "Relationship": 20, "CustomField": 6, "Group": 3, "Calendar": 4, "Currency": 4,
    "DocumentVersion": 30, "Webhook": 0, "Timer": 0,
}
DEFAULT_COUNT = 3
EMBEDDED_POOL = 200  # distinct generated values per embedded kind, per firm
SINGLE_EMBEDDED_SHARE = 0.35


@dataclass
class SeedPlan:
    """What to seed: a seed, a scale factor and per-model overrides (``Matter=5000``)."""

    seed: int = 42
    scale: float = 1.0
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, model: str) -> int:
        if model in self.counts:
            return self.counts[model]
        return int(round(BASE_COUNTS.get(model, DEFAULT_COUNT) * self.scale))


class Seeder:
    """Fills an account with generated records for the spec's stored models."""

    def __init__(self, index: SpecIndex, clock: Clock, view_models: set[str], singletons: set[str], mirrors: dict[str, str]) -> None:
        self.mirrors = mirrors
        self.index = index
        self.clock = clock
        self.view_models = view_models
        self.singletons = singletons

    def seed(self, account: Account, plan: SeedPlan) -> None:
        from mockserver.data.fakedata import (
            ValueFaker,  # Faker is slow to import; warm starts skip it
        )

        faker = ValueFaker(plan.seed + account.id * 7919)
        self.pools: dict[str, list[dict]] = {}
        rng = random.Random(plan.seed * 1_000_003 + account.id)
        models = [m for m in sorted(self.index.models.values(), key=lambda m: m.name) if self.seedable(m)]
        for model in models:
            count = plan.count(model.name)
            if model.name in self.singletons:  # firm settings exist once; a timer only once started
                count = min(count, 1)
            for _ in range(count):
                self._insert_scalars(account, model, faker, rng)
        for model in models:
            if model.name in self.mirrors:
                self._mirror(account, model, self.mirrors[model.name])
        for model in models:
            links = self._links(model)
            for record in account.table(model.name):
                self._fill_references(account, model, record, faker, rng, links)

    def seedable(self, model: Model) -> bool:
        return model.stored and model.name not in self.view_models

    def _insert_scalars(self, account: Account, model: Model, faker: ValueFaker, rng: random.Random) -> Record:
        record: Record = {}
        for name, schema in model.fields.items():
            if name not in ("id", "etag", "created_at", "updated_at"):
                record[name] = faker.value(model.name, name, schema)
        account.table(model.name).insert(record)
        now = self.clock.now()
        created = now - timedelta(seconds=rng.randint(3600, 2 * 365 * 86400))
        updated = created + timedelta(seconds=rng.randint(0, int((now - created).total_seconds())))
        stamp(model, record, created, created=True)  # created some time ago,
        stamp(model, record, updated, created=False)  # last touched since then
        _cohere(model, record)
        return record

    def _mirror(self, account: Account, model: Model, source: str) -> None:
        """A read-only view table (BillableMatter) shares ids and common fields with its source."""
        generated = list(account.table(model.name))
        table = account.tables[model.name] = Table(account.first_id)
        for record, origin in zip(generated, account.table(source)):
            common = {k: v for k, v in origin.items() if k in model.fields or k in model.associations or k.startswith("_")}
            table.insert({**record, **common, "id": origin["id"]})

    def _links(self, model: Model) -> list[tuple[str, str]]:
        """(record key, model) pairs whose key must hold an id of that model: ``X_id`` scalars
        naming a stored model, and the hidden parent links of nested collections."""
        links = [
            (name, target)
            for name, schema in model.fields.items()
            if schema.get("type") == "integer" and name[:-3] not in model.associations
            and (target := self.index.model_for_id_field(name))
        ]
        for op in self.index.operations:
            if op.model == model.name and op.action == "index":
                links += [(link.key, link.parent) for link in parent_links(self.index, op) if link.key.startswith("_")]
        return links

    def _fill_references(
        self, account: Account, model: Model, record: Record, faker: ValueFaker, rng: random.Random, links: list
    ) -> None:
        for name, assoc in model.associations.items():
            if assoc.stored and not assoc.many:
                set_reference(model, record, name, self._pick(account, assoc.target, rng))
            elif assoc.stored:
                record[name] = []
            else:
                record[name] = self._embedded(account, assoc.target, assoc.schema_name, assoc.many, faker, rng)
        for key, parent in links:
            record[key] = self._pick(account, parent, rng)

    def _pick(self, account: Account, target: str, rng: random.Random) -> int | None:
        ids = account.table(target).ids
        return ids[rng.randrange(len(ids))] if ids else None

    def _embedded(self, account: Account, target: str, schema_name: str, many: bool, faker: ValueFaker, rng: random.Random) -> Any:
        """Embedded values: 1-2 items in arrays (addresses, emails); a single value (budget,
        contingency fee) on about a third of records, null on the rest, as in a real firm."""
        if not many and rng.random() >= SINGLE_EMBEDDED_SHARE:
            return None
        lists = self.pools.setdefault(f"{target}[]", [])  # whole arrays are pooled too
        if many and len(lists) >= EMBEDDED_POOL:
            return lists[rng.randrange(len(lists))]
        count = rng.randint(1, 2) if many else 1
        items = [self._embedded_one(account, target, schema_name, faker, rng) for _ in range(count)]
        if many and items and "primary" in items[0]:
            items = [{**item, "primary": i == 0} for i, item in enumerate(items)]  # pooled: copy, not change
        if many:
            lists.append(items)
        return items if many else items[0]

    def _embedded_one(self, account: Account, target: str, schema_name: str, faker: ValueFaker, rng: random.Random) -> dict:
        """An embedded value from a per-firm pool: the first EMBEDDED_POOL of a kind are new,
        each with its own id and references; later records share pooled ones (so in a big firm
        an embedded value's id repeats across records). Generating every embedded value of
        100k records was 90% of seeding time, and keeping a copy of each most of its memory;
        sharing is safe because writes replace nested values, never change them in place."""
        pool = self.pools.setdefault(target, [])
        if len(pool) >= EMBEDDED_POOL:
            return pool[rng.randrange(len(pool))]
        item = self._generate_embedded(target, schema_name, faker)
        pool.append(item)
        model = self.index.models.get(target)
        if model is None:
            return item
        if "id" in item:
            item["id"] = account.next_embedded_id(target)
        if "etag" in item:
            item["etag"] = make_etag(target, item["id"], 1)
        for name, assoc in model.associations.items():
            if assoc.stored and not assoc.many:
                item[name] = self._pick(account, assoc.target, rng)
        return item

    def _generate_embedded(self, target: str, schema_name: str, faker: ValueFaker) -> dict:
        model = self.index.models.get(target)
        if model is None:
            return faker.value(target, target, self.index.schemas.get(schema_name, {"type": "object"}))
        return {name: faker.value(target, name, schema) for name, schema in model.fields.items()}


def _cohere(model: Model, record: Record) -> None:
    """Cross-field consistency a real firm's data has (names, numbers)."""
    if {"first_name", "last_name", "name"} <= model.fields.keys() and record.get("type", "Person") == "Person":
        record["name"] = f"{record['first_name']} {record['last_name']}"
    record.pop("number", None), record.pop("display_number", None)
    assign_number(model, record)
