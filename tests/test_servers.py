"""``--server uvicorn|granian``: both serve the API, log each request with its id, stop
gracefully on SIGTERM (a request in flight still gets its answer) and run ``--workers``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest
from conftest import free_port, wait_for_health

AUTH = {"Authorization": "Bearer dev"}


def _start(spec_path, log, *args: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "mockserver.cli", "serve", "--spec", str(spec_path), "--port", str(port), *args],
                            stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    if not wait_for_health(url):
        proc.kill()
        proc.wait(10)
        pytest.fail(f"clio-mock {' '.join(args)} did not start")
    return proc, url


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_serves_logs_and_stops_gracefully(server, spec_path, tmp_path):
    if server == "granian":
        pytest.importorskip("granian")
    log = tmp_path / "server.log"
    with log.open("w") as fh:
        proc, url = _start(spec_path, fh, "--server", server, "--json-logs")
        answers: list[httpx.Response] = []
        try:
            r = httpx.get(f"{url}/api/v4/matters.json", headers={**AUTH, "X-Request-Id": "srv-1"}, params={"fields": "id,client{id,name}"})
            assert r.status_code == 200 and r.headers["x-request-id"] == "srv-1" and r.json()["data"]
            fault = {"kind": "latency", "path": "/api/v4/users/who_am_i.json", "latency_ms": 3000}
            assert httpx.post(f"{url}/__mock__/faults", json=fault).status_code == 201
            slow = threading.Thread(target=lambda: answers.append(httpx.get(f"{url}/api/v4/users/who_am_i.json", headers=AUTH, timeout=30)))
            slow.start()
            time.sleep(0.8)  # the request is in flight (sleeping in its fault) for 3 s from here
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=30)
        slow.join(30)
    assert answers and answers[0].status_code == 200  # in flight at SIGTERM, answered before exit
    assert answers[0].json()["data"]["id"]
    assert code in (0, -signal.SIGTERM)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert any(e.get("request_id") == "srv-1" and e.get("status") == 200 for e in lines)


def test_granian_workers_share_one_data_file(spec_path, tmp_path):
    pytest.importorskip("granian")
    log = tmp_path / "server.log"
    with log.open("w") as fh:
        proc, url = _start(spec_path, fh, "--server", "granian", "--workers", "2", "--data", str(tmp_path / "mock.db"))
        try:
            with httpx.Client(base_url=url, headers=AUTH) as client:
                made = [client.post("/api/v4/practice_areas.json", json={"data": {"name": f"Area {i}"}}).json()["data"]["id"] for i in range(6)]
                for _ in range(6):  # each GET lands on either worker: all see every write
                    got = {p["id"] for p in client.get("/api/v4/practice_areas.json", params={"limit": 200}).json()["data"]}
                    assert set(made) <= got
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=30)
    assert code in (0, -signal.SIGTERM)
    assert "worker-2" in log.read_text()


def test_unknown_server_is_a_usage_error(spec_path):
    run = subprocess.run([sys.executable, "-m", "mockserver.cli", "serve", "--spec", str(spec_path), "--server", "gunicorn", "--port", "1"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "server must be one of uvicorn, granian" in run.stderr
