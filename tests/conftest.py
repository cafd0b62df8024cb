"""Shared fixtures: Clio's spec from ../shared, one indexed spec per session, a fresh app per test."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.config import Settings
from mockserver.spec.source import load_index

SHARED = Path(__file__).resolve().parents[2] / "shared" / "clio"
SPEC_PATH = SHARED / "openapi-v4.json"
AUTH = {"Authorization": "Bearer dev"}  # the default account's long-lived dev token
# Browser tests drive Debian's headless Chromium through Playwright (no browser download).
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def spec_path() -> Path:
    if not SPEC_PATH.exists():
        pytest.skip(f"Clio's spec is expected at {SPEC_PATH}")
    return SPEC_PATH


@pytest.fixture(scope="session")
def index(spec_path):
    return load_index(str(spec_path))


@pytest.fixture
def app(index):
    # Example webhook bodies point at the discard port on loopback (engine/examples.py): allowed here.
    return create_app(Settings(spec=str(SPEC_PATH), seed=42, rate_limit=0, webhook_allow_host=["127.0.0.1"]), index=index)


@pytest.fixture
def client(app):
    with TestClient(app, base_url="http://127.0.0.1:8000", headers=AUTH) as c:
        yield c


def operation_url(index, account, engine, op, skip: int = 0) -> str:
    """``op``'s URL with its path parameters filled with ids of records that exist (the newest
    record, or the one ``skip`` places before it)."""
    from mockserver.spec.index import parent_links

    source = engine.sources[op.operation_id]
    values = {}
    for link in parent_links(index, op):
        candidates = account.table(link.parent).ids
        if source.kind == "table" and source.link is not None:
            child_parents = [r.get(link.key) for r in account.table(source.model)]
            candidates = [i for i in candidates if i in child_parents] or candidates
        values[link.param] = candidates[0]
    if "id" in op.path_params and "id" not in values:
        owner = engine.owners.get(op.operation_id) or source.model
        rows = list(account.table(owner))
        if source.link is not None and owner == source.model:
            rows = [r for r in rows if r.get(source.link.key) == values.get(source.link.param)]
        assert len(rows) > skip, f"no {owner} records to call {op.operation_id} with"
        values["id"] = rows[-1 - skip]["id"]
    path = op.path
    for name, value in values.items():
        path = path.replace("{" + name + "}", str(value))
    return "/api/v4" + path


@contextlib.contextmanager
def chromium():
    """Debian's headless Chromium driven by Playwright (no browser download), closed afterwards."""
    from playwright import sync_api

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def stop(proc: subprocess.Popen) -> None:
    """Stop a server subprocess: SIGTERM (it finishes in-flight requests), SIGKILL if it hangs."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def free_port() -> int:
    """A free loopback port for a server subprocess."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_health(url: str, timeout: float = 60.0) -> bool:
    """Poll ``/__mock__/health`` until it answers 200 (True) or the timeout passes (False)."""
    import time

    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/__mock__/health", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            time.sleep(0.05)
    return False


@contextlib.contextmanager
def serve(*args: str, env: dict | None = None, timeout: float = 60.0):
    """``clio-mock serve ARGS`` in a subprocess on a free loopback port: yields its base URL,
    stops it afterwards. Fails the test if it does not become healthy."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:  # a file, not a pipe: a chatty server never blocks on it
        proc = subprocess.Popen([sys.executable, "-m", "mockserver.cli", "serve", "--port", str(port), "--log-level", "warning", *args],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            if not wait_for_health(url, timeout):
                log.seek(0)
                pytest.fail(f"clio-mock did not start:\n{log.read().decode(errors='replace')[-4000:]}")
            yield url
        finally:
            stop(proc)
