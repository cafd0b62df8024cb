"""A stand-in for your integration's CI job, run by docker/compose.yaml's ``app`` service
(standard library only, so it runs on a bare python image).

It does what an integration does against Clio, against the mock service: reads with a token,
completes the OAuth authorization-code flow with a redirect to itself (``CALLBACK_URL``, e.g.
``http://app:3000/cb``), subscribes a webhook on its own host (``WEBHOOK_URL``, e.g.
``http://app:9000/hook``), answers the handshake, creates a matter and checks the signed
delivery. Exit 0 when all of it worked, 1 with the reason otherwise; so
``docker compose -f docker/compose.yaml up --exit-code-from app`` is a CI step.
tests/test_docker.py runs this same script against a local mock.
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

BASE = os.environ.get("CLIO_BASE_URL", "http://clio-mock:8000").rstrip("/")
TOKEN = os.environ.get("CLIO_ACCESS_TOKEN", "dev")
CLIENT_ID = os.environ.get("CLIO_CLIENT_ID", "clio-mock-app-key")
CLIENT_SECRET = os.environ.get("CLIO_CLIENT_SECRET", "clio-mock-app-secret")
CALLBACK_URL = os.environ.get("CALLBACK_URL", "http://app:3000/cb")
WEBHOOK_URL = os.environ.get("WEBHOOK_URL", "http://app:9000/hook")
LISTEN_PORT = int(os.environ.get("WEBHOOK_LISTEN_PORT") or urllib.parse.urlsplit(WEBHOOK_URL).port or 9000)
TIMEOUT = float(os.environ.get("TIMEOUT", "60"))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # the code arrives in the Location header
        return None


def call(method: str, path: str, token: str | None = TOKEN, body: dict | None = None, form: dict | None = None) -> tuple[int, dict, dict]:
    """One request; (status, headers, JSON body or {})."""
    data, headers = None, {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    if form is not None:
        data, headers["Content-Type"] = urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"
    request = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            raw, status, got = response.read(), response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        raw, status, got = exc.read(), exc.code, dict(exc.headers)
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        parsed = {}
    return status, {k.lower(): v for k, v in got.items()}, parsed


def wait_ready() -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            if call("GET", "/__mock__/ready", token=None)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"FAIL: {BASE} not ready after {TIMEOUT:.0f}s")


def check(ok: bool, what: str) -> None:
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        raise SystemExit(1)


class Receiver(http.server.BaseHTTPRequestHandler):
    deliveries: list[tuple[dict, bytes]] = []
    arrived = threading.Event()

    def do_POST(self) -> None:  # noqa: N802
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        secret = self.headers.get("X-Hook-Secret")
        self.send_response(200)
        if secret:  # Clio's handshake: echo the secret back
            self.send_header("X-Hook-Secret", secret)
        self.send_header("Content-Length", "0")
        self.end_headers()
        if not secret:
            Receiver.deliveries.append(({k.lower(): v for k, v in self.headers.items()}, raw))
            Receiver.arrived.set()

    def log_message(self, *args) -> None:
        pass


def main() -> int:
    wait_ready()
    status, _, me = call("GET", "/api/v4/users/who_am_i.json?fields=id,name")
    check(status == 200 and me.get("data", {}).get("id"), f"who_am_i with the access token -> {status}")

    query = urllib.parse.urlencode({"client_id": CLIENT_ID, "response_type": "code", "redirect_uri": CALLBACK_URL, "state": "ci"})
    status, headers, _ = call("GET", f"/oauth/authorize?{query}", token=None)
    location = headers.get("location", "")
    check(status in (302, 303) and location.startswith(CALLBACK_URL), f"authorize redirects to {CALLBACK_URL} -> {status} {location[:60]}")
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
    status, _, grant = call("POST", "/oauth/token", token=None, form={
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK_URL})
    check(status == 200 and grant.get("access_token"), f"code exchanged for a token -> {status}")
    token = grant["access_token"]

    server = http.server.ThreadingHTTPServer(("0.0.0.0", LISTEN_PORT), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    status, _, hook = call("POST", "/api/v4/webhooks.json?fields=id,shared_secret,status", token=token,
                           body={"data": {"url": WEBHOOK_URL, "model": "matter", "fields": "id,description", "events": ["created"]}})
    check(status == 201, f"webhook to {WEBHOOK_URL} accepted -> {status} {hook.get('error', '')}")
    secret = hook["data"].get("shared_secret")
    deadline, state = time.monotonic() + TIMEOUT, hook["data"].get("status")
    while state != "enabled" and time.monotonic() < deadline:  # the handshake runs in the background
        time.sleep(0.2)
        state = call("GET", f"/api/v4/webhooks/{hook['data']['id']}.json?fields=status", token=token)[2].get("data", {}).get("status")
    check(state == "enabled", f"webhook handshake completed -> {state}")
    _, _, contacts = call("GET", "/api/v4/contacts.json?fields=id&limit=1", token=token)
    client = contacts["data"][0]["id"]
    status, _, matter = call("POST", "/api/v4/matters.json?fields=id", token=token,
                             body={"data": {"description": "Created by the CI app", "client": {"id": client}}})
    check(status == 201, f"matter created -> {status}")
    check(Receiver.arrived.wait(TIMEOUT), "webhook delivery received")
    headers, raw = Receiver.deliveries[0]
    if secret:
        wanted = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        check(hmac.compare_digest(headers.get("x-hook-signature", ""), wanted), "delivery signature verifies")
    server.shutdown()
    print("ALL OK", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
