"""``fields`` selection: defaults, nesting one level deep, and 400 InvalidFields."""


def test_default_fields_are_id_and_etag(client):
    record = client.get("/api/v4/matters.json", params={"limit": 1}).json()["data"][0]
    assert set(record) == {"id", "etag"}
    assert record["etag"].startswith('"') and record["etag"].endswith('"')


def test_nested_selection(client):
    r = client.get("/api/v4/matters.json", params={"fields": "id,display_number,client{id,name}", "limit": 5})
    assert r.status_code == 200
    for matter in r.json()["data"]:
        assert set(matter) == {"id", "display_number", "client"}
        assert set(matter["client"]) == {"id", "name"}


def test_association_without_braces_gets_its_defaults(client):
    matter = client.get("/api/v4/matters.json", params={"fields": "client", "limit": 1}).json()["data"][0]
    assert set(matter["client"]) == {"id", "etag"}


def test_unknown_field_is_400_invalid_fields(client):
    r = client.get("/api/v4/matters.json", params={"fields": "id,document_versions"})
    assert r.status_code == 400
    assert r.json()["error"] == {"type": "InvalidFields", "message": "document_versions is not a valid field"}


def test_second_level_nesting_is_400(client):
    r = client.get("/api/v4/activities.json", params={"fields": "matter{client{date_of_birth}}"})
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "InvalidFields"


def test_fields_shape_write_responses(client):
    r = client.post("/api/v4/practice_areas.json", json={"data": {"name": "Maritime Law"}}, params={"fields": "id,name"})
    assert r.status_code == 201
    assert set(r.json()["data"]) == {"id", "name"}
