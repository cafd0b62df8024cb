"""Fault injection: status, latency, 429 and dropped connections, by count or seeded probability."""

from __future__ import annotations

import time

import httpx
import pytest


def test_status_fault_for_a_count(client):
    client.post("/__mock__/faults", json={"kind": "status", "status": 503, "path": "/api/v4/matters*", "count": 2})
    statuses = [client.get("/api/v4/matters.json").status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert client.get("/api/v4/contacts.json").status_code == 200


def test_fault_body_is_clio_shaped(client):
    client.post("/__mock__/faults", json={"kind": "status", "status": 500, "method": "POST"})
    r = client.post("/api/v4/contacts.json", json={"data": {"type": "Company", "name": "X"}})
    assert r.status_code == 500 and r.json()["error"]["type"] == "InjectedFault"
    assert client.get("/api/v4/contacts.json").status_code == 200


def test_rate_limit_fault(client):
    client.post("/__mock__/faults", json={"kind": "rate_limit", "retry_after": 7, "count": 1})
    r = client.get("/api/v4/matters.json")
    assert r.status_code == 429 and r.headers["retry-after"] == "7"


def test_latency_fault_delays_but_answers(client):
    client.post("/__mock__/faults", json={"kind": "latency", "latency_ms": 300, "count": 1})
    start = time.perf_counter()
    slow = client.get("/api/v4/matters.json")
    slow_time = time.perf_counter() - start
    start = time.perf_counter()
    client.get("/api/v4/matters.json")
    fast_time = time.perf_counter() - start
    assert slow.status_code == 200 and slow_time >= 0.3 and slow_time > fast_time


def test_probability_is_seeded(client):
    def run():
        client.delete("/__mock__/faults")
        client.post("/__mock__/faults", json={"kind": "status", "status": 502, "probability": 0.5, "seed": 11})
        return [client.get("/api/v4/matters.json").status_code for _ in range(20)]

    first, second = run(), run()
    assert first == second and 502 in first and 200 in first


def test_faults_listed_and_removed(client):
    made = client.post("/__mock__/faults", json={"kind": "status", "status": 500}).json()
    assert [f["id"] for f in client.get("/__mock__/faults").json()["data"]] == [made["id"]]
    client.delete(f"/__mock__/faults/{made['id']}")
    assert client.get("/api/v4/matters.json").status_code == 200


def test_dropped_connection_over_real_http(spec_path):
    from conftest import serve

    with serve("--spec", str(spec_path)) as url:
        httpx.post(f"{url}/__mock__/faults", json={"kind": "drop", "path": "/api/v4/matters.json", "count": 1})
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{url}/api/v4/matters.json", headers={"Authorization": "Bearer dev"}, timeout=5)
        assert httpx.get(f"{url}/api/v4/matters.json", headers={"Authorization": "Bearer dev"}, timeout=5).status_code == 200
