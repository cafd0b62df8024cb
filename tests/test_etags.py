"""ETag/Last-Modified headers, If-None-Match -> 304, If-Match mismatch -> 412."""


def test_show_carries_etag_and_304(client):
    r = client.get("/api/v4/matters/1.json")
    etag = r.headers["etag"]
    assert etag == r.json()["data"]["etag"]
    assert r.headers["last-modified"]
    again = client.get("/api/v4/matters/1.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""


def test_if_match_mismatch_is_412_and_nothing_changes(client):
    before = client.get("/api/v4/matters/1.json", params={"fields": "id,etag,description"}).json()["data"]
    r = client.patch("/api/v4/matters/1.json", json={"data": {"description": "changed"}}, headers={"If-Match": '"stale"'})
    assert r.status_code == 412
    assert set(r.json()["error"]) == {"type", "message"}
    after = client.get("/api/v4/matters/1.json", params={"fields": "id,etag,description"}).json()["data"]
    assert after == before


def test_if_match_current_etag_updates(client):
    etag = client.get("/api/v4/matters/1.json").headers["etag"]
    r = client.patch("/api/v4/matters/1.json", json={"data": {"description": "changed"}}, headers={"If-Match": etag})
    assert r.status_code == 200
    assert r.headers["etag"] != etag
    assert client.get("/api/v4/matters/1.json", headers={"If-None-Match": etag}).status_code == 200
