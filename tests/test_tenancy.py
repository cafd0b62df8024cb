"""A token of firm A never sees or changes firm B's records."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.config import Settings


@pytest.fixture
def two_firms(index):
    app = create_app(Settings(seed=42, rate_limit=0, accounts=2), index=index)
    oauth, store = app.state.oauth, app.state.store
    tokens = {}
    for account_id in (1, 2):
        user = store.accounts[account_id].table("User").ids[0]
        tokens[account_id] = {"Authorization": f"Bearer {oauth.issue_token(account_id, user)['access_token']}"}
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        yield client, tokens


def test_firms_see_only_their_own_records(two_firms):
    client, tokens = two_firms
    a = {m["id"] for m in client.get("/api/v4/matters.json", headers=tokens[1]).json()["data"]}
    b = {m["id"] for m in client.get("/api/v4/matters.json", headers=tokens[2]).json()["data"]}
    assert a and b and not a & b


def test_firm_b_cannot_read_change_or_delete_firm_a_records(two_firms):
    client, tokens = two_firms
    created = client.post("/api/v4/contacts.json", headers=tokens[1], json={"data": {"type": "Company", "name": "Secret Client Ltd"}}).json()["data"]
    url = f"/api/v4/contacts/{created['id']}.json"
    assert client.get(url, headers=tokens[2]).status_code == 404
    assert client.patch(url, headers=tokens[2], json={"data": {"name": "Hijacked"}}).status_code == 404
    assert client.delete(url, headers=tokens[2]).status_code == 404
    assert client.get(url, headers=tokens[1], params={"fields": "name"}).json()["data"]["name"] == "Secret Client Ltd"
    assert client.get("/api/v4/contacts.json", headers=tokens[2], params={"query": "Secret Client"}).json()["data"] == []


def test_who_am_i_is_the_firms_user(two_firms):
    client, tokens = two_firms
    one = client.get("/api/v4/users/who_am_i.json", headers=tokens[1]).json()["data"]["id"]
    two = client.get("/api/v4/users/who_am_i.json", headers=tokens[2]).json()["data"]["id"]
    assert one != two
