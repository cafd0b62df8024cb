"""Seeding a firm with Faker data: deterministic for a seed, referentially whole.

Two passes over the spec's stored models: first every record's scalar fields, then every
reference (``Matter.client``, ``Activity.matter``, ``DocumentVersion.document_id``...) picks
an existing record of its target, so no association points at nothing and the order of
models does not matter. Embedded values (addresses, email addresses, custom field values)
are generated inside their owner.

Then the firm is made coherent: :func:`shape` chooses the independent facts a real firm's
records share (a bill is for one of its client's matters, its line items are activities of
that matter, a paid bill has a payment, an event lasts minutes to days), and Clio's domain
rules (:mod:`mockserver.clio.rules`) derive everything else, exactly as they do on writes:
names, initials, numbers, status dates, totals, balances, billed flags.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from mockserver.clio.rules import DomainRules
from mockserver.engine.records import (
    Clock,
    embedded_id,
    set_reference,
    stamp,
)
from mockserver.engine.store import (
    STAMP,
    Account,
    Record,
    Table,
    created_of,
    updated_of,
)
from mockserver.spec.index import Model, SpecIndex, parent_links

SEED_LOG = logging.getLogger("clio_mock.seeding")

if TYPE_CHECKING:
    from mockserver.data.fakedata import ValueFaker

# How many records a default firm has, per model (others get DEFAULT_COUNT). Data, not code:
# a small practice with enough of the main models to page and filter through.
BASE_COUNTS: dict[str, int] = {
    "User": 6, "Contact": 60, "Matter": 40, "Activity": 120, "CalendarEntry": 30, "Task": 30,
    "Bill": 15, "Note": 25, "Document": 20, "Folder": 8, "Communication": 20, "PracticeArea": 6,
    "Relationship": 20, "CustomField": 6, "Group": 3, "Calendar": 4, "Currency": 4,
    "DocumentVersion": 30, "Webhook": 0, "Timer": 0, "LineItem": 60, "Allocation": 12,
}
DEFAULT_COUNT = 3
EMBEDDED_POOL = 200  # distinct generated values per embedded kind, per firm
SINGLE_EMBEDDED_SHARE = 0.35
LEGAL_AID_UK = "LegalAidUk"  # the models of UK legal aid details, seeded null (see Seeder._embedded)


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


class SeedProgress:
    """Says how far seeding a big firm is, on the ``clio_mock.seeding`` logger (info; the CLI
    shows it, a library user sees nothing unless they configure logging): at most a line a
    second, and only once seeding has taken a second."""

    every = 1.0  # seconds between lines

    def __init__(self, account: Account, planned: int) -> None:
        self.account, self.planned = account, max(planned, 1)
        self.started = self.last = time.perf_counter()
        self.done = {"records": 0, "references": 0}
        self.spoke = False

    def advance(self, phase: str, model: str, n: int) -> None:
        self.done[phase] += n
        now = time.perf_counter()
        if now - self.last >= self.every and now - self.started >= self.every:
            self.last, self.spoke = now, True
            step = 1 if phase == "records" else 2
            SEED_LOG.info("seeding firm %s (%s): %s %s/%s (%s), step %s/2, %.0fs", self.account.id, self.account.name, phase,
                          f"{self.done[phase]:,}", f"{self.planned:,}", model, step, now - self.started,
                          extra={"account_id": self.account.id, "phase": phase, "done": self.done[phase], "planned": self.planned})

    def finish(self) -> None:
        if self.spoke:
            SEED_LOG.info("seeded firm %s (%s): %s records in %.1fs", self.account.id, self.account.name, f"{self.account.count():,}",
                          time.perf_counter() - self.started)


class Seeder:
    """Fills an account with generated records for the spec's stored models."""

    def __init__(self, index: SpecIndex, clock: Clock, view_models: set[str], singletons: set[str], mirrors: dict[str, str],
                 rules: DomainRules | None = None) -> None:
        self.mirrors = mirrors
        self.rules = rules if rules is not None else DomainRules.for_index(index)
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
        progress = SeedProgress(account, sum(plan.count(m.name) for m in models))
        for model in models:
            count = plan.count(model.name)
            if model.name in self.singletons:  # firm settings exist once; a timer only once started
                count = min(count, 1)
            for n in range(1, count + 1):
                self._insert_scalars(account, model, faker, rng)
                if not n % 4096:
                    progress.advance("records", model.name, 4096)
            progress.advance("records", model.name, count % 4096)
        for model in models:
            if model.name in self.mirrors:
                self._mirror(account, model, self.mirrors[model.name])
        for model in models:
            links = self._links(model)
            for n, record in enumerate(account.table(model.name), 1):
                self._fill_references(account, model, record, faker, rng, links)
                if not n % 4096:
                    progress.advance("references", model.name, 4096)
            progress.advance("references", model.name, len(account.table(model.name)) % 4096)
        self.settle(account, faker, rng)
        progress.finish()

    def settle(self, account: Account, faker: ValueFaker, rng: random.Random) -> None:
        """Shape the independent facts, let the rules derive the rest, then pay the bills
        meant to be paid (a payment's amount needs the bill's derived total)."""
        paid = shape(account, faker, rng)
        tz = self.clock.tz

        def times(model: str, record: Record) -> tuple[datetime, datetime]:
            created = created_of(record)
            updated = updated_of(record) or created
            if created is None:
                now = self.clock.now()
                return now, now
            return datetime.fromtimestamp(created, tz), datetime.fromtimestamp(updated, tz)

        self.rules.settle(account, times)
        if pay(account, paid):
            self.rules.settle(account, times, only=("Allocation", "Bill"))

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
        contingency fee) on about a third of records, null on the rest, as in a real firm.
        UK legal aid details (``legal_aid_uk_matter``...) stay null: only a UK firm with legal
        aid has them, and the seeded firms are not (UNCONFIRMED: chosen because Clio's US, CA
        and AU firms never use the UK Legal Aid Agency's fields)."""
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
        if target.startswith(LEGAL_AID_UK):  # drawn all the same: the rest of a seed's firm stays as it was
            return [] if many else None
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
        for name, assoc in model.associations.items():
            if assoc.stored and not assoc.many:
                item[name] = self._pick(account, assoc.target, rng)
        if "id" in item:
            item["id"] = embedded_id(account, target, item)  # after references: some ids are composite
        if "etag" in item:  # quoted 32 hex digits, as Clio's; drawn, not hashed (a million of them at scale)
            item["etag"] = f'"{rng.getrandbits(128):032x}"'
        return item

    def _generate_embedded(self, target: str, schema_name: str, faker: ValueFaker) -> dict:
        model = self.index.models.get(target)
        if model is None:
            return faker.value(target, target, self.index.schemas.get(schema_name, {"type": "object"}))
        return {name: faker.value(target, name, schema) for name, schema in model.fields.items()}


# ------------------------------------------------------------------ coherence


def shape(account: Account, faker: ValueFaker, rng: random.Random) -> set[int]:
    """Choose the facts records share that no rule derives; returns the ids of bills to pay."""
    tables = account.tables
    for user in _rows(tables, "User"):  # staff emails at the firm's domain, from their names
        user["email"] = faker.staff_email(user.get("first_name"), user.get("last_name"))
    for contact in _rows(tables, "Contact"):
        if contact.get("type") == "Company":
            contact["name"] = faker.company_name()
        elif rng.random() < 0.8:  # most people are known by first and last name only
            contact["middle_name"] = None
    for item in _rows(tables, "Document") + _rows(tables, "Folder"):
        item["locked"] = rng.random() < 0.05  # a few held for review; most are not
        item["deleted_at"] = None  # nothing generated is in the trash
        if "root" in item:
            item["root"] = False
    for event in _rows(tables, "CalendarEntry"):
        _event_times(event, rng)
    for activity in _rows(tables, "Activity"):
        if activity.get("type") != "TimeEntry":  # expenses count units, not seconds
            activity["quantity"] = float(rng.randint(1, 3))
            activity["flat_rate"] = False
        else:  # hourly work, now and then a flat fee
            activity["flat_rate"] = rng.random() < 0.1
        activity["non_billable"] = rng.random() < 0.1
    _custom_field_values(account, rng)
    return _billing(account, rng)


def _custom_field_values(account: Account, rng: random.Random) -> None:
    """A custom field value is for a field of its record's kind, with a value of the field's
    type (a number for ``numeric``, a date for ``date``...), and its id names that type."""
    fields: dict[str, list[Record]] = {}
    for custom_field in _rows(account.tables, "CustomField"):
        fields.setdefault(custom_field.get("parent_type") or "", []).append(custom_field)
    for model in ("Matter", "Contact"):
        choices = fields.get(model)
        for record in _rows(account.tables, model):
            values = record.get("custom_field_values")
            if not values:
                continue
            if not choices:
                record["custom_field_values"] = []
                continue
            for value in values:
                field = choices[rng.randrange(len(choices))]
                kind = field.get("field_type") or "text_line"
                value["custom_field"] = field["id"]
                value["value"] = _field_value(kind, value.get("value"), rng)
                if isinstance(value.get("id"), str) and "-" in value["id"]:
                    value["id"] = f"{kind}-{value['id'].rsplit('-', 1)[1]}"


def _field_value(kind: str, text: Any, rng: random.Random) -> Any:
    if kind in ("numeric", "currency"):
        return f"{rng.randint(1, 250_000) / 100:.2f}"
    if kind == "date":
        return f"{rng.randint(2019, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if kind == "time":
        return f"{rng.randint(8, 17):02d}:{rng.choice(('00', '15', '30', '45'))}"
    if kind == "checkbox":
        return "true" if rng.random() < 0.5 else "false"  # the value is a string in Clio's schema
    if kind == "email":
        return f"records{rng.randint(1, 999)}@example.com"
    if kind == "url":
        return f"https://example.com/case/{rng.randint(1, 99_999)}"
    return text


def _rows(tables: dict[str, Table], model: str) -> list[Record]:
    table = tables.get(model)
    return list(table.rows.values()) if table is not None else []


def _event_times(event: Record, rng: random.Random) -> None:
    """An event lasts minutes to days: a quarter hour to three days after it starts."""
    start = event.get("start_at")
    if not isinstance(start, str):
        return
    begins = datetime.fromisoformat(start)
    if event.get("all_day"):
        begins = begins.replace(hour=0, minute=0, second=0)
        ends = begins + timedelta(days=rng.choice((1, 1, 1, 2, 3)))
    else:
        ends = begins + timedelta(minutes=rng.choice((15, 30, 30, 60, 60, 90, 120, 180, 480, 1440, 2880)))
    event["start_at"], event["end_at"] = begins.isoformat(timespec="seconds"), ends.isoformat(timespec="seconds")


def _billing(account: Account, rng: random.Random) -> set[int]:
    """Bills are for a matter of their client; line items are that matter's activities, and
    the activities they carry are on the bill; a bill meant paid gets a payment."""
    tables = account.tables
    matters = tables.get("Matter")
    bills = _rows(tables, "Bill")
    if matters is None or not len(matters) or not bills:
        for line in _rows(tables, "LineItem"):
            line["bill"] = line["activity"] = None
        return set()
    by_matter: dict[int, list[Record]] = {}
    for bill in bills:
        matter = matters.get(matters.ids[rng.randrange(len(matters.ids))])
        bill["type"], bill["matters"] = "MatterBill", [matter["id"]]
        bill["client"] = matter.get("client")
        by_matter.setdefault(matter["id"], []).append(bill)
    activities = _rows(tables, "Activity")
    for activity in activities:
        activity["bill"] = None
    # Activities of billed matters, some of them on each of those bills.
    candidates = [a for a in activities if a.get("matter") in by_matter]
    rng.shuffle(candidates)
    for activity in activities[: max(0, len(by_matter) * 2 - len(candidates))]:
        matter_id = rng.choice(list(by_matter))  # not enough: move a few activities to billed matters
        activity["matter"] = matter_id
        candidates.append(activity)
    lines = _rows(tables, "LineItem")
    carried: dict[int, int] = {}
    for line, activity in zip(lines, candidates):
        bill = rng.choice(by_matter[activity["matter"]])
        activity["bill"] = line["bill"] = bill["id"]
        activity["non_billable"] = False  # what is billed is billable
        line["activity"], line["matter"] = activity["id"], activity["matter"]
        for name in ("price", "quantity", "date", "description", "kind", "type", "user", "group_ordering"):
            line.pop(name, None)  # the line item is made from its activity (a rule copies them)
        carried[bill["id"]] = carried.get(bill["id"], 0) + 1
    for line in lines[len(candidates):]:
        line["bill"] = line["activity"] = None
    allocations = _rows(tables, "Allocation")
    for allocation in allocations:
        allocation["bill"], allocation["voided_at"] = None, None
    paid: set[int] = set()
    free = list(allocations)
    for n, bill in enumerate(bills):
        if not carried.get(bill["id"]):
            bill["state"] = "draft"  # nothing on it yet
        elif n == 0:  # the firm's first bill is unpaid, so a DELETE of the first bill voids it (204)
            bill["state"] = "awaiting_payment" if bill.get("state") == "paid" else bill.get("state")
        elif bill.get("state") in ("paid", "awaiting_payment") and free:
            allocation = free.pop()
            allocation["bill"], allocation["amount"] = bill["id"], 0.0
            allocation["contact"] = bill.get("client")
            allocation["matter"] = bill["matters"][0]
            if bill["state"] == "paid":
                paid.add(bill["id"])
                bill["state"] = "awaiting_payment"  # paid once its payment is in (pay)
        elif bill.get("state") == "paid":
            bill["state"] = "awaiting_payment"
    return paid


def pay(account: Account, paid: set[int]) -> bool:
    """The payments shaped for bills: the whole balance of a bill meant paid, a part of the
    others'. Returns whether any amount was set (the bills then settle again)."""
    bills = account.tables.get("Bill")
    changed = False
    for allocation in _rows(account.tables, "Allocation"):
        bill = bills.get(allocation.get("bill")) if bills is not None else None
        if bill is None:
            continue
        due = float(bill.get("due") or 0.0)
        allocation["amount"] = round(due if bill["id"] in paid else due * 0.4, 2)
        for name in ("created_at", "updated_at"):  # paid when last billed
            allocation[name] = bill.get(name, allocation.get(name))
        if bill.get(STAMP) and allocation.get(STAMP):
            allocation[STAMP] = (*bill[STAMP][:2], allocation[STAMP][2])
        changed = True
    return changed
