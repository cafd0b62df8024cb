"""Every spec path in .json and bare form; unknown paths/methods and bad ids in Clio's shape."""


def test_json_and_bare_forms_are_the_same_resource(client):
    a = client.get("/api/v4/matters/1.json", params={"fields": "id,display_number"})
    b = client.get("/api/v4/matters/1", params={"fields": "id,display_number"})
    assert a.status_code == b.status_code == 200
    assert a.json() == b.json()


def test_unknown_path_is_clio_shaped_404(client):
    r = client.get("/api/v4/no_such_things.json")
    assert r.status_code == 404
    assert set(r.json()["error"]) == {"type", "message"}


def test_wrong_method_is_405_with_allow(client):
    r = client.put("/api/v4/matters.json", json={})
    assert r.status_code == 405
    assert "GET" in r.headers["allow"] and "POST" in r.headers["allow"]
    assert r.json()["error"]["type"] == "MethodNotAllowed"


def test_non_integer_id_is_404_not_500(client):
    for bad in ("abc", "1.5", "-1", "99999999999999999999999", "%00"):
        r = client.get(f"/api/v4/matters/{bad}.json")
        assert r.status_code == 404, bad
        assert "error" in r.json()


def test_literal_segment_wins_over_id(client):
    r = client.get("/api/v4/users/who_am_i.json", params={"fields": "id,name"})
    assert r.status_code == 200
    assert r.json()["data"]["name"]
