"""List filters: ids[], *_id (and null), created_since/updated_since, query, field equality."""


def test_ids_filter_repeats(client):
    ids = [r["id"] for r in client.get("/api/v4/contacts.json", params={"limit": 4}).json()["data"]]
    r = client.get("/api/v4/contacts.json", params=[("ids[]", ids[1]), ("ids[]", ids[3])])
    assert [c["id"] for c in r.json()["data"]] == [ids[1], ids[3]]


def test_association_id_filter(client):
    activity = client.get("/api/v4/activities.json", params={"fields": "id,matter{id}", "limit": 1}).json()["data"][0]
    matter_id = activity["matter"]["id"]
    listed = client.get("/api/v4/activities.json", params={"matter_id": matter_id, "fields": "matter{id}", "limit": 200}).json()["data"]
    assert listed and all(a["matter"]["id"] == matter_id for a in listed)


def test_integer_filter_rejects_text(client):
    assert client.get("/api/v4/activities.json", params={"matter_id": "abc"}).status_code == 400


def test_updated_since(client):
    created = client.post("/api/v4/contacts.json", json={"data": {"type": "Person", "name": "New Person", "first_name": "New", "last_name": "Person"}}, params={"fields": "id,created_at"}).json()["data"]
    listed = client.get("/api/v4/contacts.json", params={"updated_since": "2099-01-01T00:00:00+00:00"}).json()["data"]
    assert listed == []
    listed = client.get("/api/v4/contacts.json", params={"created_since": "2000-01-01T00:00:00Z", "limit": 200}).json()["data"]
    assert created["id"] in [c["id"] for c in listed]


def test_query_matches_text(client):
    client.post("/api/v4/contacts.json", json={"data": {"type": "Person", "name": "Quentin Zzyzx", "first_name": "Quentin", "last_name": "Zzyzx"}})
    found = client.get("/api/v4/contacts.json", params={"query": "zzyzx", "fields": "name"}).json()["data"]
    assert [c["name"] for c in found] == ["Quentin Zzyzx"]


def test_status_filter_is_case_insensitive_and_takes_a_list(client):
    rows = client.get("/api/v4/matters.json", params={"status": "open,pending", "fields": "status", "limit": 200}).json()["data"]
    assert rows and {r["status"] for r in rows} <= {"Open", "Pending"}


def test_bad_timestamp_is_400(client):
    assert client.get("/api/v4/contacts.json", params={"updated_since": "yesterday"}).status_code == 400


def test_array_filter_without_brackets(client):
    ids = [r["id"] for r in client.get("/api/v4/contacts.json", params={"limit": 3}).json()["data"]]
    r = client.get("/api/v4/contacts.json", params=[("ids", ids[0]), ("ids", ids[2])])
    assert [c["id"] for c in r.json()["data"]] == [ids[0], ids[2]]
