"""Every cache, queue and history is bounded: the fields-plan cache (by count and weight),
webhook history and queue, expired tokens; a server's memory stays flat under abuse."""

from __future__ import annotations

import httpx
from conftest import AUTH, SPEC_PATH, serve
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.clio import webhooks as webhook_module
from mockserver.config import Settings
from mockserver.engine.serializer import Serializer


def test_plan_cache_is_bounded_by_count_and_weight(index):
    serializer = Serializer(index, cache_size=50, cache_weight=5_000)
    every = serializer.all_fields("Matter")
    for n in range(300):
        serializer.plan("Matter", f"{every},{'id,' * n}id")
    assert len(serializer.cache) <= 50 and serializer.weight <= 5_000
    huge = ",".join([every] * 40)
    serializer.plan("Matter", huge)  # heavier than 2% of the budget: built, not kept
    assert ("Matter", huge) not in serializer.cache


def test_webhook_history_and_queue_drop_the_oldest(app, monkeypatch):
    service = app.state.webhooks
    monkeypatch.setattr(service, "history", webhook_module.deque(maxlen=10))
    for n in range(25):
        service._note({"n": n})
    assert [e["n"] for e in service.history] == list(range(15, 25)) and service.dropped["history"] == 15
    monkeypatch.setattr(webhook_module, "QUEUE_SIZE", 5)
    service.worker = type("Alive", (), {"is_alive": lambda self: True})()  # no real worker: the jobs stay queued
    for n in range(8):
        service._enqueue(webhook_module._Job(1e12, n, "delivery", 1, 1))
    assert sorted(j.seq for j in service.jobs) == [3, 4, 5, 6, 7] and service.dropped["jobs"] == 3


def test_expired_tokens_are_pruned(app):
    oauth = app.state.oauth
    for _ in range(1100):
        oauth.issue_token(1, None)
    app.state.clock.offset += __import__("datetime").timedelta(days=31)
    oauth.issue_token(1, None)
    assert len(oauth.tokens) <= 3  # the new one (and the 10-year dev token)


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))


def _server_pid(port: int) -> int:
    import subprocess

    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    return int(out.split("pid=", 1)[1].split(",", 1)[0])


def test_memory_stays_bounded_under_large_rejected_requests_and_distinct_fields(spec_path):
    """A memory bound, not a time threshold: < 100 MB growth after 100 large rejected
    requests and 1,000 distinct (large) fields values."""
    with serve("--spec", str(spec_path), "--rate-limit", "0") as url:
        pid = _server_pid(int(url.rsplit(":", 1)[1]))
        with httpx.Client(base_url=url, headers={"Authorization": "Bearer dev"}, timeout=60) as c:
            c.get("/api/v4/matters.json", params={"limit": 5, "fields": "id"})
            baseline = _rss_kb(pid)
            junk = b'{"data": {"name": "' + b"x" * (3 * 1024 * 1024)  # 3 MB, unterminated: rejected 400
            for _ in range(100):
                assert c.post("/api/v4/contacts.json", content=junk, headers={"Content-Type": "application/json"}).status_code == 400
            names = "id,etag,display_number,description,status,client,responsible_attorney,originating_attorney,practice_area,custom_field_values,relationships,group,user"
            for n in range(1000):
                r = c.get("/api/v4/matters.json", params={"limit": 1, "fields": ",".join([names] * 8) + ",id" * (n + 1)})
                assert r.status_code == 200, r.text[:200]
            grown_mb = (_rss_kb(pid) - baseline) / 1024
    assert grown_mb < 100, f"grew {grown_mb:.0f} MB"


def test_an_app_built_in_process_is_freed_once_dropped(index):
    """Tests build many apps in one process: none may outlive its test (the collector is
    tuned, and the heap frozen, only in serving processes)."""
    import gc
    import weakref

    app = create_app(Settings(spec=str(SPEC_PATH), rate_limit=0), index=index)
    with TestClient(app, base_url="http://127.0.0.1:8000", headers=AUTH) as client:
        assert client.get("/api/v4/matters.json").status_code == 200
    state = weakref.ref(app.state)
    del app, client
    gc.collect()
    assert state() is None
    assert gc.get_freeze_count() == 0
