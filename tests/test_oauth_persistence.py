"""--data keeps OAuth state as rows, one per app, grant, token and code: a write stores and logs
only what it touched, other processes load only that, and a version-1 file (one OAuth row)
still opens."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import orjson
import pytest

from mockserver.clio.oauth import (
    APPS,
    CODES,
    DEFAULT_CLIENT_ID,
    GRANTS,
    TOKENS,
    OAuthConfig,
    OAuthError,
    OAuthServer,
    _digest,
)
from mockserver.engine.auth import AuthError
from mockserver.engine.persistence import SCHEMA_VERSION, SqliteStore
from mockserver.engine.records import Clock
from mockserver.engine.store import Collection, created_of, updated_of, version_of

REDIRECT = "http://127.0.0.1:9999/cb"


def _open(path) -> OAuthServer:
    """One process's view of the file: its store (with one firm) and its OAuth server."""
    store = SqliteStore(path)
    if not store.accounts:
        store.add_account("Firm")
    return OAuthServer(store, Clock(), OAuthConfig(dev_token=None))


def _rows(path) -> dict[tuple[str, str], bytes]:
    db = sqlite3.connect(path)
    try:
        return {(c, k): b for c, k, b in db.execute("SELECT collection, key, body FROM items")}
    finally:
        db.close()


def _log_since(path, seq: int) -> list[tuple[str, str | None]]:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT model, key FROM changes WHERE seq > ? ORDER BY seq", (seq,)).fetchall()
    finally:
        db.close()


def _last_seq(path) -> int:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT max(seq) FROM changes").fetchone()[0]
    finally:
        db.close()


def _works(oauth: OAuthServer, token: str) -> bool:
    try:
        oauth.authenticate(f"Bearer {token}", oauth.clock.time())
        return True
    except AuthError:
        return False


def _state(oauth: OAuthServer) -> dict[str, list[bytes]]:
    """The OAuth state, order aside."""
    return {name: sorted(orjson.dumps(item, option=orjson.OPT_SORT_KEYS) for item in items) if isinstance(items, list) else items
            for name, items in oauth.dump().items()}


# ---------------------------------------------------------------------- the engine's collections


