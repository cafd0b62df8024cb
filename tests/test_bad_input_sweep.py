"""The bad-input sweep: every write operation and a sample of reads get malformed, wrong-typed,
oversized, deeply nested, non-UTF-8, overflowing and Unicode-odd input. No answer is a 5xx, the
mock answers correctly afterwards, and a rejected write changes nothing stored."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from conftest import SPEC_PATH, free_port, wait_for_health

from mockserver.engine.jsonenc import dumps

# A few odd ids on every operation; all of them on a sample.
SOME_IDS = ["%C2%B2", "%EF%BC%91", "%0D%0A", "99999999999999999999999"]
ODD_IDS = ["%C2%B2", "%D9%A3", "%EF%BC%91", "%E2%85%A0", "-1", "1e3", "1.5", "0x1", "99999999999999999999999", "%00", "%0D%0A", "%FF", "%20", "%E2%80%AE1"]
DEEP_JSON = b'{"data": ' + b'{"a": ' * 300 + b"1" + b"}" * 300 + b"}"
DEEP_LIST = b'{"data": {"name": ' + b"[" * 600 + b"]" * 600 + b"}}"
DEEP_FORM = b"data" + b"[a]" * 300 + b"=1"
# (body, content type): every one of these must be rejected and store nothing.
REJECTED = [
    (b'{"data": ', "application/json"),
    (b'{"data": {"name": "\xff\xfe"}}', "application/json"),
    (b"\xef\xbb\xbf\xff", "application/json"),
    (b'{"data": {"name": "\\ud800"}}', "application/json"),
    (b"[1, 2]", "application/json"),
    (b'"text"', "application/json"),
    (b'{"data": 5}', "application/json"),
    (b'{"data": [{"a": 1}]}', "application/json"),
    (DEEP_JSON, "application/json"),
    (DEEP_LIST, "application/json"),
    (DEEP_FORM, "application/x-www-form-urlencoded"),
    (b"--zz\r\nContent-Disposition: form-data; name=\"" + DEEP_FORM[:-2] + b"\"\r\n\r\n1\r\n--zz--\r\n", "multipart/form-data; boundary=zz"),
    (b"\xc3\x28=\xff", "application/x-www-form-urlencoded"),
    (b"--zz\r\nbroken", "multipart/form-data; boundary=zz"),
    (b"<data/>", "application/xml"),
]
JUNK_QUERIES = [{"fields": "{" * 2000}, {"fields": "id," * 3000}, {"limit": "\u00b2"}, {"offset": "\u0663"}, {"page_token": "\u00b2"},
                {"ids[]": "\uff11"}, {"created_since": "9999-12-31T23:59:59+99:00"}, {"updated_since": "0000-01-01"}, {"query": "\x00\u202e"},
                {"order": "id(\u00b2)"}, {"limit": "99999999999999999999999999"}]


def _path(op, value: str = "1") -> str:
    path = op.path
    for p in op.path_params:
        path = path.replace("{" + p + "}", value)
    return "/api/v4" + path


def _snapshot(state) -> bytes:
    """Everything stored: every firm's records and the OAuth state."""
    accounts = {a.id: {m: list(t) for m, t in sorted(a.tables.items())} for a in state.store.accounts.values()}
    return dumps({"accounts": accounts, "oauth": state.oauth.dump()})


def _scalar_field(op) -> tuple[str, str] | None:
    props = ((op.request_schema or {}).get("properties", {}).get("data") or {}).get("properties") or {}
    for name, schema in props.items():
        if schema.get("type") in ("string", "integer", "number", "boolean") and name != "id":
            return name, schema["type"]
    return None


def _assert_clio_error(r, where):
    assert r.status_code < 500, (where, r.status_code, r.text[:300])
    if r.status_code >= 400:
        body = r.json()
        assert isinstance(body.get("error"), (dict, str)), (where, r.text[:300])


def _writes(index):
    return [op for op in index.operations if op.method != "GET"]


def test_rejected_writes_answer_4xx_and_store_nothing(client, app, index):
    before = _snapshot(app.state)
    statuses = set()
    for n, op in enumerate(_writes(index)):
        for value in (ODD_IDS if n % 10 == 0 else SOME_IDS) if op.path_params else []:
            r = client.request(op.method, _path(op, value), json={"data": {}})
            _assert_clio_error(r, (op.operation_id, value))
            assert r.status_code >= 400, (op.operation_id, value, r.status_code)
        if op.request_schema is None:
            continue
        bodies = list(REJECTED)
        scalar = _scalar_field(op)
        if scalar:  # wrong-typed: an object where the schema wants a scalar
            bodies.append((dumps({"data": {scalar[0]: {"nested": [1, {"a": None}]}}}), "application/json"))
        for body, ctype in bodies:
            r = client.request(op.method, _path(op), content=body, headers={"Content-Type": ctype})
            _assert_clio_error(r, (op.operation_id, body[:40], ctype))
            assert r.status_code >= 400, (op.operation_id, body[:40], ctype, r.status_code, r.text[:200])
            statuses.add(r.status_code)
    assert {400, 422} <= statuses
    assert _snapshot(app.state) == before
    _still_serving(client)


