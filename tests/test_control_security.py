"""The control API cannot be driven by a web page (content type, Origin, Host) and control calls
cannot freeze or bloat the server (file reads, fault patterns, reseeds, the clock)."""

from __future__ import annotations

import os
import threading

import httpx
import pytest
from conftest import serve
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.config import Settings
from mockserver.control.guard import allowed_hosts


def _tokens(client) -> int:
    return len(client.get("/__mock__/tokens").json()["tokens"])


def test_a_web_page_cannot_mint_a_token(client):
    before = _tokens(client)
    attempts = [
        {"content": b"{}", "headers": {"Content-Type": "text/plain"}},
        {"content": b"a=1", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        {"json": {}, "headers": {"Origin": "https://evil.example"}},
        {"json": {}, "headers": {"Origin": "null"}},
        {"json": {}, "headers": {"Host": "evil.example:8000"}},  # DNS rebinding: same origin, foreign name
        {"json": {}, "headers": {"Host": "evil.example:8000", "Origin": "http://evil.example:8000"}},
    ]
    for attempt in attempts:
        r = client.post("/__mock__/tokens", **attempt)
        assert r.status_code == 403 and r.json()["error"]["type"] == "Forbidden", attempt
    assert _tokens(client) == before
    assert client.post("/__mock__/tokens", json={}, headers={"Origin": "http://localhost:8000"}).status_code == 201
    assert client.post("/__mock__/reset").status_code == 200  # no body, no content type: what the CLI and plugin send


def test_allowed_hosts():
    hosts = allowed_hosts(Settings(host="10.1.2.3", public_url="https://mock.example:8443"))
    assert {"127.0.0.1", "localhost", "::1", "10.1.2.3", "mock.example", "app.clio.com", "eu.app.clio.com", "ca.app.clio.com", "au.app.clio.com"} <= hosts
    assert "evil.example" not in hosts and "0.0.0.0" not in allowed_hosts(Settings(host="0.0.0.0"))


def test_admin_token_passes_the_browser_checks(index):
    app = create_app(Settings(seed=1, host="0.0.0.0", admin_token="s3cret"), index=index)
    with TestClient(app, base_url="http://mock:8000") as c:
        assert c.post("/__mock__/reset", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.post("/__mock__/reset", headers={"Authorization": "Bearer wrong"}).status_code == 401


@pytest.fixture
def folder_client(index, tmp_path):
    app = create_app(Settings(seed=1, rate_limit=0, fixture_dir=[str(tmp_path)]), index=index)
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        yield c


def test_scenario_files_only_regular_small_and_in_fixture_folders(folder_client, tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    r = folder_client.post("/__mock__/scenarios", json={"path": str(fifo)})  # would block forever if opened for reading
    assert r.status_code == 400 and "regular file" in r.json()["error"]["message"]
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:
        fh.truncate(17 * 1024 * 1024)  # sparse: costs no disk
    r = folder_client.post("/__mock__/scenarios", json={"path": str(big)})
    assert r.status_code == 400 and "larger than" in r.json()["error"]["message"]
    for outside in ("/dev/zero", "/etc/shadow", "/etc/passwd", str(tmp_path / ".." / "x.yaml")):
        r = folder_client.post("/__mock__/scenarios", json={"path": outside})
        assert r.status_code == 403 and "fixture folders" in r.json()["error"]["message"], outside
    link = tmp_path / "link.yaml"
    link.symlink_to("/etc/passwd")
    assert folder_client.post("/__mock__/scenarios", json={"path": str(link)}).status_code == 403
    shipped = folder_client.post("/__mock__/scenarios", json={"path": str(__import__("mockserver.control.guard", fromlist=["x"]).SHIPPED_FIXTURES / "solo-practice.yaml")})
    assert shipped.status_code == 201


def test_fault_patterns_and_control_bodies_are_capped(client):
    assert client.post("/__mock__/faults", json={"kind": "status", "path": "/api/v4/*" + "x" * 2000}).status_code == 400
    r = client.post("/__mock__/faults", content=b'{"kind": "status", "path": "' + b"*" * (2 * 1024 * 1024) + b'"}', headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert client.get("/__mock__/faults").json()["data"] == []


@pytest.mark.parametrize("body", [{"advance": 8000 * 365.25 * 86400}, {"advance": -60 * 365 * 86400}, {"advance": 1e300}, {"at": "9999-12-31T23:59:59Z"}])
def test_absurd_clock_moves_are_400_and_the_api_keeps_working(client, body):
    before = client.get("/__mock__/clock").json()["now"]
    r = client.post("/__mock__/clock", json=body)
    assert r.status_code == 400 and r.json()["error"]["type"] == "InvalidParameter"
    assert client.get("/__mock__/clock").json()["now"][:16] == before[:16]
    assert client.get("/api/v4/matters.json", params={"limit": 1}).status_code == 200
    assert client.post("/api/v4/contacts.json", json={"data": {"type": "Company", "name": "Clock LLP"}}).status_code == 201


def test_a_long_clock_advance_within_bounds_works(client):
    assert client.post("/__mock__/clock", json={"advance": 5 * 365 * 86400}).status_code == 200
    assert client.get("/api/v4/matters.json", params={"limit": 1}).status_code == 200
    assert client.post("/api/v4/contacts.json", json={"data": {"type": "Company", "name": "Far LLP"}}).status_code == 201


def test_reseed_does_not_block_other_requests(spec_path):
    """The reseed runs on a worker thread: health and reads answer while it seeds."""
    with serve("--spec", str(spec_path), "--no-index-cache") as url:
        done = threading.Event()
        result = {}

        def reseed():
            result["r"] = httpx.post(f"{url}/__mock__/reseed", json={"counts": {"Matter": 30000}}, timeout=300)
            done.set()

        thread = threading.Thread(target=reseed)
        thread.start()
        answered_meanwhile = 0
        with httpx.Client(base_url=url, timeout=60) as c:
            while not done.is_set():
                if c.get("/api/v4/users/who_am_i.json", headers={"Authorization": "Bearer dev"}).status_code == 200 and not done.is_set():
                    answered_meanwhile += 1
        thread.join()
        assert result["r"].status_code == 200
        assert answered_meanwhile >= 3