class Bag:
    """A minimal collection owner: str -> JSON value."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.items: dict[str, object] = {}
        store.register_collection("bag", Collection(lambda: self.items.keys(), self.items.get, self.apply))

    def apply(self, key: str, value: object) -> None:
        if value is None:
            self.items.pop(key, None)
        else:
            self.items[key] = value

    def put(self, key: str, value: object) -> None:
        with self.store.write():
            self.apply(key, value)
            self.store.touch_item("bag", key)


def test_collection_items_are_rows_shared_between_processes(tmp_path):
    path = tmp_path / "s.sqlite"
    one, two = Bag(SqliteStore(path)), Bag(SqliteStore(path))
    one.put("a", {"n": 1})
    one.put("b", {"n": 2})
    assert _rows(path) == {("bag", "a"): b'{"n":1}', ("bag", "b"): b'{"n":2}'}
    two.store.refresh()
    assert two.items == {"a": {"n": 1}, "b": {"n": 2}}
    seq = _last_seq(path)
    two.put("a", None)
    assert _log_since(path, seq) == [("#bag", "a")]  # the one key, not the collection
    one.store.refresh()
    assert one.items == {"b": {"n": 2}} and _rows(path) == {("bag", "b"): b'{"n":2}'}
    assert Bag(SqliteStore(path)).items == {"b": {"n": 2}}  # a restart


def test_a_replaced_collection_is_rewritten_and_reloaded_whole(tmp_path):
    path = tmp_path / "s.sqlite"
    one, two = Bag(SqliteStore(path)), Bag(SqliteStore(path))
    one.put("a", 1)
    one.put("b", 2)
    two.store.refresh()
    with one.store.write():
        one.items.clear()
        one.items["c"] = 3
        one.store.touch_collection("bag")
    assert set(_rows(path)) == {("bag", "c")}
    two.store.refresh()
    assert two.items == {"c": 3}


def test_a_failed_write_puts_collection_items_back(tmp_path):
    path = tmp_path / "s.sqlite"
    bag = Bag(SqliteStore(path))
    bag.put("kept", "before")
    with pytest.raises(RuntimeError), bag.store.write():
        bag.put("kept", "during")
        bag.put("new", "during")
        raise RuntimeError("a bug inside the write")
    assert bag.items == {"kept": "before"}
    assert _rows(path) == {("bag", "kept"): b'"before"'}
    assert not bag.store.db.in_transaction
    bag.put("after", 1)  # the next write commits
    assert set(Bag(SqliteStore(path)).items) == {"kept", "after"}


# ---------------------------------------------------------------------- OAuth as rows


def test_oauth_state_survives_a_restart_as_rows(tmp_path):
    path = tmp_path / "s.sqlite"
    oauth = _open(path)
    app = oauth.create_app("Matter Sync", [REDIRECT], {"matters": "write"})
    tokens = [oauth.issue_token(1, None)["access_token"] for _ in range(5)]
    code = oauth.issue_code(app, REDIRECT, 1, None)
    exchanged = oauth.exchange_code(app, code, REDIRECT)
    pending = oauth.issue_code(app, REDIRECT, 1, None)
    rows = _rows(path)
    assert {c for c, _ in rows} == {APPS, GRANTS, TOKENS, CODES}
    assert sum(c == TOKENS for c, _ in rows) == len(oauth.tokens) == 6
    assert sum(c == GRANTS for c, _ in rows) == len(oauth.grants) == 6
    assert sum(c == CODES for c, _ in rows) == 2 and sum(c == APPS for c, _ in rows) == 2
    system = oauth.store.db.execute("SELECT body FROM systems WHERE name = 'oauth'").fetchone()[0]
    assert set(orjson.loads(system)) == {"form_secret"}  # no token rides in the system row
    before = _state(oauth)
    oauth.store.close()

    again = _open(path)
    assert _state(again) == before
    assert all(_works(again, t) for t in [*tokens, exchanged["access_token"]])
    assert again.refresh_token(again.app(app.client_id), exchanged["refresh_token"])["access_token"]
    with pytest.raises(OAuthError):  # used before the restart: a replay
        again.exchange_code(again.app(app.client_id), code, REDIRECT)
    assert not _works(again, exchanged["access_token"])  # the replay revoked its grant
    assert again.exchange_code(again.app(app.client_id), pending, REDIRECT)["access_token"]


def test_a_token_request_writes_only_its_own_rows(tmp_path):
    path = tmp_path / "s.sqlite"
    oauth = _open(path)
    tokens = [oauth.issue_token(1, None) for _ in range(30)]
    # Mark one stored token row by hand: a write that rewrote every token would undo the mark.
    marked_key = (TOKENS, _digest(tokens[3]["access_token"]))
    marked = orjson.dumps({**orjson.loads(_rows(path)[marked_key]), "hint": "marked"})
    db = sqlite3.connect(path)
    db.execute("UPDATE items SET body = ? WHERE collection = ? AND key = ?", (marked, *marked_key))
    db.commit()
    db.close()
    before, seq = _rows(path), _last_seq(path)

    minted = oauth.issue_token(1, None)
    grant_id = oauth.refresh[_digest(minted["refresh_token"])]
    after = _rows(path)
    touched = {(GRANTS, str(grant_id)), (TOKENS, _digest(minted["access_token"]))}
    assert {k for k in after if after[k] != before.get(k)} == touched and set(before) <= set(after)
    assert after[marked_key] == marked
    assert sorted(_log_since(path, seq)) == sorted(("#" + c, k) for c, k in touched)

    seq = _last_seq(path)  # a refresh-token request: one new token row, the grant untouched
    refreshed = oauth.refresh_token(oauth.app(DEFAULT_CLIENT_ID), minted["refresh_token"])
    assert _log_since(path, seq) == [("#" + TOKENS, _digest(refreshed["access_token"]))]

    seq = _last_seq(path)  # a revocation: its grant and its two tokens, nothing else
    assert oauth.deauthorize(minted["access_token"])
    revoked = {(GRANTS, str(grant_id)), (TOKENS, _digest(minted["access_token"])), (TOKENS, _digest(refreshed["access_token"]))}
    assert sorted(_log_since(path, seq)) == sorted(("#" + c, k) for c, k in revoked)
    left = _rows(path)
    assert not {k for k in revoked if k[0] == TOKENS} & set(left) and orjson.loads(left[(GRANTS, str(grant_id))])["revoked"]
    assert sum(c == TOKENS for c, _ in left) == 30 and all(_works(oauth, t["access_token"]) for t in tokens)


def test_two_processes_see_each_others_mint_and_revoke(tmp_path):
    path = tmp_path / "s.sqlite"
    one, two = _open(path), _open(path)
    minted = one.issue_token(1, None)
    two.store.refresh()
    assert _works(two, minted["access_token"])
    refreshed = two.refresh_token(two.app(DEFAULT_CLIENT_ID), minted["refresh_token"])["access_token"]
    one.store.refresh()
    assert _works(one, refreshed)
    assert one.deauthorize(refreshed)  # revokes the grant: both of its tokens
    two.store.refresh()
    assert not _works(two, minted["access_token"]) and not _works(two, refreshed)
    assert two.grant_tokens.get(one.refresh[_digest(minted["refresh_token"])]) is None  # the index followed

    app_one, app_two = one.app(DEFAULT_CLIENT_ID), two.app(DEFAULT_CLIENT_ID)
    code = one.issue_code(app_one, REDIRECT, 1, None)
    two.store.refresh()
    exchanged = two.exchange_code(app_two, code, REDIRECT)["access_token"]
    one.store.refresh()
    assert _works(one, exchanged)
    with pytest.raises(OAuthError):
        one.exchange_code(app_one, code, REDIRECT)  # the replay, seen by the other process too
    two.store.refresh()
    assert not _works(two, exchanged)
    assert _state(one) == _state(two)


def test_expired_tokens_are_pruned_row_by_row(tmp_path):
    path = tmp_path / "s.sqlite"
    one, two = _open(path), _open(path)
    old = [one.issue_token(1, None)["access_token"] for _ in range(10)]
    one.clock.offset += timedelta(days=31)
    two.clock.offset += timedelta(days=31)
    seq = _last_seq(path)
    fresh = two.issue_token(1, None)["access_token"]  # the other process prunes them
    assert sum(m == "#" + TOKENS for m, _ in _log_since(path, seq)) == 11  # 10 deletions and the new token
    assert [k for c, k in _rows(path) if c == TOKENS] == [_digest(fresh)]
    one.store.refresh()
    assert list(one.tokens) == [_digest(fresh)] and not any(_works(one, t) for t in old)


def test_a_failed_write_puts_oauth_items_back(tmp_path):
    path = tmp_path / "s.sqlite"
    oauth = _open(path)
    kept = oauth.issue_token(1, None)
    rows = _rows(path)
    with pytest.raises(RuntimeError), oauth.store.write():
        lost = oauth.issue_token(1, None)["access_token"]
        assert oauth.deauthorize(kept["access_token"])
        raise RuntimeError("a failure inside the store write")
    assert _rows(path) == rows and not oauth.store.db.in_transaction
    assert not _works(oauth, lost) and _works(oauth, kept["access_token"])
    assert not any(g.revoked for g in oauth.grants.values()) and len(oauth.grants) == 1
    assert oauth.deauthorize(kept["access_token"]) and not _works(oauth, kept["access_token"])  # the index came back too
    assert not _works(_open(path), kept["access_token"])  # and that revocation was committed


# ---------------------------------------------------------------------- version-1 files

_VERSION_1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL, embedded_ids BLOB NOT NULL);
CREATE TABLE records (
    account INTEGER NOT NULL, model TEXT NOT NULL, id INTEGER NOT NULL, body BLOB NOT NULL,
    PRIMARY KEY (account, model, id)) WITHOUT ROWID;
CREATE TABLE systems (name TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE rate_counts (key TEXT PRIMARY KEY, start INTEGER NOT NULL, count INTEGER NOT NULL);
CREATE TABLE changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, account INTEGER NOT NULL, model TEXT NOT NULL, id INTEGER NOT NULL);
INSERT INTO meta VALUES ('schema_version', '1');
INSERT INTO accounts VALUES (1, 'Firm', '{}');
INSERT INTO records VALUES (1, 'Note', 5, '{"id": 5, "subject": "Old", "etag": "\\"e5\\"", "_created": 1700000000.0, "_updated": 1700000500.0, "_version": 3}');
INSERT INTO changes (account, model, id) VALUES (1, '*', 0), (0, '@oauth', 0);
"""


