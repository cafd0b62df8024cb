"""App permissions per area (read / read-write), fixed into the grant at approval: 403 otherwise."""

from __future__ import annotations

from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.config import Settings


def _client_for(index, permissions):
    app = create_app(Settings(seed=42, rate_limit=0), index=index)
    limited = app.state.oauth.create_app("Contacts reader", ["http://127.0.0.1:*"], permissions)
    user = app.state.store.accounts[1].table("User").ids[0]
    token = app.state.oauth.issue_token(1, user, limited.client_id)["access_token"]
    return app, limited, TestClient(app, headers={"Authorization": f"Bearer {token}"})


def test_read_permission_allows_reads_only_in_its_area(index):
    _, _, client = _client_for(index, {"contacts": "read"})
    assert client.get("/api/v4/contacts.json").status_code == 200
    write = client.post("/api/v4/contacts.json", json={"data": {"type": "Company", "name": "X"}})
    assert write.status_code == 403
    assert write.json()["error"]["type"] == "ForbiddenError"
    assert client.get("/api/v4/bills.json").status_code == 403
    assert client.get("/api/v4/users/who_am_i.json").status_code == 200


def test_write_permission_allows_writes(index):
    _, _, client = _client_for(index, {"contacts": "write"})
    assert client.post("/api/v4/contacts.json", json={"data": {"type": "Company", "name": "X"}}).status_code == 201


def test_grant_keeps_permissions_from_approval_time(index):
    _, limited, client = _client_for(index, {"contacts": "read"})
    limited.permissions["billing"] = "read"  # the app gains a permission later...
    assert client.get("/api/v4/bills.json").status_code == 403  # ...existing tokens do not
