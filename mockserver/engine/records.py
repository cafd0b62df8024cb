"""Writing to records the way Clio does: attributes, associations, nested attributes, stamps.

Request data (``{"data": {...}}`` already validated against the operation's schema) is
applied to a stored record: scalars by name (enum values matched case-insensitively, since
Clio takes ``status=open`` and returns ``Open``), associations as ``{"id": N}``, and arrays of
nested values by Rails' nested-attributes rules (``id`` updates, no ``id`` creates,
``_destroy`` removes).
"""

from __future__ import annotations

import hashlib
import math
import time as _time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from mockserver.engine.errors import not_found, unprocessable
from mockserver.engine.store import STAMP, Account, Record, created_of, version_of
from mockserver.engine.writes import INT64
from mockserver.spec.index import Model, SpecIndex


class Clock:
    """The mock's notion of now; frozen or shifted by the control API in tests."""

    def __init__(self, tz: tzinfo | None = None) -> None:
        self.tz = tz or timezone(timedelta(hours=-5))
        self.frozen: datetime | None = None
        self.offset = timedelta(0)

    @property
    def offset(self) -> timedelta:
        """How far the clock is shifted from real time (the control API's ``advance``)."""
        return self._offset

    @offset.setter
    def offset(self, value: timedelta) -> None:
        self._offset, self._shift = value, value.total_seconds()  # time() runs on every request

    def now(self) -> datetime:
        base = self.frozen or datetime.now(timezone.utc)
        return (base + self.offset).astimezone(self.tz)

    def time(self) -> float:
        """Now as a Unix timestamp (on every request: no datetime unless the clock is frozen)."""
        if self.frozen is None:
            return _time.time() + self._shift
        return (self.frozen + self.offset).timestamp()

    def reset(self) -> None:
        """Back to real time."""
        self.frozen, self.offset = None, timedelta(0)


def make_etag(model: str, record_id: int, version: int) -> str:
    """An etag as Clio writes it: a quoted 32-hex string."""
    return '"' + hashlib.md5(f"{model}:{record_id}:{version}".encode()).hexdigest() + '"'


def stamp(model: Model, record: Record, now: datetime, created: bool) -> None:
    """Set timestamps and a fresh etag after a write."""
    iso = now.isoformat(timespec="seconds")
    moment = now.timestamp()
    if created and "created_at" in model.fields:
        record["created_at"] = iso
    if "updated_at" in model.fields:
        record["updated_at"] = iso
    version = (version_of(record) or 0) + 1
    record[STAMP] = (moment if created else created_of(record), moment, version)
    if "etag" in model.fields:
        record["etag"] = make_etag(model.name, record["id"], version)


def set_reference(model: Model, record: Record, name: str, target_id: int | None) -> None:
    """Point association ``name`` at a record, keeping Clio's scalar twin (``client_id``) in step."""
    record[name] = target_id
    if f"{name}_id" in model.fields:
        record[f"{name}_id"] = target_id


# A record's identity and version: never taken from data (stamp sets them).
IDENTITY = frozenset({"id", "etag"})

Rule = Callable[[Account, Model, Record, dict[str, Any], bool], None]


@dataclass(frozen=True)
class Write:
    """What a model rule may need beyond the record and the request data: who writes (the
    token's user, for owner defaults), when (the mock clock), and the record as it was."""

    actor: int | None = None  # a User id, or None (a write with no user: seeding, a bare control call)
    now: datetime | None = None
    before: Record | None = None  # the stored record before an update; None on create


_WRITE: ContextVar[Write] = ContextVar("clio_mock_write", default=Write())


def current_write() -> Write:
    """The write being applied (set by :class:`RecordWriter` around its model rules)."""
    return _WRITE.get()


@contextmanager
def writing(write: Write) -> Iterator[None]:
    """Run model rules with ``write`` as the current write (the seeder uses it too)."""
    token = _WRITE.set(write)
    try:
        yield
    finally:
        _WRITE.reset(token)


