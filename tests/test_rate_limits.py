"""Per-token rate limits: X-RateLimit-* on every response, 429 with Retry-After past the limit."""

from __future__ import annotations

from datetime import timedelta

from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.config import Settings


def _app(index, limit):
    return create_app(Settings(seed=42, rate_limit=limit), index=index)


def test_headers_count_down_then_429(index):
    app = _app(index, 3)
    with TestClient(app, headers={"Authorization": "Bearer dev"}) as client:
        seen = [client.get("/api/v4/matters.json") for _ in range(3)]
        assert [int(r.headers["x-ratelimit-remaining"]) for r in seen] == [2, 1, 0]
        assert all(r.headers["x-ratelimit-limit"] == "3" for r in seen)
        reset = int(seen[0].headers["x-ratelimit-reset"])
        assert 0 < reset - app.state.clock.time() <= 60
        over = client.get("/api/v4/matters.json")
        assert over.status_code == 429
        assert over.json()["error"]["type"] == "RateLimited"
        assert 1 <= int(over.headers["retry-after"]) <= 60
        app.state.clock.offset += timedelta(seconds=61)
        assert client.get("/api/v4/matters.json").status_code == 200


def test_errors_carry_the_headers_too(index):
    with TestClient(_app(index, 5), headers={"Authorization": "Bearer dev"}) as client:
        r = client.get("/api/v4/matters/999999.json")
        assert r.status_code == 404 and r.headers["x-ratelimit-remaining"] == "4"


def test_limits_are_per_token(index):
    app = _app(index, 1)
    other = app.state.oauth.issue_token(1, None)["access_token"]
    with TestClient(app) as client:
        assert client.get("/api/v4/matters.json", headers={"Authorization": "Bearer dev"}).status_code == 200
        assert client.get("/api/v4/matters.json", headers={"Authorization": "Bearer dev"}).status_code == 429
        assert client.get("/api/v4/matters.json", headers={"Authorization": f"Bearer {other}"}).status_code == 200


def test_zero_turns_limits_off(index):
    with TestClient(_app(index, 0), headers={"Authorization": "Bearer dev"}) as client:
        r = [client.get("/api/v4/matters.json") for _ in range(60)][-1]
        assert r.status_code == 200 and "x-ratelimit-limit" not in r.headers
