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


def test_rate_limit_fault_waits_one_second_by_default(client):
    client.post("/__mock__/faults", json={"kind": "rate_limit", "count": 1})
    r = client.get("/api/v4/matters.json")
    assert r.status_code == 429 and r.headers["retry-after"] == "1"


def test_custom_json_body_and_headers(client):
    made = client.post("/__mock__/faults", json={
        "kind": "status", "status": 503, "path": "/api/v4/matters*", "count": 1,
        "body": {"error": {"type": "ServiceUnavailable", "message": "Clio is down for maintenance"}},
        "headers": {"Retry-After": "2", "X-Custom": "yes"},
    })
    assert made.status_code == 201 and made.json()["headers"] == {"Retry-After": "2", "X-Custom": "yes"}
    r = client.get("/api/v4/matters.json")
    assert r.status_code == 503 and r.json() == {"error": {"type": "ServiceUnavailable", "message": "Clio is down for maintenance"}}
    assert r.headers["retry-after"] == "2" and r.headers["x-custom"] == "yes"
    assert r.headers["content-type"].startswith("application/json") and int(r.headers["content-length"]) == len(r.content)


def test_custom_text_body_and_content_type(client):
    client.post("/__mock__/faults", json={"kind": "status", "status": 502, "count": 1, "body": "<html>Bad gateway</html>",
                                          "headers": {"Content-Type": "text/html"}})
    r = client.get("/api/v4/contacts.json")
    assert r.status_code == 502 and r.text == "<html>Bad gateway</html>" and r.headers["content-type"] == "text/html"


@pytest.mark.parametrize("fault", [
    {"kind": "status", "status": 99},
    {"kind": "status", "headers": {"X-A": "b\r\nSet-Cookie: x=1"}},
    {"kind": "status", "headers": ["X-A"]},
    {"kind": "status", "headers": {"X-A": "☃"}},
    {"kind": "rate_limit", "retry_after": -1},
])
def test_bad_fault_is_400(client, fault):
    r = client.post("/__mock__/faults", json=fault)
    assert r.status_code == 400 and r.json()["error"]["message"]
    assert client.get("/api/v4/matters.json").status_code == 200


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
