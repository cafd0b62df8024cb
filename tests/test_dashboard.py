"""The dashboard's routes without a browser: every panel renders, escapes what it shows, pages
long lists, cuts long bodies, carries a strict CSP, and is guarded like the control API.
(tests/test_dashboard_browser.py drives the same pages in Chromium.)"""

from __future__ import annotations

import html
import json
import re

import pytest
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.config import Settings
from mockserver.control.dashboard import PAGE_SIZE, Dashboard, journal_entry

UI = "/__mock__/ui"
PANELS = [UI, f"{UI}/firms/1", f"{UI}/firms/1/Matter", f"{UI}/journal", f"{UI}/webhooks", f"{UI}/faults", f"{UI}/oauth"]
NASTY = '<img src=x onerror="alert(1)">&<script>alert(2)</script>'


def _pre(page: str, element_id: str) -> str:
    """The text of ``<pre id=...>``, unescaped as the browser shows it."""
    match = re.search(rf'<pre id="{element_id}"[^>]*>(.*?)</pre>', page, re.S)
    assert match, f"no <pre id={element_id}>"
    return html.unescape(match.group(1))


def _entries(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<details class="entry" data-id="(\d+)"', page)]


# ---------------------------------------------------------------------------- pages


def test_root_links_to_the_dashboard_and_other_routes_stay(client):
    home = client.get("/")
    assert home.status_code == 200 and home.headers["content-type"].startswith("text/html")
    assert f'href="{UI}"' in home.text
    assert client.get("/__mock__/health").json()["status"] == "ok"
    assert client.get("/no/such/page").status_code == 404
    assert client.get(UI + "/", follow_redirects=False).headers["location"] == UI


@pytest.mark.parametrize("path", PANELS)
def test_every_panel_renders_with_a_strict_csp(client, path):
    page = client.get(path)
    assert page.status_code == 200, page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    # Nothing inline the CSP would block: scripts come from files, no style or on* attributes.
    assert not re.search(r"<script(?![^>]*\ssrc=)", page.text)
    assert not re.search(r"\s(style|on[a-z]+)=", page.text)
    assert f'<script src="{UI}/static/app.js"></script>' in page.text


def test_static_files_are_served_from_the_mock(client):
    js = client.get(f"{UI}/static/app.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"] and "fetch(" in js.text
    css = client.get(f"{UI}/static/app.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "@import" not in css.text and "url(http" not in css.text  # no external fonts or files


def test_unknown_firm_model_or_record_is_a_404_page(client):
    for path in (f"{UI}/firms/99", f"{UI}/firms/1/NoSuchModel", f"{UI}/firms/1/Matter/abc", f"{UI}/firms/1/Matter/999999999"):
        page = client.get(path)
        assert page.status_code == 404 and "Not found" in page.text, path


# ---------------------------------------------------------------------------- records


def test_record_page_is_the_api_answer_with_every_field_and_association(client, app):
    contact = client.post("/api/v4/contacts.json", json={"data": {"type": "Company", "name": "Acme Holdings"}}).json()["data"]
    matter = client.post("/api/v4/matters.json", json={"data": {"description": "Acme v. Roadrunner", "client": {"id": contact["id"]}}}).json()["data"]
    page = client.get(f"{UI}/firms/1/Matter/{matter['id']}")
    assert page.status_code == 200
    shown = json.loads(_pre(page.text, "record-json"))
    fields = Dashboard(app.state).record_fields("Matter")
    assert set(app.state.engine.serializer.all_fields("Matter").split(",")) == set(shown["data"])
    assert shown == client.get(f"/api/v4/matters/{matter['id']}.json", params={"fields": fields}).json()
    assert shown["data"]["client"]["name"] == "Acme Holdings"
    assert f'href="{UI}/firms/1/Contact/{contact["id"]}"' in page.text  # the association is a link


def test_what_records_hold_is_escaped(client):
    made = client.post("/api/v4/contacts.json", json={"data": {"type": "Company", "name": NASTY}}).json()["data"]
    for path in (f"{UI}/firms/1/Contact/{made['id']}", f"{UI}/firms/1/Contact?q=onerror", f"{UI}/journal"):
        page = client.get(path).text
        assert "<script>alert" not in page and "<img src=x" not in page, path
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page or "&lt;img src=x" in page, path
    assert NASTY in json.loads(_pre(client.get(f"{UI}/firms/1/Contact/{made['id']}").text, "record-json"))["data"]["name"]


def test_records_are_paged(index):
    app = create_app(Settings(seed=3, rate_limit=0, index_cache=False, records={"Matter": 2 * PAGE_SIZE + 7}), index=index)
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        total = len(app.state.store.accounts[1].tables["Matter"])
        first = c.get(f"{UI}/firms/1/Matter").text
        assert first.count(f'href="{UI}/firms/1/Matter/') == PAGE_SIZE
        assert f"{total:,} records; page 1 of {-(-total // PAGE_SIZE)}" in first and 'rel="next"' in first
        last_page = -(-total // PAGE_SIZE)
        last = c.get(f"{UI}/firms/1/Matter", params={"page": last_page}).text
        assert last.count(f'href="{UI}/firms/1/Matter/') == total - PAGE_SIZE * (last_page - 1)
        assert 'rel="next"' not in last and 'rel="prev"' in last
        assert c.get(f"{UI}/firms/1/Matter", params={"page": "nope"}).text.count(f'href="{UI}/firms/1/Matter/') == PAGE_SIZE
        ids = app.state.store.accounts[1].tables["Matter"].ids
        listed = re.findall(rf'href="{UI}/firms/1/Matter/(\d+)"', c.get(f"{UI}/firms/1/Matter", params={"page": 2}).text)
        assert [int(i) for i in listed] == ids[::-1][PAGE_SIZE:2 * PAGE_SIZE]  # newest first
        listed = re.findall(rf'href="{UI}/firms/1/Matter/(\d+)"', c.get(f"{UI}/firms/1/Matter", params={"page": 2, "order": "asc"}).text)
        assert [int(i) for i in listed] == ids[PAGE_SIZE:2 * PAGE_SIZE]


def test_search_finds_by_id_and_by_text(client):
    made = client.post("/api/v4/contacts.json", json={"data": {"type": "Company", "name": "Zyzzyva Quarries"}}).json()["data"]
    by_text = client.get(f"{UI}/firms/1/Contact", params={"q": "zyzzyva"}).text
    assert f'href="{UI}/firms/1/Contact/{made["id"]}"' in by_text and by_text.count(f'href="{UI}/firms/1/Contact/') == 1
    by_id = client.get(f"{UI}/firms/1/Contact", params={"q": str(made["id"])}).text
    assert f'href="{UI}/firms/1/Contact/{made["id"]}"' in by_id
    assert "No records match" in client.get(f"{UI}/firms/1/Contact", params={"q": "no-such-text-anywhere"}).text


# ---------------------------------------------------------------------------- journal


def test_journal_filters_by_path_and_status_newest_first(client):
    client.get("/api/v4/matters.json", params={"limit": 1})
    client.get("/api/v4/matters/999999999.json")
    client.post("/api/v4/contacts.json", json={"data": {"type": "Company", "name": "Journal Co"}})
    page = client.get(f"{UI}/journal").text
    ids = _entries(page)
    assert len(ids) == 3 and ids == sorted(ids, reverse=True)
    only_404 = client.get(f"{UI}/journal", params={"status": "404"}).text
    assert len(_entries(only_404)) == 1 and "/api/v4/matters/999999999.json" in only_404
    assert len(_entries(client.get(f"{UI}/journal", params={"status": "4xx"}).text)) == 1
    assert len(_entries(client.get(f"{UI}/journal", params={"path": "/api/v4/matters*"}).text)) == 2
    assert len(_entries(client.get(f"{UI}/journal", params={"path": "contacts", "method": "POST"}).text)) == 1
    assert "Journal Co" in page  # the request body


def test_journal_is_paged_and_live_rows_are_only_the_new_ones(client):
    for _ in range(PAGE_SIZE + 5):
        client.get("/api/v4/users/who_am_i.json")
    page = client.get(f"{UI}/journal").text
    ids = _entries(page)
    assert len(ids) == PAGE_SIZE
    older = re.search(r'href="\?([^"]*before=\d+)"', page)
    assert older, "an Older link"
    assert len(_entries(client.get(f"{UI}/journal?{html.unescape(older.group(1))}").text)) == 5
    newest = max(ids)
    assert client.get(f"{UI}/journal/rows", params={"since": newest}).text.strip() == ""
    client.get("/api/v4/matters/999999999.json")
    rows = client.get(f"{UI}/journal/rows", params={"since": newest, "status": "error"}).text
    assert _entries(rows) == [newest + 1] and "999999999" in rows


def test_long_bodies_are_cut(client):
    client.post("/api/v4/notes.json", json={"data": {"subject": "big", "detail": "x" * 200_000}})
    page = client.get(f"{UI}/journal").text
    assert "more characters not shown" in page
    assert len(page) < 100_000


def test_journal_entries_with_response_details_show_them():
    """Entries from the journal as the newcomer extends it (headers, response, duration, source)
    and as it was before: both render, missing keys are blanks."""
    old = journal_entry({"id": 1, "time": 0.0, "method": "GET", "path": "/api/v4/matters.json", "query": "", "body": None, "status": 200, "token_hint": "dev…"})
    assert old["response_body"] is None and old["request_headers"] == {} and old["status"] == 200 and old["source"] == "api"
    new = journal_entry({"id": 2, "time": 1.0, "method": "POST", "path": "/oauth/token", "query": "", "body": {"a": 1}, "status": 400,
                         "response_status": 400, "response_headers": {"content-type": "application/json"}, "response_body": {"error": "invalid_grant"},
                         "request_headers": {"authorization": "Bearer dev…"}, "duration_ms": 1.5, "source": "oauth", "token_hint": None})
    assert new["response_body"] == {"error": "invalid_grant"} and new["source"] == "oauth" and new["duration_ms"] == 1.5


def test_journal_page_shows_response_details_when_the_journal_has_them(client, app, monkeypatch):
    class Extended:  # a journal entry as the extended journal writes it
        id = 10_000

        def as_dict(self):
            return {"id": self.id, "time": 0.0, "method": "POST", "path": "/oauth/token", "query": "", "body": None, "status": 400,
                    "response_status": 400, "response_headers": {"x-extra": "yes"}, "response_body": {"error": "invalid_grant<b>"},
                    "request_headers": {"content-type": "application/x-www-form-urlencoded"}, "duration_ms": 2.25, "source": "oauth"}

    monkeypatch.setattr(app.state.journal, "find", lambda *args, **kwargs: [Extended()])
    page = client.get(f"{UI}/journal").text
    assert "invalid_grant&lt;b&gt;" in page and "x-extra" in page and "2.2 ms" in page and "oauth" in page


# ---------------------------------------------------------------------------- webhooks, faults, OAuth


def test_webhook_attempts_show_payload_and_signature_and_hide_the_secret(client, app):
    app.state.webhooks.history.append({"webhook_id": 5, "account_id": 1, "event": "created", "record_id": 7, "attempt": 1, "url": "https://example.test/hook",
                                       "at": "2026-01-01T00:00:00+00:00", "status_code": 200, "error": None, "outcome": "delivered",
                                       "retry_in_seconds": None, "signature": "ab" * 32, "payload": {"data": {"id": 7, "name": NASTY}}})
    page = client.get(f"{UI}/webhooks").text
    assert "ab" * 32 in page and "&lt;script&gt;alert(2)" in page and "<script>alert" not in page
    assert len(client.get(f"{UI}/webhooks", params={"webhook_id": "6"}).text.split('class="entry delivery"')) == 1


def test_faults_and_clock_panel_shows_the_state(client):
    client.post("/__mock__/faults", json={"kind": "status", "path": "/api/v4/activities*", "status": 503, "count": 2})
    client.post("/__mock__/clock", json={"at": "2030-01-02T03:04:05Z"})
    page = client.get(f"{UI}/faults").text
    assert "/api/v4/activities*" in page and "503" in page and "frozen" in page
    assert "2030-01-0" in page  # in the mock's own time zone


def test_oauth_panel_shows_hints_never_whole_tokens(client):
    issued = client.post("/__mock__/tokens", json={}).json()
    made = client.post("/__mock__/apps", json={"name": "Sync <b>app</b>", "redirect_uris": ["http://127.0.0.1:9/cb"]}).json()
    page = client.get(f"{UI}/oauth").text
    assert issued["access_token"] not in page and issued["refresh_token"] not in page and made["client_secret"] not in page
    assert made["client_id"] in page and "Sync &lt;b&gt;app&lt;/b&gt;" in page
    assert issued["access_token"][:4] in page


# ---------------------------------------------------------------------------- the guard


@pytest.fixture
def exposed(index):
    """A mock that believes it listens on every address: the admin token is required."""
    app = create_app(Settings(seed=1, rate_limit=0, host="0.0.0.0", admin_token="s3cret-token"), index=index)
    with TestClient(app, base_url="http://localhost:8000") as c:  # a name Host checks accept
        yield c


def test_off_loopback_the_pages_need_the_admin_token(exposed):
    for path in PANELS + [f"{UI}/journal/rows"]:
        page = exposed.get(path)
        assert page.status_code == 401 and 'name="token"' in page.text, path
        assert "Mock Law LLP" not in page.text
    assert exposed.get(UI, params={"token": "wrong"}).status_code == 401
    assert exposed.get(UI, headers={"Authorization": "Bearer s3cret-token"}).status_code == 200


def test_token_in_the_address_becomes_an_httponly_strict_cookie(exposed):
    signed = exposed.get(f"{UI}/journal", params={"token": "s3cret-token", "status": "404"}, follow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == f"{UI}/journal?status=404"
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/__mock__" in cookie
    assert "s3cret-token" not in cookie  # the cookie is derived from the token, not the token
    assert exposed.get(f"{UI}/journal").status_code == 200
    # The control API takes the cookie for JSON writes and DELETE (a foreign page needs a preflight
    # for both), not for a form-like write.
    assert exposed.post("/__mock__/faults", json={"kind": "latency", "latency_ms": 1}).status_code == 201
    assert exposed.post("/__mock__/reset", content=b"{}", headers={"Content-Type": "text/plain"}).status_code == 401
    assert exposed.delete("/__mock__/faults").status_code == 204
    exposed.post(f"{UI}/logout")
    assert exposed.get(f"{UI}/journal").status_code == 401


def test_login_form(exposed):
    assert exposed.post(f"{UI}/login", data={"token": "nope", "next": f"{UI}/oauth"}).status_code == 401
    signed = exposed.post(f"{UI}/login", data={"token": "s3cret-token", "next": f"{UI}/oauth"}, follow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == f"{UI}/oauth"
    assert exposed.get(f"{UI}/oauth").status_code == 200
    away = exposed.post(f"{UI}/login", data={"token": "s3cret-token", "next": "https://evil.test/"}, follow_redirects=False)
    assert away.headers["location"] == UI  # never an open redirect


def test_a_rebinding_host_or_a_foreign_origin_is_refused(client):
    assert client.get(UI, headers={"Host": "evil.example"}).status_code == 403  # DNS rebinding: the page may not read
    assert client.get(f"{UI}/journal", headers={"Origin": "https://evil.example"}).status_code == 403
    assert client.post(f"{UI}/login", data={"token": "x"}, headers={"Origin": "https://evil.example"}).status_code == 403
    assert client.get(UI, headers={"Origin": "http://127.0.0.1:8000"}).status_code == 200


def test_on_loopback_the_dashboard_is_open(client):
    with TestClient(client.app, base_url="http://127.0.0.1:8000") as anonymous:
        assert anonymous.get(UI).status_code == 200
        assert anonymous.post("/__mock__/faults", json={"kind": "latency"}).status_code == 201