def _version_1_file(path, now: float) -> None:
    """A data file as clio-mock wrote it before OAuth rows: all OAuth state in one systems row."""
    app = {"client_id": DEFAULT_CLIENT_ID, "client_secret": "s3cret", "name": "default", "redirect_uris": [REDIRECT],
           "permissions": {"*": "write"}, "description": "", "website": "", "auto_approve": False, "app_id": 1}
    grants = [{"id": 1, "client_id": DEFAULT_CLIENT_ID, "account_id": 1, "user_id": None, "permissions": {"*": "write"},
               "refresh_digest": _digest("old-refresh"), "created_at": now, "revoked": False},
              {"id": 2, "client_id": DEFAULT_CLIENT_ID, "account_id": 1, "user_id": None, "permissions": {"*": "write"},
               "refresh_digest": _digest("revoked-refresh"), "created_at": now, "revoked": True}]
    tokens = [{"digest": _digest("old-token"), "grant_id": 1, "expires_at": now + 86400, "hint": "old-to…"}]
    codes = [{"digest": _digest("old-code"), "client_id": DEFAULT_CLIENT_ID, "redirect_uri": REDIRECT, "account_id": 1,
              "user_id": None, "expires_at": now + 600, "used": False, "grant_id": None}]
    blob = {"apps": [app], "grants": grants, "tokens": tokens, "codes": codes,
            "refresh": {g["refresh_digest"]: g["id"] for g in grants}, "form_secret": "f" * 64}
    db = sqlite3.connect(path)
    db.executescript(_VERSION_1)
    db.execute("INSERT INTO systems VALUES ('oauth', ?)", (orjson.dumps(blob),))
    db.commit()
    db.close()


