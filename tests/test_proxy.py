"""`clio-mock serve --proxy-port PORT`: a forward proxy (HTTPS_PROXY / HTTP_PROXY) that answers for
Clio's hosts with the mock, so clients in any language reach ``https://app.clio.com/api/v4/...``
unchanged with only environment variables set (issue 16, item 2). Other hosts: 403, never contacted."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import shutil
import socket
import ssl
import subprocess
import threading

import httpx
import orjson
import pytest
import requests
from tls_support import need_node, run_node, serve_tls, trusting

from mockserver.serving.ca import LocalCA
from mockserver.serving.hosts import certificate_hosts, served_hosts
from mockserver.serving.proxy import ForwardProxy
from mockserver.serving.runner import bind
from mockserver.serving.tls import server_context

AUTH = {"Authorization": "Bearer dev"}
WHO = "https://app.clio.com/api/v4/users/who_am_i.json"
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy")


@pytest.fixture(scope="module")
def live(spec_path, tmp_path_factory):
    """The mock on plain http, with the proxy beside it (the everyday set-up)."""
    with serve_tls("--spec", str(spec_path), cache_dir=tmp_path_factory.mktemp("cache"), proxy=True) as server:
        yield server


@pytest.fixture
def proxied(live, monkeypatch):
    """Only what a user sets: the proxy variables and the CA."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", live.proxy)
    monkeypatch.setenv("HTTP_PROXY", live.proxy)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(live.ca))
    monkeypatch.setenv("SSL_CERT_FILE", str(live.ca))
    return live


