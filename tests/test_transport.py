"""In-process transports: httpx sync and async, and requests, answered by the ASGI app with no socket."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import requests

from mockserver.testing.transport import AsyncMockTransport, MockAdapter, MockTransport

BASE = "https://app.clio.com"
AUTH = {"Authorization": "Bearer dev"}
CONTACT = {"data": {"type": "Person", "name": "Ada Lovelace", "first_name": "Ada", "last_name": "Lovelace"}}


async def chunked_app(scope, receive, send):
    """A tiny ASGI app: two Set-Cookie headers and a body in three chunks, echoing the request."""
    body = (await receive())["body"]
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"set-cookie", b"a=1; Path=/"), (b"set-cookie", b"b=2; Path=/"), (b"content-type", b"text/plain")]})
    for part in (b"one,", b"two,", scope["method"].encode() + b":" + body):
        await send({"type": "http.response.body", "body": part, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def failing_app(scope, receive, send):
    raise ValueError("broken app")


def test_sync_httpx_client_reads_and_writes(app):
    with httpx.Client(transport=MockTransport(app), base_url=BASE, headers=AUTH) as client:
        created = client.post("/api/v4/contacts.json", params={"fields": "id,name"}, json=CONTACT)
        assert created.status_code == 201
        read = client.get(f"/api/v4/contacts/{created.json()['data']['id']}.json", params={"fields": "name"})
    assert read.json()["data"]["name"] == "Ada Lovelace"


def test_links_follow_the_clients_scheme_and_host(app):
    with httpx.Client(transport=MockTransport(app), base_url="https://eu.app.clio.com", headers=AUTH) as client:
        page = client.get("/api/v4/matters.json", params={"limit": 2}).json()
    assert page["meta"]["paging"]["next"].startswith("https://eu.app.clio.com/api/v4/matters.json?")


def test_sync_client_follows_the_download_redirect(app):
    with httpx.Client(transport=MockTransport(app), base_url=BASE, headers=AUTH, follow_redirects=True) as client:
        response = client.get("/api/v4/documents/1/download.json")
    assert [r.status_code for r in response.history] == [303]
    assert response.url.path.startswith("/__mock__/files/") and response.content.startswith(b"clio-mock file content")


def test_sync_body_is_streamed_chunk_by_chunk():
    with httpx.Client(transport=MockTransport(chunked_app), base_url=BASE) as client:
        with client.stream("POST", "/x", content=b"hello") as response:
            chunks = list(response.iter_raw())
    assert chunks == [b"one,", b"two,", b"POST:hello"]


def test_head_has_no_body(app):
    with httpx.Client(transport=MockTransport(app), base_url=BASE, headers=AUTH) as client:
        response = client.head("/api/v4/users/who_am_i.json")
    assert response.status_code == 200 and response.content == b""


def test_sync_client_works_inside_a_running_event_loop(app):
    """A sync client called from async code: the app runs on the transport's own loop, no deadlock."""
    async def main() -> int:
        with httpx.Client(transport=MockTransport(app), base_url=BASE, headers=AUTH) as client:
            return client.get("/api/v4/users/who_am_i.json").status_code

    assert asyncio.run(main()) == 200


def test_an_app_error_reaches_the_client():
    with httpx.Client(transport=MockTransport(failing_app), base_url=BASE) as client:
        with pytest.raises(ValueError, match="broken app"):
            client.get("/")


def test_async_httpx_client(app):
    async def main():
        async with httpx.AsyncClient(transport=AsyncMockTransport(app), base_url=BASE, headers=AUTH) as client:
            created = await client.post("/api/v4/contacts.json", params={"fields": "id,name"}, json=CONTACT)
            async with client.stream("GET", "/api/v4/matters.json", params={"limit": 3}) as response:
                raw = b"".join([c async for c in response.aiter_raw()])
            return created, raw

    created, raw = asyncio.run(main())
    assert created.status_code == 201 and created.json()["data"]["name"] == "Ada Lovelace"
    assert b'"records":3' in raw


def test_async_body_is_streamed():
    async def main():
        async with httpx.AsyncClient(transport=AsyncMockTransport(chunked_app), base_url=BASE) as client:
            async with client.stream("PUT", "/x", content=b"x") as response:
                return [c async for c in response.aiter_raw()]

    assert asyncio.run(main()) == [b"one,", b"two,", b"PUT:x"]


def test_requests_adapter_json_form_and_redirect(app):
    session = requests.Session()
    session.mount(BASE, MockAdapter(app))
    created = session.post(f"{BASE}/api/v4/contacts.json?fields=id,name", json=CONTACT, headers=AUTH)
    assert created.status_code == 201 and created.json()["data"]["name"] == "Ada Lovelace"
    downloaded = session.get(f"{BASE}/api/v4/documents/1/download.json", headers=AUTH)
    assert [r.status_code for r in downloaded.history] == [303]
    assert downloaded.content.startswith(b"clio-mock file content") and downloaded.headers["content-type"] == "application/octet-stream"
    token = session.post(f"{BASE}/oauth/token", data={"grant_type": "password"})  # a form body
    assert token.status_code in (400, 401) and "error" in token.json()


def test_requests_adapter_streams_and_keeps_every_cookie():
    session = requests.Session()
    session.mount(BASE, MockAdapter(chunked_app))
    response = session.post(f"{BASE}/x", data=b"hi", stream=True)
    assert response.raw.read(2) == b"on"  # read as the client asks, not all at once
    assert b"".join(response.iter_content(chunk_size=3)) == b"e,two,POST:hi"
    assert session.cookies.get("a") == "1" and session.cookies.get("b") == "2"


def test_clio_mock_app_with_sync_clients(clio_mock_app):
    """The plugin's in-process app, used by a sync httpx client and by requests."""
    with httpx.Client(transport=MockTransport(clio_mock_app), base_url=BASE, headers=AUTH) as client:
        assert client.get("/api/v4/users/who_am_i.json").status_code == 200
    session = requests.Session()
    session.mount(BASE, MockAdapter(clio_mock_app))
    assert session.get(f"{BASE}/api/v4/users/who_am_i.json", headers=AUTH).status_code == 200


def test_each_thread_gets_its_own_loop_closed_when_the_thread_ends(app):
    import threading

    from mockserver.testing import transport

    loops = []

    def call() -> None:
        with httpx.Client(transport=MockTransport(app), base_url=BASE, headers=AUTH) as client:
            assert client.get("/api/v4/users/who_am_i.json").status_code == 200
        loops.append(transport._THREAD_LOOP.get())

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loops) == 2 and loops[0] is not loops[1]
    assert all(loop.is_closed() for loop in loops)


def test_requests_adapter_takes_bytes_header_values(app):
    session = requests.Session()
    session.mount(BASE, MockAdapter(app))
    assert session.get(f"{BASE}/api/v4/users/who_am_i.json", headers={"Authorization": b"Bearer dev"}).status_code == 200
