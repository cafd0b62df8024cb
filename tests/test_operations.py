"""Running as a service: liveness/readiness, request ids, access and JSON logs, SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import httpx
from conftest import free_port, wait_for_health


def test_health_ready_and_request_id(client):
    assert client.get("/__mock__/health").json()["status"] == "ok"
    ready = client.get("/__mock__/ready").json()
    assert ready["ready"] and ready["operations"] >= 282 and ready["store"] == "memory"
    r = client.get("/api/v4/matters.json")
    assert len(r.headers["x-request-id"]) == 16
    assert client.get("/api/v4/matters.json", headers={"X-Request-Id": "trace-123"}).headers["x-request-id"] == "trace-123"


def test_json_access_log_and_graceful_sigterm(spec_path, tmp_path):
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "mockserver.cli", "serve", "--spec", str(spec_path), "--port", str(port), "--json-logs"],
                                stdout=fh, stderr=fh)
        try:
            url = f"http://127.0.0.1:{port}"
            assert wait_for_health(url)
            httpx.get(f"{url}/api/v4/matters.json", headers={"Authorization": "Bearer dev", "X-Request-Id": "abc123"})
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=20)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    access = [entry for entry in lines if entry.get("request_id") == "abc123"]
    assert access and access[0]["status"] == 200 and access[0]["path"] == "/api/v4/matters.json"
    # uvicorn finishes in-flight requests and shuts down, then re-raises SIGTERM (exit 143 / -15)
    assert code in (0, -signal.SIGTERM)
    assert any("Finished server process" in entry["message"] for entry in lines)