@contextlib.contextmanager
def in_process_proxy(app, index, tmp_path, pass_through: bool = False):
    """A ForwardProxy on its own event loop in a thread, in front of ``app``: (port, CA file)."""
    ca = LocalCA(tmp_path)
    proxy = ForwardProxy(app, served_hosts(index), server_context(ca.leaf(certificate_hosts(index))), pass_through=pass_through)
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(proxy.start(sock), loop).result(10)
    try:
        yield port, ca.cert_path
    finally:
        asyncio.run_coroutine_threadsafe(proxy.close(), loop).result(15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def exchange(port: int, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes to the proxy and read one response (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        return read_response(s)


def read_response(s: socket.socket | ssl.SSLSocket) -> tuple[int, dict[str, str], bytes]:
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {buf!r}")
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers.get("content-length", 0)):
        body += s.recv(65536)
    return int(lines[0].split()[1]), headers, body


@contextlib.contextmanager
def bystander():
    """A server on loopback the proxy must never connect to: yields (port, contacted())."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        s.setblocking(False)

        def contacted() -> bool:
            try:
                s.accept()[0].close()
                return True
            except BlockingIOError:
                return False

        yield s.getsockname()[1], contacted


# ---------------------------------------------------------------------- clients with env vars only

def test_requests_and_httpx_through_the_proxy(proxied):
    r = requests.get(WHO, headers=AUTH, timeout=10)
    assert r.status_code == 200 and r.json()["data"]["id"]
    page = requests.get("https://app.clio.com/api/v4/matters.json", params={"limit": 1}, headers=AUTH, timeout=10).json()
    assert page["meta"]["paging"]["next"].startswith("https://app.clio.com/api/v4/matters.json?")
    assert requests.get(page["meta"]["paging"]["next"], headers=AUTH, timeout=10).status_code == 200
    assert httpx.get("https://eu.app.clio.com/api/v4/users/who_am_i.json", headers=AUTH, timeout=10).status_code == 200
    plain = requests.get("http://au.app.clio.com/api/v4/contacts.json", params={"limit": 1}, headers=AUTH, timeout=10)
    assert plain.status_code == 200 and plain.json()["meta"]["paging"]["next"].startswith("http://au.app.clio.com/api/v4/")


def test_writes_through_the_proxy_reach_the_mock_that_serves_its_own_port(proxied):
    created = requests.post("https://app.clio.com/api/v4/contacts.json", json={"data": {"type": "Company", "name": "Proxy LLP"}},
                            headers=AUTH, timeout=10)
    assert created.status_code == 201
    direct = httpx.get(f"{proxied.url}/api/v4/contacts/{created.json()['data']['id']}.json", params={"fields": "name"},
                       headers=AUTH, trust_env=False, timeout=10)
    assert direct.json()["data"]["name"] == "Proxy LLP"


def test_curl_through_the_proxy(proxied):
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    env = {"PATH": "/usr/bin:/bin", "HTTPS_PROXY": proxied.proxy, "CURL_CA_BUNDLE": str(proxied.ca)}
    done = subprocess.run([curl, "-sS", "-H", "Authorization: Bearer dev", WHO], env=env, capture_output=True, text=True, check=False, timeout=30)
    assert done.returncode == 0, done.stderr
    assert orjson.loads(done.stdout)["data"]["id"]
    # curl reads only the lower-case http_proxy, for safety: the README says so.
    env = {"PATH": "/usr/bin:/bin", "http_proxy": proxied.proxy}
    done = subprocess.run([curl, "-sS", "-H", "Authorization: Bearer dev", "http://app.clio.com/api/v4/users/who_am_i.json"],
                          env=env, capture_output=True, text=True, check=False, timeout=30)
    assert done.returncode == 0 and orjson.loads(done.stdout)["data"]["id"], done.stderr


def test_node_axios_and_fetch_through_the_proxy(live):
    node = need_node("axios", "undici")
    env = {"HTTPS_PROXY": live.proxy, "NODE_EXTRA_CA_CERTS": str(live.ca)}
    # axios reads HTTPS_PROXY itself; Node 20's fetch needs undici's EnvHttpProxyAgent (preloaded).
    out = run_node(node, ["axios", "fetch"], env, preloads=("fetch-env-proxy.cjs",))
    for client in ("axios", "fetch"):
        assert out[client].get("status") == 200, out
        assert out[client]["next"].startswith("https://app.clio.com/api/v4/matters.json?") and out[client]["next_status"] == 200


def test_stdlib_client_keeps_one_tunnel_alive(live):
    conn = http.client.HTTPSConnection("127.0.0.1", live.proxy_port, context=trusting(live.ca), timeout=10)
    conn.set_tunnel("app.clio.com", 443)
    try:
        seen = set()
        for _ in range(3):
            conn.request("GET", "/api/v4/users/who_am_i.json", headers=AUTH)
            response = conn.getresponse()
            assert response.status == 200 and orjson.loads(response.read())["data"]["id"]
            seen.add(id(conn.sock))
        assert len(seen) == 1  # one connection, one TLS handshake, three requests
    finally:
        conn.close()


# ---------------------------------------------------------------------- refusals

def test_other_hosts_are_refused_with_403_and_never_contacted(app, index, tmp_path):
    with in_process_proxy(app, index, tmp_path) as (port, _), bystander() as (target, contacted):
        for request in (f"CONNECT 127.0.0.1:{target} HTTP/1.1\r\nHost: 127.0.0.1:{target}\r\n\r\n",
                        f"GET http://127.0.0.1:{target}/ HTTP/1.1\r\nHost: 127.0.0.1:{target}\r\n\r\n",
                        f"GET https://localhost:{target}/api/v4/users/who_am_i.json HTTP/1.1\r\nHost: localhost:{target}\r\n\r\n",
                        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"):
            status, _, body = exchange(port, request.encode())
            assert status == 403, request
            error = orjson.loads(body)["error"]
            assert error["type"] == "ProxyRefused" and "app.clio.com" in error["message"]
        assert not contacted()


def test_pass_through_still_refuses_private_addresses_and_other_ports(app, index, tmp_path):
    with in_process_proxy(app, index, tmp_path, pass_through=True) as (port, _), bystander() as (target, contacted):
        for authority in (f"127.0.0.1:{target}", "localhost:443", "10.0.0.1:443", "169.254.169.254:443", "example.com:25"):
            status, _, body = exchange(port, f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode())
            assert status == 403 and orjson.loads(body)["error"]["type"] == "ProxyRefused", authority
        assert not contacted()


def test_bad_requests_get_clio_errors_not_crashes(app, index, tmp_path):
    with in_process_proxy(app, index, tmp_path) as (port, _):
        assert exchange(port, b"CONNECT app.clio.com HTTP/1.1\r\nHost: x\r\n\r\n")[0] == 400
        assert exchange(port, b"NOT HTTP AT ALL\r\n\r\n")[0] == 400
        status, _, body = exchange(port, b"GET http://app.clio.com/ HTTP/1.1\r\nHost: app.clio.com\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n")
        assert status == 431 and orjson.loads(body)["error"]["type"] == "BadRequest"
        status, _, body = exchange(port, b"GET /api/v4/users/who_am_i.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert status == 400 and "forward proxy" in orjson.loads(body)["error"]["message"]
        big = orjson.dumps({"data": {"type": "Company", "name": "Big LLP", "description": "x" * 100_000}})
        status, _, _ = exchange(port, b"POST http://app.clio.com/api/v4/contacts.json HTTP/1.1\r\nHost: app.clio.com\r\nAuthorization: Bearer dev\r\n"
                                      b"Content-Type: application/json\r\nContent-Length: " + str(len(big)).encode() + b"\r\n\r\n" + big)
        assert status in (201, 422)  # a large body is the app's to judge, not a too-large head
        # and the proxy still serves afterwards
        status, _, body = exchange(port, b"GET http://app.clio.com/api/v4/users/who_am_i.json HTTP/1.1\r\nHost: app.clio.com\r\nAuthorization: Bearer dev\r\n\r\n")
        assert status == 200 and orjson.loads(body)["data"]["id"]


def test_inside_a_tunnel_bodies_head_and_keep_alive_work(app, index, tmp_path):
    with in_process_proxy(app, index, tmp_path) as (port, ca):
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        raw.sendall(b"CONNECT app.clio.com:443 HTTP/1.1\r\nHost: app.clio.com:443\r\n\r\n")
        assert raw.recv(4096).startswith(b"HTTP/1.1 200 Connection Established\r\n")
        with trusting(ca).wrap_socket(raw, server_hostname="app.clio.com") as tls:
            body = orjson.dumps({"data": {"type": "Company", "name": "Tunnel LLP"}})
            tls.sendall(b"POST /api/v4/contacts.json?fields=id,name HTTP/1.1\r\nHost: app.clio.com\r\nAuthorization: Bearer dev\r\n"
                        b"Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n")
            assert read_response(tls)[0] == 100
            tls.sendall(body)
            status, _, created = read_response(tls)
            assert status == 201 and orjson.loads(created)["data"]["name"] == "Tunnel LLP"
            tls.sendall(b"HEAD /api/v4/users/who_am_i.json HTTP/1.1\r\nHost: app.clio.com\r\nAuthorization: Bearer dev\r\n\r\n")
            tls.settimeout(10)
            head = b""
            while b"\r\n\r\n" not in head:
                head += tls.recv(4096)
            assert head.startswith(b"HTTP/1.1 200") and head.endswith(b"\r\n\r\n")  # no body after a HEAD
            tls.sendall(b"GET /api/v4/matters.json?limit=1 HTTP/1.1\r\nHost: app.clio.com\r\nAuthorization: Bearer dev\r\n\r\n")
            status, _, page = read_response(tls)
            assert status == 200 and orjson.loads(page)["meta"]["paging"]["next"].startswith("https://app.clio.com/api/v4/")
