"""SQLite persistence (``--data PATH``): the in-memory store, kept in a file and shared.

Reads stay in memory (as fast as :class:`MemoryStore`). Every write runs inside
``BEGIN IMMEDIATE``, which serialises writers across processes; the writer first catches
up with what other processes wrote, then changes memory, then writes the touched records and
a line in the ``changes`` log, and commits before the response is sent. So acknowledged
writes survive ``kill -9`` (WAL, synchronous=NORMAL), a restart loads everything back, and
several uvicorn workers on one file stay consistent: an ``If-Match`` check sees the latest
etag because it runs after the catch-up, inside the lock. Before each request a worker
checks ``PRAGMA data_version`` and replays the log if another process wrote.

State beside the records comes in two shapes: a *system* (faults, the clock: small) is one
row rewritten whole when touched; a *collection* (OAuth tokens, grants, codes: many) is one
row per item in ``items``, and a write stores and logs only the items it touched, so its cost
does not grow with the number of items.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from mockserver.engine.errors import ClioError
from mockserver.engine.jsonenc import dumps
from mockserver.engine.store import STAMP, Account, Collection, MemoryStore, Table

# 2: collections (``items``), and ``changes.key`` naming the item a change touched. A version-1
# file is upgraded in place when opened (see _upgrade_from_1).
SCHEMA_VERSION = 2
KEEP_CHANGES = 20_000  # log lines kept; a process further behind reloads everything

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL, embedded_ids BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    account INTEGER NOT NULL, model TEXT NOT NULL, id INTEGER NOT NULL, body BLOB NOT NULL,
    PRIMARY KEY (account, model, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS systems (name TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    collection TEXT NOT NULL, key TEXT NOT NULL, body BLOB NOT NULL,
    PRIMARY KEY (collection, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rate_counts (key TEXT PRIMARY KEY, start INTEGER NOT NULL, count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, account INTEGER NOT NULL, model TEXT NOT NULL, id INTEGER NOT NULL, key TEXT);
"""
# What a line of ``changes`` names, by its model column: a record of that model (account, id);
# "*" a whole account; "@name" a system; "#name" a collection's item ``key``, or the whole
# collection when key is NULL.
ACCOUNT, SYSTEM, COLLECTION = "*", "@", "#"


def _record(body: bytes) -> dict[str, Any]:
    """A stored record as memory holds it (JSON has no tuples: the stamp comes back a list)."""
    record = orjson.loads(body)
    stamp = record.get(STAMP)
    if stamp is not None:
        record[STAMP] = tuple(stamp)
    return record


class DataFileError(ClioError):
    """The data file cannot be used (another schema version, not a clio-mock file)."""

    def __init__(self, message: str) -> None:
        super().__init__(400, "DataFileError", message)