def test_oversized_bodies_are_413_and_store_nothing(client, app, index):
    before = _snapshot(app.state)
    big = b'{"data": {"name": "' + b"x" * (11 * 1024 * 1024) + b'"}}'
    for op in [o for o in _writes(index) if o.request_schema is not None][:6]:
        r = client.request(op.method, _path(op), content=big, headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and r.json()["error"]["type"] == "PayloadTooLarge"
    assert _snapshot(app.state) == before
    _still_serving(client)


def test_overflowing_and_unicode_odd_values_never_5xx(client, index):
    """Values that may be rejected (range checks) or kept (odd but valid strings): never a 5xx,
    and whatever was kept reads back."""
    odd_strings = ["\u202eevil\u202c", "\ufeff", "a\u0000b", "\U0001f600" * 300, "\u0301" * 100, "x" * 70_000]
    for op in _writes(index):
        scalar = _scalar_field(op)
        if op.request_schema is None or scalar is None:
            continue
        name, kind = scalar
        values = [1e30, 2**70, -(2**70), 1e308, 1.5e-320] if kind in ("integer", "number") else odd_strings[:3] if kind == "string" else [2**64]
        for value in values:
            r = client.request(op.method, _path(op), content=dumps({"data": {name: value}}), headers={"Content-Type": "application/json"})
            _assert_clio_error(r, (op.operation_id, name, value))
    for op in [o for o in index.operations if o.method == "GET"]:
        r = client.get(_path(op), params={"fields": "id"}, follow_redirects=False)
        _assert_clio_error(r, op.operation_id)
    _still_serving(client)


def test_junk_reads_never_5xx(client, index):
    reads = [op for op in index.operations if op.method == "GET"]
    sample = reads[::6]  # a sixth of the reads get every query; every read gets odd ids
    for op in sample:
        for query in JUNK_QUERIES:
            r = client.get(_path(op), params=query, follow_redirects=False)
            _assert_clio_error(r, (op.operation_id, query))
    for n, op in enumerate(reads):
        for value in (ODD_IDS if n % 10 == 0 else SOME_IDS) if op.path_params else []:
            r = client.get(_path(op, value), follow_redirects=False)
            _assert_clio_error(r, (op.operation_id, value))
    _still_serving(client)


def test_unicode_digit_path_id_is_404(client):
    r = client.get("/api/v4/contacts/%C2%B2.json")
    assert r.status_code == 404 and r.json()["error"]["type"] == "RecordNotFound"


@pytest.mark.parametrize("body", [DEEP_JSON, DEEP_LIST])
def test_deep_json_is_400_in_clio_shape(client, body):
    r = client.post("/api/v4/contacts.json", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["type"] == "InvalidParameter"


def test_deep_form_is_400_in_clio_shape(client):
    r = client.post("/api/v4/contacts.json", content=DEEP_FORM, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and "deeper" in r.json()["error"]["message"]


def _still_serving(client):
    assert client.get("/api/v4/users/who_am_i.json").status_code == 200
    assert len(client.get("/api/v4/matters.json", params={"limit": 5}).json()["data"]) == 5
    made = client.post("/api/v4/contacts.json", json={"data": {"type": "Company", "name": "Still Fine LLP"}})
    assert made.status_code == 201
    assert client.delete(f"/api/v4/contacts/{made.json()['data']['id']}.json").status_code == 204


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out


def test_live_server_survives_control_characters_in_paths(tmp_path):
    """Through uvicorn and h11: a CR/LF in a download name and in a logged path."""
    port = free_port()
    log = tmp_path / "server.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "mockserver.cli", "serve", "--spec", str(SPEC_PATH), "--port", str(port),
                                 "--log-level", "info"], stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert wait_for_health(f"http://127.0.0.1:{port}", 120)
        for path in (b"/__mock__/files/1/Doc%0D%0ASet-Cookie:%20x=1/1", b"/__mock__/files/1/Doc/1%0D%0AX-Evil:%201%00"):
            answer = _raw(port, b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            head = answer.split(b"\r\n\r\n", 1)[0]
            assert head.startswith(b"HTTP/1.1 200"), answer[:300]
            assert b"\r\nSet-Cookie" not in head and b"\r\nX-Evil" not in head
        forged = b"/api/v4/matters.json%0D%0A2026-01-01%2000:00:00%20INFO%20clio_mock.access%20GET%20/forged%20200"
        _raw(port, b"GET " + forged + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        time.sleep(0.3)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    lines = log.read_text(errors="replace").splitlines()
    assert not any(line.startswith("2026-01-01") for line in lines)
    assert any("\\x0d\\x0a2026-01-01 00:00:00 INFO" in line for line in lines)
