"""X-API-VERSION: the default echoed on success, 410 Gone for invalid versions."""


def test_default_version_is_echoed(client, index):
    r = client.get("/api/v4/matters.json")
    assert r.headers["x-api-version"] == index.versions.default == "4.0.13"


def test_requested_version_is_echoed(client):
    assert client.get("/api/v4/matters.json", headers={"X-API-VERSION": "4.0.9"}).headers["x-api-version"] == "4.0.9"


def test_invalid_version_is_410(client):
    for bad in ("5.0.0", "banana", "4.0.99"):
        r = client.get("/api/v4/matters.json", headers={"X-API-VERSION": bad})
        assert r.status_code == 410, bad
        assert r.json()["error"]["type"] == "Gone"


def test_missing_token_is_401_clio_shaped(client):
    r = client.get("/api/v4/matters.json", headers={"Authorization": ""})
    assert r.status_code == 401
    assert set(r.json()["error"]) == {"type", "message"}
