"""The journal is bounded by bytes, not only by count (issue 14.2): a body is kept up to
``journal_body_bytes`` and marked truncated, and all entries together stay within ``journal_bytes``."""

from __future__ import annotations

import subprocess
import sys

import httpx
from conftest import AUTH, SPEC_PATH, free_port, wait_for_health
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.config import Settings
from mockserver.control.journal import Journal

BIG = b"{" + b"x" * (5 * 1024 * 1024)  # a 5 MB body that is not JSON: rejected with 400


def test_a_long_body_is_kept_cut_with_a_marker():
    journal = Journal(max_body=1024)
    entry = journal.record(0.0, "POST", "/api/v4/contacts.json", b"", b'{"data":"' + b"y" * 5000 + b'"}', 201, None)
    assert entry.body_bytes == 5011 and entry.truncated
    assert entry.body.startswith('{"data":"yyy') and "truncated, 5011 bytes in all, 1024 kept" in entry.body
    assert journal.bytes < 2 * 1024


def test_a_body_kept_uncopied_is_charged_for_all_it_holds():
    journal = Journal(max_body=1024)
    response = journal.tap()
    page = b'{"data":"' + b"p" * 1500 + b'"}'  # under twice the cap: shown cut, kept as a view of the whole
    response.add(page)
    entry = journal.add(0.0, "GET", "/api/v4/matters.json", b"", [], journal.tap(), 200, response=response)
    assert entry.response_bytes == len(page) and entry.truncated
    assert "truncated, 1511 bytes in all, 1024 kept" in entry.response_body
    assert entry.size >= len(page) and journal.bytes == entry.size
    huge = journal.tap()
    huge.add(b"h" * 10_000)  # far over the cap: a copy of the cap, not a view of 10 KB
    entry = journal.add(1.0, "GET", "/api/v4/matters.json", b"", [], journal.tap(), 200, response=huge)
    assert len(entry._response) == 1024 and isinstance(entry._response, bytes) and entry.size < 2 * 1024


def test_the_byte_budget_drops_the_oldest_entries():
    journal = Journal(size=10_000, max_body=10_000, max_bytes=100_000)
    for n in range(100):
        journal.record(float(n), "POST", "/api/v4/notes.json", b"", b"z" * 9_000, 201, None)
    assert journal.bytes <= 100_000
    assert 5 <= len(journal.entries) < 12
    assert journal.entries[-1].time == 99.0  # the newest stay
    assert journal.bytes == sum(e.size for e in journal.entries)


def test_sixty_rejected_5mb_posts_stay_within_the_budget(index):
    settings = Settings(spec=str(SPEC_PATH), rate_limit=0, journal_bytes=2 * 1024 * 1024)
    app = create_app(settings, index=index)
    with TestClient(app, base_url="http://127.0.0.1:8000", headers=AUTH) as client:
        for _ in range(60):
            r = client.post("/api/v4/contacts.json", content=BIG, headers={"Content-Type": "application/json"})
            assert 400 <= r.status_code < 500
        journal = app.state.journal
        assert journal.bytes <= 2 * 1024 * 1024
        assert journal.bytes == sum(e.size for e in journal.entries)
        # each entry holds at most the body cap (64 KiB) of its 5 MB
        assert all(len(e._body) <= 64 * 1024 and e.body_bytes == len(BIG) for e in journal.entries)
        entries = client.get("/__mock__/journal", params={"limit": 1}).json()["data"]
        assert entries[0]["truncated"] and "truncated" in entries[0]["body"]


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))


def test_server_memory_does_not_grow_with_big_rejected_bodies(spec_path, tmp_path):
    """The report's case over real HTTP: 60 x 5 MB used to grow the server by ~600 MB."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(tmp_path / "log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "mockserver.cli", "serve", "--spec", str(spec_path), "--port", str(port),
                                 "--rate-limit", "0", "--log-level", "warning", "--no-access-log"], stdout=log, stderr=subprocess.STDOUT)
        try:
            assert wait_for_health(url)
            with httpx.Client(headers=AUTH, timeout=30) as client:
                for _ in range(5):  # warm-up: allocator arenas, caches
                    client.post(f"{url}/api/v4/contacts.json", content=BIG, headers={"Content-Type": "application/json"})
                before = _rss_kib(proc.pid)
                for _ in range(60):
                    client.post(f"{url}/api/v4/contacts.json", content=BIG, headers={"Content-Type": "application/json"})
                grown_mib = (_rss_kib(proc.pid) - before) / 1024
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    # bounded: at most the 32 MiB budget (in fact 60 x 64 KiB); unbounded it was ~300-600 MiB
    assert grown_mib < 100, f"server grew {grown_mib:.0f} MiB over 60 rejected 5 MB POSTs"
