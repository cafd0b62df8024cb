"""Cursor paging with page_token and meta.paging URLs, limits, order and offset mode."""

from urllib.parse import parse_qs, urlsplit


def _walk(client, url, params=None):
    seen, pages = [], 0
    response = client.get(url, params=params)
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [r["id"] for r in body["data"]]
        pages += 1
        nxt = body["meta"]["paging"].get("next")
        if not nxt:
            return seen, pages, body
        response = client.get(nxt)


def test_cursor_walk_visits_every_record_once(client):
    everything = client.get("/api/v4/contacts.json", params={"limit": 200}).json()["data"]
    ids, pages, last = _walk(client, "/api/v4/contacts.json", {"limit": 7, "fields": "id,name"})
    assert ids == sorted(r["id"] for r in everything)
    assert pages == -(-len(everything) // 7)
    assert "next" not in last["meta"]["paging"]


def test_next_url_is_complete_and_keeps_query(client):
    body = client.get("/api/v4/contacts.json", params={"limit": 5, "fields": "id,name"}).json()
    nxt = body["meta"]["paging"]["next"]
    assert nxt.startswith("http://127.0.0.1:8000/api/v4/contacts.json?")
    query = parse_qs(urlsplit(nxt).query)
    assert query["fields"] == ["id,name"] and query["limit"] == ["5"] and query["page_token"]
    assert "previous" not in body["meta"]["paging"]


def test_previous_returns_the_page_before(client):
    first = client.get("/api/v4/contacts.json", params={"limit": 5}).json()
    second = client.get(first["meta"]["paging"]["next"]).json()
    back = client.get(second["meta"]["paging"]["previous"]).json()
    assert back["data"] == first["data"]


def test_descending_order(client):
    ids, _, _ = _walk(client, "/api/v4/contacts.json", {"limit": 9, "order": "id(desc)"})
    assert ids == sorted(ids, reverse=True)


def test_limit_out_of_range_is_400(client):
    for bad in ("0", "201", "abc"):
        r = client.get("/api/v4/contacts.json", params={"limit": bad})
        assert r.status_code == 400, bad
        assert r.json()["error"]["type"]


def test_endpoint_specific_limit_range(client):
    assert client.get("/api/v4/users.json", params={"limit": 2000}).status_code == 200
    assert client.get("/api/v4/billable_clients.json", params={"limit": 26}).status_code == 400


def test_order_by_other_field(client):
    r = client.get("/api/v4/contacts.json", params={"order": "name(asc)", "fields": "id,name", "limit": 200})
    assert r.status_code == 200
    names = [c["name"].lower() for c in r.json()["data"]]
    assert names == sorted(names)


def test_order_outside_enum_is_400(client):
    assert client.get("/api/v4/contacts.json", params={"order": "bogus(asc)"}).status_code == 400


def test_offset_mode_and_ceiling(client):
    page = client.get("/api/v4/contacts.json", params={"limit": 10, "offset": 10}).json()
    everything = client.get("/api/v4/contacts.json", params={"limit": 200}).json()["data"]
    assert [r["id"] for r in page["data"]] == [r["id"] for r in everything[10:20]]
    r = client.get("/api/v4/contacts.json", params={"limit": 200, "offset": 9900})
    assert r.status_code == 422
    assert r.json()["error"]["type"] == "ArgumentError"


def test_bad_page_token_is_400(client):
    assert client.get("/api/v4/contacts.json", params={"page_token": "!!garbage"}).status_code == 400


def test_default_order_stated_in_prose(client):
    """Clio documents date(asc) as the default for communications (BEHAVIOR.md 6)."""
    rows = client.get("/api/v4/communications.json", params={"fields": "id,date", "limit": 200}).json()["data"]
    dates = [r["date"] for r in rows]
    assert len(rows) > 2 and dates == sorted(dates)
