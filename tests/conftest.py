"""Shared fixtures: Clio's spec from ../shared, one indexed spec per session, a fresh app per test."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.config import Settings
from mockserver.specsource import load_index

SHARED = Path(__file__).resolve().parents[2] / "shared" / "clio"
SPEC_PATH = SHARED / "openapi-v4.json"
AUTH = {"Authorization": "Bearer dev"}  # the default account's long-lived dev token


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
    return create_app(Settings(spec=str(SPEC_PATH), seed=42, rate_limit=0), index=index)


@pytest.fixture
def client(app):
    with TestClient(app, base_url="http://127.0.0.1:8000", headers=AUTH) as c:
        yield c


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
