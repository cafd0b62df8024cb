"""Bad input never produces a 500 and never loses stored data."""

from __future__ import annotations

import pytest

JUNK_BODIES = [b"", b"null", b"[]", b'"text"', b'{"data": "x"}', b'{"data": []}', b'{"data": {"id": "x"}}', b"\xff\xfe", b'{"data": {"name": {"nested": [1, {"a": null}]}}}']
JUNK_QUERIES = [
    {"fields": "{}}{"}, {"fields": ",,,"}, {"limit": "-5"}, {"limit": "1e9"}, {"page_token": "YTp4"},
    {"order": "(asc)"}, {"ids[]": "x"}, {"created_since": "2020-13-45"}, {"offset": "abc"}, {"query": "\x00"},
    {"matter_id": "99999999999999999999999999"}, {"status": ""}, {"open_date[]": "<>2020"},
]


def _url(op):
    path = op.path
    for p in op.path_params:
        path = path.replace("{" + p + "}", "1")
    return "/api/v4" + path


def test_junk_bodies_on_every_write(client, index):
    seen = set()
    for op in index.operations:
        if op.request_schema is None:
            continue
        for body in JUNK_BODIES:
            for ctype in ("application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=zz"):
                r = client.request(op.method, _url(op), content=body, headers={"Content-Type": ctype})
                assert r.status_code < 500, (op.operation_id, body, ctype, r.text)
                assert "error" in r.json() or r.status_code < 300
                seen.add(r.status_code)
    assert 422 in seen and 400 in seen


def test_junk_queries_on_every_read(client, index):
    for op in index.operations:
        if op.method != "GET":
            continue
        for query in JUNK_QUERIES:
            r = client.get(_url(op), params=query, follow_redirects=False)
            assert r.status_code < 500, (op.operation_id, query, r.text)


@pytest.mark.parametrize("body", [{"data": {"first_name": 5}}, {"data": {"type": "Alien"}}, {"data": {"email_addresses": "x"}}])
def test_rejected_update_changes_nothing(client, body):
    before = client.get("/api/v4/contacts/1.json", params={"fields": "id,etag,name,type"}).json()
    r = client.patch("/api/v4/contacts/1.json", json=body)
    assert r.status_code in (400, 422)
    assert client.get("/api/v4/contacts/1.json", params={"fields": "id,etag,name,type"}).json() == before


def test_odd_multipart_names_do_not_crash(client):
    body = b'--zz\r\nContent-Disposition: form-data; name="a;b"\r\n\r\nx\r\n--zz\r\nContent-Disposition: form-data; name="data[name"\r\n\r\ny\r\n--zz--\r\n'
    r = client.post("/api/v4/contacts.json", content=body, headers={"Content-Type": "multipart/form-data; boundary=zz"})
    assert r.status_code in (400, 422)