class RecordWriter:
    """Applies request data to records of one account."""

    def __init__(self, index: SpecIndex, clock: Clock) -> None:
        self.index = index
        self.models = index.models
        self.clock = clock
        # Model rules Clio documents beyond the schema (webhook URLs, expiry, the domain rules
        # of mockserver.clio.rules): called as rule(account, model, record, data, created)
        # after the data is applied, before the write is kept, with current_write() telling
        # the actor, the time and the record before; a ClioError rejects the write.
        self.rules: dict[str, list[Rule]] = {}
        # Required request fields a documented rule replaces, per model: {field: reason}
        # (the Person first/last-name rule replaces Contact ``name``). The request validator
        # drops them from the schema's ``required``; the rule then judges the write.
        self.replaced_required: dict[str, dict[str, str]] = {}
        self._made: list[list[tuple[str, int]]] = []  # per update in progress (writes hold the store's lock)

    def replace_required(self, model: str, field: str, reason: str) -> None:
        """Let a rule, not the request schema, decide whether ``field`` of ``model`` is required."""
        self.replaced_required.setdefault(model, {})[field] = reason

    def create(self, account: Account, model: Model, data: dict[str, Any], preset: Record | None = None, actor: int | None = None) -> Record:
        """Insert a new record of ``model`` with ``data`` applied; nothing is stored on error.

        ``preset`` holds values set before the data (a parent link, a copied record); ``actor``
        is the user the write acts as (the token's user), for the rules' owner defaults.
        Callers tell the store's listeners (``store.notify``) once the record is in.
        """
        record: Record = {k: v for k, v in (preset or {}).items() if k != "id"}
        table = account.table(model.name)
        table.insert(record)
        made: list[tuple[str, int]] = []  # records nested attributes create: undone on failure
        self._made.append(made)
        try:
            self.fill(account, model, record, data, actor)
        except Exception:
            for name, made_id in reversed(made):
                account.table(name).delete(made_id)
            table.delete(record["id"])
            raise
        finally:
            self._made.pop()
        stamp(model, record, self.clock.now(), created=True)
        return record

    def fill(self, account: Account, model: Model, record: Record, data: dict[str, Any], actor: int | None = None) -> None:
        """Give a new, already inserted record its data and model rules (scenarios reserve
        ids first so records can refer to ones declared later)."""
        self.apply(account, model, record, data)
        with writing(Write(actor, self.clock.now(), None)):
            self._rules(account, model, record, data, True)

    def update(self, account: Account, model: Model, record: Record, data: dict[str, Any], actor: int | None = None) -> Record:
        """Merge ``data`` into ``record`` (PATCH); all or nothing. Returns the record as it was."""
        before = dict(record)
        draft = dict(record)
        made: list[tuple[str, int]] = []  # records nested attributes create: undone on failure
        self._made.append(made)
        try:
            self.apply(account, model, draft, data)
            with writing(Write(actor, self.clock.now(), before)):
                self._rules(account, model, draft, data, False)
        except Exception:
            for name, made_id in reversed(made):
                account.table(name).delete(made_id)
            raise
        finally:
            self._made.pop()
        stamp(model, draft, self.clock.now(), created=False)
        record.clear()
        record.update(draft)  # in place: references to the dict stay valid
        return before

    def _rules(self, account: Account, model: Model, record: Record, data: dict[str, Any], created: bool) -> None:
        for rule in self.rules.get(model.name, ()):
            rule(account, model, record, data, created)

    def apply(self, account: Account, model: Model, record: Record, data: dict[str, Any]) -> None:
        for key, value in data.items():
            if key in model.associations:
                self._association(account, model, record, key, value)
            elif key.endswith("_id") and _is_reference(model, key[:-3]):
                # client_id=5 is the client association written as its scalar twin
                self._association(account, model, record, key[:-3], {"id": value} if value is not None else None)
            elif key in model.fields and key not in IDENTITY:
                record[key] = self.fit(key, value, model.fields[key])

    def fit(self, name: str, value: Any, schema: dict[str, Any]) -> Any:
        """``value`` as the record's own schema types it. The request schemas are looser than
        the records' (a date where the record has a date-time, a number for an integer field):
        cast what can be cast, answer 422 for what cannot be stored (a value out of range).
        Enums are the request's business (the request validator judged the value): a value
        is stored in the record's spelling where one matches but for case, else as sent
        (a phone number named ``Mobile``, which the record's narrower enum does not list)."""
        if value is None:
            return None
        kind, fmt = schema.get("type"), schema.get("format")
        try:
            if kind == "string" and fmt == "date-time" and isinstance(value, str):
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
                return (parsed if parsed.tzinfo else parsed.replace(tzinfo=self.clock.tz)).isoformat(timespec="seconds")
            if kind == "string" and fmt == "date" and isinstance(value, str):
                return datetime.fromisoformat(value.replace("Z", "+00:00")).date().isoformat()
            if kind == "integer" and isinstance(value, (int, float, str)) and not isinstance(value, bool):
                number = value if isinstance(value, int) else int(round(float(value)))
                if not INT64[0] <= number <= INT64[1]:
                    raise ValueError(value)
                return number
            if kind == "number" and isinstance(value, (int, float, str)) and not isinstance(value, bool):
                real = float(value)
                if not math.isfinite(real):
                    raise ValueError(value)
                return real
            if kind == "boolean" and not isinstance(value, bool):
                if str(value).lower() in ("true", "1"):
                    return True
                if str(value).lower() in ("false", "0"):
                    return False
                raise ValueError(value)
            if kind == "string" and not isinstance(value, str):
                raise ValueError(value)
        except (TypeError, ValueError, OverflowError):
            raise unprocessable(f"{name}: {value!r} is not a valid {fmt or kind}") from None
        value = fit_enum(value, schema)
        if schema.get("enum") and len(schema["enum"]) == 1:
            # A one-value enum names what the record is whatever was sent: a document's
            # parent may be given as a Matter or Folder, and is always stored as its Folder.
            return schema["enum"][0]
        return value

    def _association(self, account: Account, model: Model, record: Record, key: str, value: Any) -> None:
        assoc = model.associations[key]
        target = self.models.get(assoc.target)
        if assoc.stored and not assoc.many:
            set_reference(model, record, key, self._reference(account, assoc.target, key, value))
        elif assoc.stored:
            created = self._nested_creates(account, model, record, assoc.target, value)
            record[key] = self._references(account, assoc.target, key, record.get(key) or [], value) + created
        elif assoc.many:
            record[key] = self._nested_many(account, target, assoc.target, record.get(key) or [], value)
        elif value is None:
            record[key] = None  # null clears an embedded value
        elif isinstance(value, dict):
            current = dict(record.get(key) or {})
            if target is not None:
                self.apply(account, target, current, value)
                if "id" in value and "id" in target.fields:
                    current["id"] = value["id"]  # an embedded reference ({"id", "type"}) names its record
            else:
                current.update(value)
            record[key] = current

    def _reference(self, account: Account, target: str, key: str, value: Any) -> int | None:
        ref = value.get("id") if isinstance(value, dict) else value
        if ref is None:
            return None
        if not isinstance(ref, int) or account.table(target).get(ref) is None:
            raise not_found(f"{key} with id {ref} was not found")
        return ref

    def _nested_creates(self, account: Account, model: Model, record: Record, target: str, value: Any) -> list[int]:
        """Rails nested attributes on a to-many of stored records: an item without ``id``
        creates a record of the target (a matter's relationship), pointing back at ``record``."""
        target_model = self.models.get(target)
        if target_model is None or not isinstance(value, list):
            return []
        back = next((n for n, a in target_model.associations.items() if a.target == model.name and a.stored and not a.many), None)
        made = []
        for item in value:
            if isinstance(item, dict) and item.get("id") is None and not item.get("_destroy") and any(k != "_destroy" for k in item):
                data = {k: v for k, v in item.items() if k != "id"}
                preset: Record = {}
                if back is not None and "id" in record:
                    set_reference(target_model, preset, back, record["id"])
                outer = self._made[-1] if self._made else None
                child = self.create(account, target_model, data, preset)
                made.append(child["id"])
                if outer is not None:
                    outer.append((target, child["id"]))
        return made

    def _references(self, account: Account, target: str, key: str, current: list[int], value: Any) -> list[int]:
        ids = list(current)
        for item in value if isinstance(value, list) else []:
            ref = item.get("id") if isinstance(item, dict) else item
            if isinstance(item, dict) and item.get("_destroy"):
                ids = [i for i in ids if i != ref]
            elif ref is not None and ref not in ids:
                ids.append(self._reference(account, target, key, ref))  # type: ignore[arg-type]
        return ids

    def _nested_many(self, account: Account, target: Model | None, name: str, current: list, value: Any) -> list:
        """Rails nested attributes on an embedded array."""
        items = [dict(i) for i in current]
        now = self.clock.now()
        for change in value if isinstance(value, list) else []:
            if not isinstance(change, dict):
                continue
            change = dict(change)
            destroy = change.pop("_destroy", False)
            wanted = change.pop("id", None)
            found = next((i for i in items if wanted is not None and same_id(i.get("id"), wanted)), None)
            if destroy:
                items = [i for i in items if i is not found]
                continue
            created = found is None
            if created:
                found = {}
            if target is not None:
                self.apply(account, target, found, change)
            else:
                found.update(change)
            if created:
                found["id"] = embedded_id(account, name, found)
                items.append(found)
            if target is not None:
                stamp(target, found, now, created=created)
        return items


