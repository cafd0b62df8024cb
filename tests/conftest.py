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
AUTH = {"Authorization": "Bearer test-token"}


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
    return create_app(Settings(spec=str(SPEC_PATH), seed=42), index=index)


@pytest.fixture
def client(app):
    with TestClient(app, base_url="http://127.0.0.1:8000", headers=AUTH) as c:
        yield c
