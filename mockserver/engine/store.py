"""State: records per account (a Clio firm), per model, with integer ids.

A record is a plain dict holding the model's scalar fields, its references to other stored
records as ids (``{"client": 12}``, ``{"relationships": [3, 4]}``) and its embedded values
inline. A null field may be absent (read fields with ``.get``), and nested values (embedded
objects and arrays) may be shared between records: writes replace them, never change them in
place. Serialising a record for a response is :mod:`mockserver.engine.serializer`'s job.

The store keeps ids of each table in ascending order so a cursor page is a bisect, not a
scan: list latency does not grow with the table.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]


def release_memory() -> None:
    """Hand freed heap back to the OS (glibc keeps it otherwise): seeding a big firm frees
    about a third of what it allocated. Nothing to do elsewhere."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


# When a record was created and last written, and its version (bumped by every write), in
# one key rather than three: a record's dict stays in a smaller size class (a 64-slot table
# holds 42 keys, the next size doubles it), which is most of a matter's memory at 100k.
STAMP = "_stamp"


def created_of(record: Record) -> float | None:
    """When the record was created (a Unix timestamp), if the mock stamped it."""
    stamp = record.get(STAMP)
    return stamp[0] if stamp else None


def updated_of(record: Record) -> float | None:
    """When the record was last written (a Unix timestamp), if the mock stamped it."""
    stamp = record.get(STAMP)
    return stamp[1] if stamp else None


def version_of(record: Record) -> int | None:
    """How many writes the record has had (its etag follows it), if the mock stamped it."""
    stamp = record.get(STAMP)
    return stamp[2] if stamp else None


SHORT_TEXT = 16  # dates, enum values, codes: few distinct values, one copy of each


def compact(record: Record, strings: dict[str, str] | None = None) -> Record:
    """The record without its null fields: an absent field reads as null (every reader uses
    ``.get``) and a record a few keys smaller often fits a dict half the size. Short strings
    equal to one in ``strings`` become that one (a firm's dates and enum values, once each)."""
    if strings is None:
        return {key: value for key, value in record.items() if value is not None}
    share = strings.setdefault
    return {key: share(value, value) if type(value) is str and len(value) <= SHORT_TEXT else value
            for key, value in record.items() if value is not None}


class Table:
    """The records of one model in one account, in id order."""

    def __init__(self, first_id: int = 1, model: str = "", on_change: Callable[[str, int], None] | None = None) -> None:
        self.rows: dict[int, Record] = {}
        self.ids: list[int] = []  # ascending
        self.next_id = first_id
        self.model = model
        self.on_change = on_change  # told (model, id) of inserts and deletes, for persistence

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, record_id: int) -> Record | None:
        return self.rows.get(record_id)

    def insert(self, record: Record) -> Record:
        """Store a new record, assigning the next id unless it carries one."""
        record_id = record.get("id") or self.next_id
        record["id"] = record_id
        self.next_id = max(self.next_id, record_id + 1)
        if record_id not in self.rows:
            if not self.ids or record_id > self.ids[-1]:
                self.ids.append(record_id)
            else:
                bisect.insort(self.ids, record_id)
        self.rows[record_id] = record
        if self.on_change is not None:
            self.on_change(self.model, record_id)
        return record

    def delete(self, record_id: int) -> Record | None:
        record = self.rows.pop(record_id, None)
        if record is not None:
            at = bisect.bisect_left(self.ids, record_id)
            if at < len(self.ids) and self.ids[at] == record_id:
                del self.ids[at]
            if self.on_change is not None:
                self.on_change(self.model, record_id)
        return record

    def scan(self, after: int | None = None, before: int | None = None, reverse: bool = False) -> Iterator[Record]:
        """Records in id order (or reverse), strictly after/before the given ids."""
        lo = bisect.bisect_right(self.ids, after) if after is not None else 0
        hi = bisect.bisect_left(self.ids, before) if before is not None else len(self.ids)
        ids, rows = self.ids, self.rows
        # Walk positions, not a slice: a page reads ~200 ids, a slice would copy all of them.
        for position in (range(hi - 1, lo - 1, -1) if reverse else range(lo, hi)):
            record = rows.get(ids[position])
            if record is not None:
                yield record

    def __iter__(self) -> Iterator[Record]:
        return self.scan()

    def compact(self, strings: dict[str, str] | None = None) -> None:
        """Store every record without its null fields (after seeding, before anyone holds them)."""
        self.rows = {record_id: compact(record, strings) for record_id, record in self.rows.items()}


@dataclass
class Account:
    """One Clio firm: its records, and the user that owns it."""

    id: int
    name: str
    tables: dict[str, Table] = field(default_factory=dict)
    embedded_ids: dict[str, int] = field(default_factory=dict)
    on_change: Callable[[str, int], None] | None = field(default=None, repr=False, compare=False)

    @property
    def first_id(self) -> int:
        """Ids are unique across firms, as in Clio: firm N counts from (N-1) * 10^7 + 1."""
        return (self.id - 1) * 10_000_000 + 1

    def table(self, model: str) -> Table:
        table = self.tables.get(model)
        if table is None:
            table = self.tables[model] = Table(self.first_id, model, self.on_change)
        return table

    def next_embedded_id(self, model: str) -> int:
        """Ids for embedded values (a contact's email addresses...), unique per model."""
        value = self.embedded_ids.get(model, 0) + 1
        self.embedded_ids[model] = value
        return value

    def count(self) -> int:
        return sum(len(t) for t in self.tables.values())

    def compact(self) -> None:
        """Every table compacted, sharing one copy of each short string across the firm."""
        strings: dict[str, str] = {}
        for table in self.tables.values():
            table.compact(strings)


