"""--data: state survives restarts and kill -9; several workers on one file lose no update."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import sqlite3
import subprocess
import sys

import httpx
import pytest
from conftest import free_port, wait_for_health

AUTH = {"Authorization": "Bearer dev"}


def _serve(spec_path, data, *extra):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver.cli", "serve", "--spec", str(spec_path), "--port", str(port), "--data", str(data),
         "--rate-limit", "0", "--log-level", "warning", *extra],
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    if not wait_for_health(url, timeout=120):
        proc.kill()
        pytest.fail("server did not start")
    return proc, url


def _stop(proc, sig=signal.SIGTERM):
    os.killpg(proc.pid, sig)
    proc.wait(timeout=30)


def _contacts(url):
    return {c["id"]: c["name"] for c in httpx.get(f"{url}/api/v4/contacts.json", params={"fields": "id,name", "limit": 200}, headers=AUTH).json()["data"]}


def test_restart_brings_everything_back(spec_path, tmp_path):
    data = tmp_path / "mock.sqlite"
    proc, url = _serve(spec_path, data)
    try:
        made = httpx.post(f"{url}/api/v4/contacts.json", json={"data": {"type": "Company", "name": "Persisted LLP"}}, headers=AUTH).json()["data"]
        httpx.patch(f"{url}/api/v4/contacts/{made['id']}.json", json={"data": {"name": "Persisted LLC"}}, headers=AUTH)
        token = httpx.post(f"{url}/__mock__/tokens", json={}).json()["access_token"]
        before = _contacts(url)
    finally:
        _stop(proc)
    proc, url = _serve(spec_path, data)
    try:
        assert _contacts(url) == before and before[made["id"]] == "Persisted LLC"
        assert httpx.get(f"{url}/api/v4/users/who_am_i.json", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        _stop(proc)


def test_acknowledged_writes_survive_kill_9(spec_path, tmp_path):
    data = tmp_path / "mock.sqlite"
    proc, url = _serve(spec_path, data)
    created = []
    try:
        with httpx.Client(base_url=url, headers=AUTH) as c:
            for i in range(40):
                r = c.post("/api/v4/contacts.json", json={"data": {"type": "Company", "name": f"Crash {i}"}})
                assert r.status_code == 201
                created.append(r.json()["data"]["id"])
    finally:
        _stop(proc, signal.SIGKILL)
    proc, url = _serve(spec_path, data)
    try:
        ids = set(_contacts(url))
        assert set(created) <= ids
        assert len([i for i in ids if i in created]) == 40
    finally:
        _stop(proc)


def test_workers_lose_no_update(spec_path, tmp_path):
    data = tmp_path / "mock.sqlite"
    proc, url = _serve(spec_path, data, "--workers", "2")
    try:
        made = httpx.post(f"{url}/api/v4/contacts.json", json={"data": {"type": "Company", "name": "0"}}, headers=AUTH).json()["data"]
        target = f"{url}/api/v4/contacts/{made['id']}.json"

        def increment(_: int) -> int:
            conflicts = 0
            with httpx.Client(headers=AUTH, timeout=30) as c:
                while True:
                    current = c.get(target, params={"fields": "etag,name"}).json()["data"]
                    r = c.patch(target, json={"data": {"name": str(int(current["name"]) + 1)}}, headers={"If-Match": current["etag"]})
                    if r.status_code == 200:
                        return conflicts
                    assert r.status_code == 412, r.text
                    conflicts += 1

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            conflicts = sum(pool.map(increment, range(40)))
        final = httpx.get(target, params={"fields": "name"}, headers=AUTH).json()["data"]["name"]
        assert final == "40"  # every acknowledged increment is there
        assert conflicts > 0  # and the race was real: If-Match decided
    finally:
        _stop(proc)


def test_incompatible_data_file_is_a_clear_error(spec_path, tmp_path):
    data = tmp_path / "old.sqlite"
    db = sqlite3.connect(data)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO meta VALUES ('schema_version', '99')")
    db.commit()
    db.close()
    run = subprocess.run([sys.executable, "-m", "mockserver.cli", "serve", "--spec", str(spec_path), "--data", str(data), "--port", "1"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "schema 99" in run.stderr and "Traceback" not in run.stderr


def test_workers_need_data(spec_path):
    run = subprocess.run([sys.executable, "-m", "mockserver.cli", "serve", "--spec", str(spec_path), "--workers", "2", "--port", "1"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "--data" in run.stderr


def test_in_process_store_round_trip(index, tmp_path):
    """The same state object graph comes back from the file (records, embedded ids, OAuth)."""
    from mockserver.app import build_state
    from mockserver.config import Settings

    settings = Settings(seed=3, data=str(tmp_path / "s.sqlite"))
    first = build_state(settings, index)
    token = first.oauth.issue_token(1, None)["access_token"]
    account = first.store.accounts[1]
    snapshot = {m: [dict(r) for r in t] for m, t in account.tables.items() if len(t)}
    first.store.close()
    second = build_state(settings, index)
    again = {m: [dict(r) for r in t] for m, t in second.store.accounts[1].tables.items() if len(t)}
    assert again == snapshot
    assert second.store.accounts[1].embedded_ids == account.embedded_ids
    assert second.oauth.authenticate(f"Bearer {token}", second.clock.time()).account_id == 1