# Embedded values whose ids Clio composes from a referenced record (BEHAVIOR.md 4.2: custom
# field values are "text_line-1", "picklist-2": the custom field's type and a number).
COMPOSITE_IDS = {"CustomFieldValue": ("custom_field", "CustomField", "field_type")}


def embedded_id(account: Account, model: str, item: Record) -> int | str:
    """A new id for an embedded value of ``model``: a number, or Clio's composite string."""
    number = account.next_embedded_id(model)
    composite = COMPOSITE_IDS.get(model)
    if composite is None:
        return number
    key, target, field = composite
    ref = item.get(key)
    ref = ref.get("id") if isinstance(ref, dict) else ref
    other = account.table(target).get(ref) if isinstance(ref, int) else None
    return f"{(other or {}).get(field) or 'text_line'}-{number}"


def same_id(stored: Any, given: Any) -> bool:
    """Whether a nested-attributes ``id`` names a stored value: equal, equal as text, or the
    number of a composite id (``5`` for ``"text_line-5"``, as the request schema types it)."""
    if stored == given or str(stored) == str(given):
        return True
    return isinstance(stored, str) and "-" in stored and stored.rsplit("-", 1)[1] == str(given)


def _is_reference(model: Model, name: str) -> bool:
    assoc = model.associations.get(name)
    return assoc is not None and assoc.stored and not assoc.many


def fit_enum(value: Any, schema: dict[str, Any]) -> Any:
    """Match enum values case-insensitively to the stored spelling."""
    enum = schema.get("enum")
    if enum and isinstance(value, str) and value not in enum:
        lowered = value.lower().replace(" ", "_")
        for option in enum:
            if isinstance(option, str) and option.lower().replace(" ", "_") == lowered:
                return option
    return value