@dataclass(frozen=True)
class Collection:
    """Keyed state kept beside the records (OAuth tokens, grants, codes), persisted one item
    at a time: a write stores only the items it touched, and other processes load only those.

    The owner keeps the items; the store only asks for them by key. ``apply`` changes memory
    only (it is how the file's word is loaded back: at start, from other processes' writes,
    after a failed write) and must keep whatever indexes the owner derives from the items."""

    keys: Callable[[], Iterable[str]]  # every item's key, now
    encode: Callable[[str], Any]  # the item as JSON-able data, or None when it is gone
    apply: Callable[[str, Any], None]  # set the item from such data, or remove it (None)


class MemoryStore:
    """All accounts, in memory. Writes happen inside :meth:`write` (one re-entrant lock);
    reads are lock-free. :class:`mockserver.engine.persistence.SqliteStore` keeps the same state in
    a SQLite file, hooking in where this class does nothing (``_begin``/``_commit``...)."""

    def __init__(self) -> None:
        self.accounts: dict[int, Account] = {}
        self.lock = threading.RLock()
        self.depth = 0
        # Bumped when a write begins and when it ends (and when persistence loads others'
        # writes): a reader that sees the same number twice saw no change in between.
        self.generation = 0
        self.listeners: list[Callable[[str, int, str, Record, Record | None], None]] = []
        # Other small state beside the records (faults, the clock), one value each: name -> (dump, load).
        self.systems: dict[str, tuple[Callable[[], Any], Callable[[Any], None]]] = {}
        # Keyed state beside the records, persisted item by item: name -> Collection.
        self.collections: dict[str, Collection] = {}

    @contextmanager
    def write(self) -> Iterator[None]:
        """One write (or several, nested): exclusive, and kept together when persisted."""
        with self.lock, self._changing():
            if self.depth == 0:
                self._begin()  # raises with nothing begun (it cleans up after itself)
            self.depth += 1
            try:
                yield
            except BaseException:
                self.depth -= 1
                if self.depth == 0:
                    self._abort()
                raise
            self.depth -= 1
            if self.depth == 0:
                self._commit()  # on any failure it rolls back (and restores memory) before raising

    @contextmanager
    def _changing(self) -> Iterator[None]:
        """Bump the generation as a write begins and as it ends, whatever happens."""
        self.generation += 1
        try:
            yield
        finally:
            self.generation += 1

    def refresh(self) -> None:
        """Catch up with writes made by other processes (nothing to do in memory)."""

    def register_system(self, name: str, dump: Callable[[], Any], load: Callable[[Any], None]) -> None:
        """Keep another component's state (faults, the clock) with the records, rewritten whole
        when touched; loaded back when persisted."""
        self.systems[name] = (dump, load)

    def register_collection(self, name: str, collection: Collection) -> None:
        """Keep another component's keyed state with the records, item by item; with
        persistence its stored items are applied at once."""
        self.collections[name] = collection

    def has_data(self) -> bool:
        return bool(self.accounts)

    def touch(self, account_id: int, model: str, record_id: int) -> None:
        """A stored record changed in place (an update): persist it with this write."""

    def touch_account(self, account_id: int) -> None:
        """An account's records were replaced wholesale (seeding, a scenario load)."""

    def touch_system(self, name: str) -> None:
        """A registered system's state (``systems[name]``) changed."""

    def touch_item(self, name: str, key: str) -> None:
        """One item of a registered collection was added, changed or removed (inside a write)."""

    def touch_collection(self, name: str) -> None:
        """A registered collection was replaced as a whole (a reset)."""

    def _begin(self) -> None:
        pass

    def _commit(self) -> None:
        pass

    def _abort(self) -> None:
        pass

    def account(self, account_id: int) -> Account | None:
        return self.accounts.get(account_id)

    def add_account(self, name: str, account_id: int | None = None) -> Account:
        with self.write():
            account_id = account_id or (max(self.accounts, default=0) + 1)
            account = self.accounts[account_id] = Account(account_id, name)
            self._attach(account)
            self.touch_account(account_id)
            return account

    def _attach(self, account: Account) -> None:
        """Hook an account's tables to change tracking (persistence only)."""

    def remove_account(self, account_id: int) -> None:
        with self.write():
            self.accounts.pop(account_id, None)
            self.touch_account(account_id)

    def clear(self) -> None:
        with self.write():
            for account_id in list(self.accounts):
                self.remove_account(account_id)

    def notify(self, event: str, account_id: int, model: str, record: Record, before: Record | None = None) -> None:
        """Tell listeners (webhooks, journal) that a record was created/updated/deleted."""
        for listener in self.listeners:
            listener(event, account_id, model, record, before)
