"""Tests of the example integration, using only clio-mock's pytest fixtures."""

from __future__ import annotations

import httpx
from matter_sync import ClioClient, OAuthCredentials, sync_matters

from mockserver.clio.oauth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET


def _client(clio_mock, token: dict) -> ClioClient:
    creds = OAuthCredentials(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, token["refresh_token"], token["access_token"])
    return ClioClient(clio_mock.url, creds)


def test_syncs_every_matter_across_pages(clio_mock):
    store: dict[int, dict] = {}
    changed = sync_matters(_client(clio_mock, clio_mock.token()), store, page_size=15)
    total = len(clio_mock.state.store.accounts[1].table("Matter"))
    assert changed == len(store) == total > 15  # more than one page
    assert len(clio_mock.requests("GET", "/api/v4/matters.json")) == -(-total // 15)


def test_second_sync_sees_only_the_change(clio_mock, clio_records):
    client = _client(clio_mock, clio_mock.token())
    store: dict[int, dict] = {}
    sync_matters(client, store)
    matter = clio_records.matter(description="Fresh instruction")
    assert sync_matters(client, store) == 1
    assert store[matter["id"]]["description"] == "Fresh instruction"


def test_refreshes_an_expired_token(clio_mock):
    client = _client(clio_mock, clio_mock.token())
    clio_mock.advance(31 * 86400)  # past the 30-day access-token lifetime
    store: dict[int, dict] = {}
    assert sync_matters(client, store) > 0
    assert client.refreshes == 1


def test_backs_off_on_429(clio_mock, monkeypatch):
    monkeypatch.setattr("matter_sync.time.sleep", lambda s: None)
    clio_mock.fault("rate_limit", path="/api/v4/matters.json", count=2, retry_after=3)
    store: dict[int, dict] = {}
    assert sync_matters(_client(clio_mock, clio_mock.token()), store) > 0
    assert [e.status for e in clio_mock.requests("GET", "/api/v4/matters.json")][:3] == [429, 429, 200]


def test_matter_with_time_entries_via_the_api(clio_mock, clio_records, clio_auth_headers):
    matter = clio_records.matter(time_entries=3)
    r = httpx.get(f"{clio_mock.api_url}/activities.json", params={"matter_id": matter["id"], "fields": "id,quantity,matter{id}"}, headers=clio_auth_headers)
    assert len(r.json()["data"]) == 3


def test_other_firm_is_isolated(clio_mock, clio_firm, clio_auth_headers):
    other = clio_firm(name="Rival LLP")
    secret = other.records.matter(description="Rival's secret matter")
    mine = httpx.get(f"{clio_mock.api_url}/matters/{secret['id']}.json", headers=clio_auth_headers)
    theirs = httpx.get(f"{clio_mock.api_url}/matters/{secret['id']}.json", headers=other.headers, params={"fields": "description"})
    assert mine.status_code == 404 and theirs.json()["data"]["description"] == "Rival's secret matter"


def test_in_process_app(clio_mock_app):
    from starlette.testclient import TestClient

    with TestClient(clio_mock_app) as c:
        assert c.get("/api/v4/users/who_am_i.json", headers={"Authorization": "Bearer dev"}).status_code == 200
