"""No failure inside a write leaves the SQLite transaction open: the next write commits, and an
acknowledged write is a committed write (even after kill -9). A stored value the JSON encoder
refuses (an integer past 64 bits) does not poison later reads."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys

import httpx
import pytest
from conftest import SPEC_PATH, free_port, wait_for_health

AUTH = {"Authorization": "Bearer dev"}

# Runs the CLI with SqliteStore._flush raising while a write holds a contact named "Explode":
# an error inside the store, in the middle of a write, after BEGIN IMMEDIATE.
_FAULTY = """
import sys
from mockserver.engine import persistence
real = persistence.SqliteStore._flush
def flush(self):
    for account_id, model, record_id in self.dirty:
        record = self.accounts[account_id].tables[model].get(record_id) if model in self.accounts[account_id].tables else None
        if record and record.get("name") == "Explode":
            raise RuntimeError("injected store failure")
    return real(self)
persistence.SqliteStore._flush = flush
from mockserver.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _serve(data, faulty=False):
    port = free_port()
    head = [sys.executable, "-c", _FAULTY] if faulty else [sys.executable, "-m", "mockserver.cli"]
    proc = subprocess.Popen([*head, "serve", "--spec", str(SPEC_PATH), "--port", str(port), "--data", str(data),
                             "--rate-limit", "0", "--log-level", "critical"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    if not wait_for_health(url, timeout=120):
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("server did not start")
    return proc, url


def _kill(proc, sig=signal.SIGKILL):
    os.killpg(proc.pid, sig)
    proc.wait(timeout=30)


def _names(url):
    r = httpx.get(f"{url}/api/v4/contacts.json", params={"fields": "id,name", "limit": 200, "query": "Txn"}, headers=AUTH)
    return {c["name"] for c in r.json()["data"]}


def test_failure_inside_a_write_leaves_no_open_transaction(spec_path, tmp_path):
    data = tmp_path / "mock.sqlite"
    proc, url = _serve(data, faulty=True)
    try:
        with httpx.Client(base_url=url, headers=AUTH) as c:
            bad = c.post("/api/v4/contacts.json", json={"data": {"type": "Company", "name": "Explode"}})
            assert bad.status_code == 500 and bad.json()["error"]["type"] == "InternalServerError"
            for i in range(5):
                assert c.post("/api/v4/contacts.json", json={"data": {"type": "Company", "name": f"Txn {i}"}}).status_code == 201
            assert "Explode" not in {x["name"] for x in c.get("/api/v4/contacts.json", params={"fields": "name", "limit": 200, "query": "Explode"}).json()["data"]}
        # Another connection sees the writes now: they were committed, not left in an open transaction.
        with sqlite3.connect(data, timeout=5) as db:
            bodies = [row[0] for row in db.execute("SELECT body FROM records WHERE model = 'Contact'")]
            assert sum(b'"Txn ' in b for b in bodies) == 5 and not any(b'"Explode"' in b for b in bodies)
    finally:
        _kill(proc)
    proc, url = _serve(data)
    try:
        assert _names(url) == {f"Txn {i}" for i in range(5)}
    finally:
        _kill(proc, signal.SIGTERM)


def test_store_unit_failures_roll_back(index, tmp_path):
    """In process: a failure while flushing, while committing or while catching up leaves
    depth 0, no transaction open, memory as the file has it; the next write commits."""
    from mockserver.engine.persistence import SqliteStore

    store = SqliteStore(tmp_path / "s.sqlite")
    account = store.add_account("Firm")
    table = account.table("Contact")
    with store.write():
        table.insert({"name": "kept"})
    for broken in ("_flush", "_catch_up"):
        real = getattr(SqliteStore, broken)

        def boom(self, *a, **k):
            raise RuntimeError("boom")

        setattr(store, broken, boom.__get__(store))
        with pytest.raises(RuntimeError):
            with store.write():
                table.insert({"name": "lost"})
        delattr(store, broken)
        assert real is getattr(SqliteStore, broken)
        assert store.depth == 0 and not store.db.in_transaction
        assert [r["name"] for r in table] == ["kept"]
    with store.write():
        table.insert({"name": "after"})
    other = sqlite3.connect(store.path)
    assert other.execute("SELECT count(*) FROM records WHERE model = 'Contact'").fetchone()[0] == 2
    store.close()


def test_integer_past_64_bits_does_not_poison_reads(client, app):
    account = app.state.store.accounts[1]
    matter = next(iter(account.table("Matter")))
    with app.state.store.write():
        matter["number"] = 10**30  # as if a write had slipped through validation
        app.state.store.touch(1, "Matter", matter["id"])
    r = client.get(f"/api/v4/matters/{matter['id']}.json", params={"fields": "id,number"})
    assert r.status_code == 200 and r.json()["data"]["number"] == 10**30
    assert client.get("/api/v4/matters.json", params={"fields": "id,number", "limit": 200}).status_code == 200
    assert client.post("/api/v4/contacts.json", json={"data": {"type": "Company", "name": "Next LLP"}}).status_code == 201


def test_integer_past_64_bits_persists_and_later_writes_commit(index, tmp_path):
    from mockserver.app import build_state
    from mockserver.config import Settings

    settings = Settings(seed=3, data=str(tmp_path / "s.sqlite"), index_cache=False)
    state = build_state(settings, index)
    matter = next(iter(state.store.accounts[1].table("Matter")))
    with state.store.write():
        matter["number"] = 10**30
        state.store.touch(1, "Matter", matter["id"])
    with state.store.write():
        state.store.accounts[1].table("Contact").insert({"name": "After LLP"})
    assert not state.store.db.in_transaction
    state.store.close()
    again = build_state(settings, index)
    assert any(r.get("name") == "After LLP" for r in again.store.accounts[1].table("Contact"))
    assert int(again.store.accounts[1].table("Matter").get(matter["id"])["number"]) >= 10**29
    again.store.close()