class SqliteStore(MemoryStore):
    """A :class:`MemoryStore` whose state lives in a SQLite file shared by processes."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = str(path)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise DataFileError(f"{self.path} is not a clio-mock data file ({exc})") from None
        self._check_version()
        self.dirty: set[tuple[int, str, int]] = set()
        self.replaced: set[int] = set()
        self.dirty_systems: set[str] = set()
        self.dirty_items: set[tuple[str, str]] = set()  # (collection, key)
        self.replaced_collections: set[str] = set()
        self.last_seq = 0
        self.data_version = -1
        with self.lock, self._snapshot():
            self._reload_all()

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """One read transaction: the change log and the records it points at agree (outside a
        transaction every SELECT sees its own moment, and a reload could miss a write)."""
        self.db.execute("BEGIN")
        try:
            yield
        finally:
            self.db.execute("COMMIT")
            self.generation += 1  # records were (re)loaded: cached renderings must re-check

    def _check_version(self) -> None:
        """Stamp a new file, upgrade a version-1 file in place, refuse any other version. Inside
        one ``BEGIN IMMEDIATE``: of several workers opening an old file, one upgrades it and the
        others then find the new version."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif row[0] == "1":
                self._upgrade_from_1()
            elif row[0] != str(SCHEMA_VERSION):
                raise DataFileError(
                    f"{self.path} was written by clio-mock data schema {row[0]}; this version reads schema {SCHEMA_VERSION}. "
                    "Use another --data path, or delete the file to start over."
                )
            self.db.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise

    def _upgrade_from_1(self) -> None:
        """Version 1 had no ``items`` (created by the schema script) and no ``changes.key``.
        Its systems rows stay: a component that now keeps a collection finds its old single
        row as its system and rewrites it as items (OAuthServer does), since only it knows
        the row's shape."""
        self.db.execute("ALTER TABLE changes ADD COLUMN key TEXT")
        # Version 1 kept a record's stamp in three keys (_created, _updated, _version): one now.
        rows = self.db.execute("SELECT account, model, id, body FROM records").fetchall()
        for account, model, record_id, body in rows:
            record = orjson.loads(body)
            if "_version" in record or "_updated" in record:
                record[STAMP] = (record.pop("_created", None), record.pop("_updated", None), record.pop("_version", None) or 0)
                self.db.execute("UPDATE records SET body = ? WHERE account = ? AND model = ? AND id = ?",
                                (dumps(record), account, model, record_id))
        self.db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))

    # ------------------------------------------------------------------ tracking

    def _attach(self, account: Account) -> None:
        account.on_change = lambda model, record_id, a=account.id: self.dirty.add((a, model, record_id))
        for table in account.tables.values():
            table.on_change = account.on_change

    def touch(self, account_id: int, model: str, record_id: int) -> None:
        self.dirty.add((account_id, model, record_id))

    def touch_account(self, account_id: int) -> None:
        self.replaced.add(account_id)
        account = self.accounts.get(account_id)
        if account is not None:
            self._attach(account)

    def touch_system(self, name: str) -> None:
        self.dirty_systems.add(name)

    def touch_item(self, name: str, key: str) -> None:
        self.dirty_items.add((name, key))

    def touch_collection(self, name: str) -> None:
        self.replaced_collections.add(name)

    def _take_changes(self) -> tuple[set, set, set, set, set]:
        """What this write touched (records, accounts, systems, items, collections); forgotten here."""
        taken = (set(self.dirty), set(self.replaced), set(self.dirty_systems), set(self.dirty_items), set(self.replaced_collections))
        for pending in (self.dirty, self.replaced, self.dirty_systems, self.dirty_items, self.replaced_collections):
            pending.clear()
        return taken

    # ------------------------------------------------------------------ transactions

    def _begin(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self._catch_up()
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        """End the open transaction, whatever state it is in (never leave one open: later
        writes would run inside it and never commit)."""
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    def _abort(self) -> None:
        self._rollback()
        # Memory may hold part of the failed write: take the file's word for what it touched.
        dirty, replaced, systems, items, collections = self._take_changes()
        with self._snapshot():
            for account_id in replaced:
                self._load_account(account_id)
            for account_id, model, record_id in dirty:
                if account_id not in replaced:
                    self._load_record(account_id, model, record_id)
            self._load_items(collections, items)
            self._load_systems(systems)

    def _commit(self) -> None:
        """Write what changed and commit. Any failure (a record that cannot be encoded, a
        full disk, a bug) rolls back and puts memory back as the file has it, so the caller
        answers an error and no later write runs inside a dangling transaction."""
        try:
            self._flush()
            self.db.execute("COMMIT")
        except BaseException:
            self._abort()
            raise
        self._take_changes()
        self.data_version = self._version()

    def _flush(self) -> None:
        db = self.db
        log: list[tuple[int, str, int, str | None]] = []
        for account_id in sorted(self.replaced):
            db.execute("DELETE FROM records WHERE account = ?", (account_id,))
            db.execute("DELETE FROM accounts WHERE id = ?", (account_id,))
            account = self.accounts.get(account_id)
            if account is not None:
                self._save_account(account)
                db.executemany(
                    "INSERT INTO records VALUES (?, ?, ?, ?)",
                    ((account_id, model, r["id"], dumps(r)) for model, table in account.tables.items() for r in table),
                )
            log.append((account_id, ACCOUNT, 0, None))
        touched_accounts = set()
        for account_id, model, record_id in sorted(self.dirty):
            if account_id in self.replaced:
                continue
            account = self.accounts.get(account_id)
            record = account.tables[model].get(record_id) if account and model in account.tables else None
            if record is None:
                db.execute("DELETE FROM records WHERE account = ? AND model = ? AND id = ?", (account_id, model, record_id))
            else:
                db.execute("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)", (account_id, model, record_id, dumps(record)))
            touched_accounts.add(account_id)
            log.append((account_id, model, record_id, None))
        for account_id in touched_accounts:  # embedded-value id counters move with the records
            if account_id in self.accounts:
                self._save_account(self.accounts[account_id])
        for name in sorted(self.dirty_systems):
            if name in self.systems:
                db.execute("INSERT OR REPLACE INTO systems VALUES (?, ?)", (name, dumps(self.systems[name][0]())))
                log.append((0, SYSTEM + name, 0, None))
        self._flush_items(log)
        if log:
            db.executemany("INSERT INTO changes (account, model, id, key) VALUES (?, ?, ?, ?)", log)
            self.last_seq = db.execute("SELECT max(seq) FROM changes").fetchone()[0]
            if self.last_seq % 1000 < len(log):
                db.execute("DELETE FROM changes WHERE seq <= ?", (self.last_seq - KEEP_CHANGES,))

    def _flush_items(self, log: list[tuple[int, str, int, str | None]]) -> None:
        """Replaced collections whole, then each touched item of the others: written when it
        exists, deleted when it is gone, and logged for other processes."""
        db = self.db
        for name in sorted(self.replaced_collections):
            db.execute("DELETE FROM items WHERE collection = ?", (name,))
            collection = self.collections.get(name)
            if collection is not None:
                bodies = ((key, collection.encode(key)) for key in list(collection.keys()))
                db.executemany("INSERT INTO items VALUES (?, ?, ?)", ((name, key, dumps(body)) for key, body in bodies if body is not None))
            log.append((0, COLLECTION + name, 0, None))
        for name, key in sorted(self.dirty_items):
            if name in self.replaced_collections:
                continue
            collection = self.collections.get(name)
            body = collection.encode(key) if collection is not None else None
            if body is None:
                db.execute("DELETE FROM items WHERE collection = ? AND key = ?", (name, key))
            else:
                db.execute("INSERT OR REPLACE INTO items VALUES (?, ?, ?)", (name, key, dumps(body)))
            log.append((0, COLLECTION + name, 0, key))

    def _save_account(self, account: Account) -> None:
        self.db.execute("INSERT OR REPLACE INTO accounts VALUES (?, ?, ?)", (account.id, account.name, dumps(account.embedded_ids)))

    # ------------------------------------------------------------------ reading back

    def _version(self) -> int:
        return self.db.execute("PRAGMA data_version").fetchone()[0]

    def refresh(self) -> None:
        """Replay other processes' writes, if any (one cheap PRAGMA when there are none)."""
        if self._version() == self.data_version:
            return
        with self.lock:
            if self.depth == 0:
                with self._snapshot():
                    self._catch_up()
                    self.data_version = self._version()

    def _catch_up(self) -> None:
        first = self.db.execute("SELECT min(seq) FROM changes").fetchone()[0]
        if first is not None and first > self.last_seq + 1 and self.last_seq:
            self._reload_all()  # too far behind: the log was pruned past us
            return
        rows = self.db.execute("SELECT seq, account, model, id, key FROM changes WHERE seq > ? ORDER BY seq", (self.last_seq,)).fetchall()
        if not rows:
            return
        self.last_seq = rows[-1][0]
        accounts = {a for _, a, m, _, _ in rows if m == ACCOUNT}
        systems = {m[1:] for _, _, m, _, _ in rows if m[:1] == SYSTEM}
        collections = {m[1:] for _, _, m, _, k in rows if m[:1] == COLLECTION and k is None}
        items = {(m[1:], k) for _, _, m, _, k in rows if m[:1] == COLLECTION and k is not None}
        records = {(a, m, i) for _, a, m, i, _ in rows if m != ACCOUNT and m[:1] not in (SYSTEM, COLLECTION) and a not in accounts}
        for account_id in accounts:
            self._load_account(account_id)
        for account_id, model, record_id in records:
            self._load_record(account_id, model, record_id)
        for account_id in {a for a, _, _ in records}:
            row = self.db.execute("SELECT embedded_ids FROM accounts WHERE id = ?", (account_id,)).fetchone()
            if row and account_id in self.accounts:
                self.accounts[account_id].embedded_ids = orjson.loads(row[0])
        self._load_items(collections, items)
        self._load_systems(systems)

    def _reload_all(self) -> None:
        self.accounts.clear()
        for (account_id,) in self.db.execute("SELECT id FROM accounts ORDER BY id").fetchall():
            self._load_account(account_id)
        self.last_seq = self.db.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
        self._load_items(set(self.collections), set())
        self._load_systems(set(self.systems))
        self.data_version = self._version()

    def _load_account(self, account_id: int) -> None:
        row = self.db.execute("SELECT name, embedded_ids FROM accounts WHERE id = ?", (account_id,)).fetchone()
        if row is None:
            self.accounts.pop(account_id, None)
            return
        account = Account(account_id, row[0], embedded_ids=orjson.loads(row[1]))
        for model, body in self.db.execute("SELECT model, body FROM records WHERE account = ? ORDER BY model, id", (account_id,)):
            table = account.tables.get(model) or account.tables.setdefault(model, Table(account.first_id, model))
            table.insert(_record(body))
        self.accounts[account_id] = account
        self._attach(account)

    def _load_record(self, account_id: int, model: str, record_id: int) -> None:
        account = self.accounts.get(account_id)
        if account is None:
            return
        row = self.db.execute("SELECT body FROM records WHERE account = ? AND model = ? AND id = ?", (account_id, model, record_id)).fetchone()
        table = account.table(model)
        on_change, table.on_change = table.on_change, None  # replaying is not a new change
        try:
            if row is None:
                table.delete(record_id)
            elif record_id in table.rows:
                current = table.rows[record_id]
                current.clear()
                current.update(_record(row[0]))  # in place: dicts others hold stay current
            else:
                table.insert(_record(row[0]))
        finally:
            table.on_change = on_change

    def _load_systems(self, names: set[str]) -> None:
        for name in names:
            row = self.db.execute("SELECT body FROM systems WHERE name = ?", (name,)).fetchone()
            if row is not None and name in self.systems:
                self.systems[name][1](orjson.loads(row[0]))

    def _load_items(self, collections: set[str], items: set[tuple[str, str]]) -> None:
        """The file's word for whole collections, then for single items of the others.
        (Collections load before systems: a version-1 system row an owner still has to
        rewrite as items must not be undone by its still empty collections.)"""
        for name in collections:
            collection = self.collections.get(name)
            if collection is None:
                continue
            stored = dict(self.db.execute("SELECT key, body FROM items WHERE collection = ?", (name,)).fetchall())
            present = collection.keys()
            for key in [k for k in present if k not in stored]:  # (a list: apply changes what keys() reads)
                collection.apply(key, None)
            for key, body in stored.items():
                collection.apply(key, orjson.loads(body))
        for name, key in items:
            collection = self.collections.get(name)
            if collection is None or name in collections:
                continue
            row = self.db.execute("SELECT body FROM items WHERE collection = ? AND key = ?", (name, key)).fetchone()
            collection.apply(key, orjson.loads(row[0]) if row else None)

    def register_system(self, name: str, dump, load) -> None:
        super().register_system(name, dump, load)
        self._load_systems({name})

    def register_collection(self, name: str, collection: Collection) -> None:
        super().register_collection(name, collection)
        with self.lock:
            self._load_items({name}, set())

    # ------------------------------------------------------------------ shared counters

    def count_hit(self, key: str, start: int) -> int:
        """Count one request of ``key`` in the window starting at ``start``; the count so far.
        One atomic statement, so workers sharing the file count together (the rate limit)."""
        with self.lock:
            return self.db.execute(
                "INSERT INTO rate_counts VALUES (?, ?, 1) ON CONFLICT(key) DO UPDATE SET "
                "count = CASE WHEN start = excluded.start THEN count + 1 ELSE 1 END, start = excluded.start RETURNING count",
                (key, start),
            ).fetchone()[0]

    def clear_hits(self) -> None:
        with self.lock:
            self.db.execute("DELETE FROM rate_counts")

    def close(self) -> None:
        self.db.close()

    def stats(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "records": self.db.execute("SELECT count(*) FROM records").fetchone()[0],
            "items": self.db.execute("SELECT count(*) FROM items").fetchone()[0],
            "changes_logged": self.last_seq,
        }