def test_a_version_1_file_with_one_oauth_row_is_upgraded_to_rows(tmp_path):
    path = tmp_path / "v1.sqlite"
    _version_1_file(path, Clock().time())
    oauth = _open(path)
    db = oauth.store.db
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    assert "key" in [column[1] for column in db.execute("PRAGMA table_info(changes)")]
    assert _works(oauth, "old-token") and oauth.form_secret == "f" * 64
    assert oauth.grants[2].revoked and len(oauth.apps) == 1  # not reset: the file's state is kept
    assert sorted(_rows(path)) == sorted([(APPS, DEFAULT_CLIENT_ID), (GRANTS, "1"), (GRANTS, "2"),
                                          (TOKENS, _digest("old-token")), (CODES, _digest("old-code"))])
    system = db.execute("SELECT body FROM systems WHERE name = 'oauth'").fetchone()[0]
    assert orjson.loads(system) == {"form_secret": "f" * 64}
    assert oauth.refresh_token(oauth.app(DEFAULT_CLIENT_ID), "old-refresh")["access_token"]
    assert oauth.exchange_code(oauth.app(DEFAULT_CLIENT_ID), "old-code", REDIRECT)["access_token"]
    state = _state(oauth)
    oauth.store.close()

    again = _open(path)  # a restart on the upgraded file
    assert _state(again) == state and _works(again, "old-token")


def test_a_version_1_records_stamp_keys_become_one(tmp_path):
    path = tmp_path / "v1.sqlite"
    _version_1_file(path, Clock().time())
    store = SqliteStore(path)
    note = store.accounts[1].table("Note").get(5)
    assert "_version" not in note and "_created" not in note and "_updated" not in note
    assert (created_of(note), updated_of(note), version_of(note)) == (1700000000.0, 1700000500.0, 3)
    store.close()


def test_a_process_that_read_the_version_1_row_late_does_not_undo_the_upgrade(tmp_path, monkeypatch):
    """Two workers open a version-1 file: the one that loaded the old row before the other
    rewrote it (and minted and revoked since) catches up inside its rewrite's write, so it
    brings no revoked token back and loses no new one."""
    path = tmp_path / "v1.sqlite"
    _version_1_file(path, Clock().time())
    with monkeypatch.context() as patch:
        patch.setattr(OAuthServer, "_rewrite_legacy_row", lambda self: None)
        late = _open(path)  # has the old row in memory, not yet rewritten
    assert late.legacy
    first = _open(path)  # upgrades the file
    minted = first.issue_token(1, None)["access_token"]
    assert first.deauthorize("old-token")
    late._rewrite_legacy_row()
    assert not late.legacy and _works(late, minted) and not _works(late, "old-token")
    assert (TOKENS, _digest("old-token")) not in _rows(path)
    assert (TOKENS, _digest(minted)) in _rows(path)
    assert _state(late) == _state(first) == _state(_open(path))
