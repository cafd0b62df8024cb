"""Repeated reads answered from kept bytes, never stale: any write ends every kept answer."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.config import Settings
from mockserver.engine.readcache import ReadCache

LIST = ("/api/v4/matters.json", {"fields": "id,etag,description,client{id,name}", "limit": 200})


def _reads(app) -> ReadCache:
    return app.api.reads


def test_a_list_read_again_is_kept_and_then_the_same_bytes(client, app):
    first = client.get(*LIST[:1], params=LIST[1])  # noted
    assert len(_reads(app)) == 0
    client.get(*LIST[:1], params=LIST[1])  # read again: kept
    assert len(_reads(app)) == 1
    hits = _reads(app).hits
    second = client.get(*LIST[:1], params=LIST[1])
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert _reads(app).hits == hits + 1
    # Per-request headers are not kept: each answer has its own request id.
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_a_write_shows_in_the_next_read_of_a_kept_list_and_record(client, app):
    client.get(*LIST[:1], params=LIST[1])
    matter = client.get(*LIST[:1], params=LIST[1]).json()["data"][0]
    client.get(f"/api/v4/matters/{matter['id']}.json")
    r = client.patch(f"/api/v4/matters/{matter['id']}.json", json={"data": {"description": "Changed after caching"}})
    assert r.status_code == 200, r.text
    listed = next(m for m in client.get(*LIST[:1], params=LIST[1]).json()["data"] if m["id"] == matter["id"])
    assert listed["description"] == "Changed after caching"
    assert listed["etag"] == r.json()["data"]["etag"] != matter["etag"]
    shown = client.get(f"/api/v4/matters/{matter['id']}.json", params={"fields": "id,description"}).json()["data"]
    assert shown["description"] == "Changed after caching"


def test_a_change_to_an_associated_record_shows_in_the_kept_list(client):
    params = {"fields": "id,client{id,name}", "limit": 200}
    matter = next(m for m in client.get("/api/v4/matters.json", params=params).json()["data"] if m["client"])
    client.get("/api/v4/matters.json", params=params)
    r = client.patch(f"/api/v4/contacts/{matter['client']['id']}.json", json={"data": {"name": "Renamed While Kept"}})
    assert r.status_code == 200, r.text
    again = next(m for m in client.get("/api/v4/matters.json", params=params).json()["data"] if m["id"] == matter["id"])
    assert again["client"]["name"] == "Renamed While Kept"


def test_a_write_made_outside_the_api_ends_kept_answers_too(client, app):
    client.get(*LIST[:1], params=LIST[1])
    before = client.get(*LIST[:1], params=LIST[1]).json()["data"][0]  # read again: kept
    assert len(_reads(app)) == 1
    account = next(iter(app.state.store.accounts.values()))
    with app.state.store.write():  # the control API, scenarios and factories write like this
        model = app.state.index.models["Matter"]
        app.state.engine.writer.update(account, model, account.table("Matter").get(before["id"]), {"description": "Written by a fixture"})
    after = client.get(*LIST[:1], params=LIST[1]).json()["data"][0]
    assert after["description"] == "Written by a fixture"


def test_a_created_record_appears_in_the_next_page(client):
    params = {"fields": "id", "limit": 200, "order": "id(desc)"}
    newest = client.get("/api/v4/contacts.json", params=params).json()["data"][0]["id"]
    client.get("/api/v4/contacts.json", params=params)
    r = client.post("/api/v4/contacts.json", json={"data": {"type": "Person", "first_name": "Cache", "last_name": "Proof"}})
    assert r.status_code == 201, r.text
    assert client.get("/api/v4/contacts.json", params=params).json()["data"][0]["id"] == r.json()["data"]["id"] > newest


def test_conditional_reads_are_judged_each_time(client, app):
    url = "/api/v4/matters/1.json"
    etag = client.get(url).headers["etag"]
    hits = _reads(app).hits
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    assert _reads(app).hits == hits


def test_firms_and_users_never_share_a_kept_answer(index):
    app = create_app(Settings(seed=42, rate_limit=0, accounts=2), index=index)
    oauth = app.state.oauth
    headers = {}
    for account_id, account in app.state.store.accounts.items():
        user = account.table("User").ids[0]
        headers[account_id] = {"Authorization": f"Bearer {oauth.issue_token(account_id, user)['access_token']}"}
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        ids = {}
        for _ in range(2):
            for account_id, auth in headers.items():
                ids.setdefault(account_id, []).append([m["id"] for m in client.get("/api/v4/matters.json", headers=auth).json()["data"]])
        assert ids[1][0] == ids[1][1] and ids[2][0] == ids[2][1]
        assert not set(ids[1][0]) & set(ids[2][0])


def test_links_follow_the_host_the_client_used(client):
    params = {"limit": 1}
    a = client.get("/api/v4/matters.json", params=params).json()["meta"]["paging"]["next"]
    b = client.get("/api/v4/matters.json", params=params, headers={"Host": "other.example:9000"}).json()["meta"]["paging"]["next"]
    assert a.startswith("http://127.0.0.1:8000/") and b.startswith("http://other.example:9000/")


def test_errors_are_not_kept(client, app):
    kept = len(_reads(app))
    assert client.get("/api/v4/matters/999999999.json").status_code == 404
    assert client.get("/api/v4/matters.json", params={"fields": "nope"}).status_code == 400
    assert len(_reads(app)) == kept


@pytest.mark.parametrize("entries, size", [(3, 10**9), (10**6, 250)])
def test_the_cache_is_bounded_by_count_and_bytes(entries, size):
    reads = ReadCache(max_entries=entries, max_bytes=size, max_body=200)
    for n in range(10):
        for _ in range(2):  # kept the second time
            reads.put(("key", n), 2, 200, b"x" * 100, {})
    for _ in range(2):
        reads.put(("huge",), 2, 200, b"y" * 201, {})
    assert len(reads) <= entries and reads.bytes <= size
    assert reads.bytes == sum(len(e[1]) for e in reads.entries.values())
    assert reads.get(("huge",), 2) is None
    assert reads.get(("key", 9), 2) is not None  # the newest stays
    assert reads.get(("key", 9), 4) is None  # another generation: dead


def test_a_new_generation_drops_every_kept_answer():
    reads = ReadCache()
    for _ in range(2):
        reads.put("a", 2, 200, b"1", {})
    assert reads.get("a", 2).body == b"1"
    for _ in range(2):
        reads.put("b", 4, 200, b"2", {})
    assert len(reads) == 1 and reads.get("a", 2) is None and reads.get("b", 4).body == b"2"


def test_a_read_made_once_is_only_noted():
    reads = ReadCache(max_entries=2)
    for n in range(20):  # random reads, each once: nothing kept, the notes stay bounded
        reads.put(("once", n), 2, 200, b"z", {})
    assert len(reads) == 0 and reads.bytes == 0 and len(reads.seen) <= 4


def test_a_read_with_a_huge_query_is_never_kept(client, app):
    params = {"fields": "id", "limit": 1, "query": "x" * 5000}
    for _ in range(3):
        assert client.get("/api/v4/matters.json", params=params).status_code == 200
    assert len(_reads(app)) == 0 and not _reads(app).seen
