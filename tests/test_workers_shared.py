"""--workers N share the test controls through the --data file: faults, the clock and the rate
limit apply across workers. Each request opens a new connection, so the kernel spreads them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import pytest
from conftest import free_port, wait_for_health

AUTH = {"Authorization": "Bearer dev"}


@pytest.fixture
def workers(spec_path, tmp_path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "mockserver.cli", "serve", "--spec", str(spec_path), "--port", str(port),
                             "--data", str(tmp_path / "w.sqlite"), "--workers", "2", "--rate-limit", "15", "--log-level", "warning"],
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_for_health(url, timeout=120):
            pytest.fail("server did not start")
        pids = {httpx.get(f"{url}/__mock__/journal", headers={"Connection": "close"}).json()["meta"]["scope"].split()[2] for _ in range(30)}
        assert len(pids) == 2, "both workers answer"
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _fresh(method, url, **kwargs):
    with httpx.Client(timeout=30) as c:  # one connection per request
        return c.request(method, url, headers={**AUTH, "Connection": "close", **kwargs.pop("headers", {})}, **kwargs)


def test_faults_clock_and_rate_limit_are_shared(workers):
    url = workers
    # an "always fail" fault hits every request, whichever worker serves it
    assert httpx.post(f"{url}/__mock__/faults", json={"kind": "status", "status": 503, "path": "/api/v4/matters*"}).status_code == 201
    assert [_fresh("GET", f"{url}/api/v4/matters.json").status_code for _ in range(12)] == [503] * 12
    assert httpx.delete(f"{url}/__mock__/faults").status_code == 204
    # a counted fault is one budget across workers
    httpx.post(f"{url}/__mock__/faults", json={"kind": "status", "status": 502, "path": "/api/v4/contacts*", "count": 3})
    statuses = [_fresh("GET", f"{url}/api/v4/contacts.json", params={"limit": 1}).status_code for _ in range(8)]
    assert statuses.count(502) == 3
    httpx.delete(f"{url}/__mock__/faults")
    # the clock
    assert httpx.post(f"{url}/__mock__/clock", json={"at": "2031-05-04T10:00:00Z"}).status_code == 200
    assert {_fresh("GET", f"{url}/__mock__/clock").json()["now"][:10] for _ in range(8)} == {"2031-05-04"}
    httpx.post(f"{url}/__mock__/clock", json={"freeze": False})
    # the rate limit lets exactly the limit through, across workers (a fresh token: a fresh count)
    token = httpx.post(f"{url}/__mock__/tokens", json={}).json()["access_token"]
    answers = [_fresh("GET", f"{url}/api/v4/users/who_am_i.json", headers={"Authorization": f"Bearer {token}"}).status_code for _ in range(25)]
    assert answers.count(200) == 15 and answers.count(429) == 10


def test_tokens_minted_and_revoked_on_one_worker_hold_on_the_other(workers):
    """OAuth state is rows in the --data file: a mint, a token request and a revocation made
    by whichever worker serves them are seen by the other at its next request."""
    url = workers
    creds = {"client_id": "clio-mock-app-key", "client_secret": "clio-mock-app-secret"}
    for _ in range(4):
        minted = _fresh("POST", f"{url}/__mock__/tokens", json={}).json()
        access = _fresh("POST", f"{url}/oauth/token", data={**creds, "grant_type": "refresh_token", "refresh_token": minted["refresh_token"]})
        tokens = [minted["access_token"], access.json()["access_token"]]
        for token in tokens:
            bearer = {"Authorization": f"Bearer {token}"}
            assert [_fresh("GET", f"{url}/api/v4/users/who_am_i.json", headers=bearer).status_code for _ in range(4)] == [200] * 4
        assert _fresh("POST", f"{url}/oauth/deauthorize", data={"token": tokens[0]}).status_code == 200
        for token in tokens:
            bearer = {"Authorization": f"Bearer {token}"}
            assert [_fresh("GET", f"{url}/api/v4/users/who_am_i.json", headers=bearer).status_code for _ in range(4)] == [401] * 4
