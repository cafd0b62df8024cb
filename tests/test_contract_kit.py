"""The contract-test kit (contract_tests/): safety, rate limits, budget, checks, allowances,
reports, drift, the CLI and the pytest entry; plus a live mock process standing in for a
sandbox account. The full mock-target run is `pytest contract_tests/ --target mock` (CI)."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest
from conftest import AUTH, SPEC_PATH, free_port, wait_for_health
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.clio.oauth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from mockserver.config import Settings
from mockserver.contract.checks import judge
from mockserver.contract.client import (
    BudgetExhausted,
    Credentials,
    KitClient,
    Limits,
    RateLimitGaveUp,
    ReadOnlyViolation,
    resolve_target,
)
from mockserver.contract.drift import diff_targets
from mockserver.contract.kit import Kit, KitConfig, encode_body, rails_pairs
from mockserver.contract.report import FAILED, PASSED, SKIPPED
from mockserver.contract.specprep import evaluate, load_document, load_schema, prepare

ROOT = Path(__file__).resolve().parents[1]
API = "https://sandbox.example/api/v4"


@pytest.fixture(scope="session")
def document(spec_path):
    return load_document(str(spec_path))


@pytest.fixture(scope="session")
def prepared(document, index):
    return prepare(document, index)


def _kit(index, document, **options) -> Kit:
    options.setdefault("spec", str(SPEC_PATH))
    return Kit(KitConfig(**options), index=index, document=document)


class FakeClock:
    """Injected ``sleep``/``now``: records every wait and moves time on instead of sleeping."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.t = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


def _client(handler, **kw) -> tuple[KitClient, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return handler(request)

    http = httpx.Client(transport=httpx.MockTransport(record))
    kw.setdefault("credentials", Credentials(access_token="tok"))
    return KitClient(http, API, **kw), sent


def _ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"data": []})


# ---------------------------------------------------------------------- targets and credentials


def test_targets_and_credentials_from_the_environment():
    assert resolve_target("mock") == ("mock", False)
    assert resolve_target("clio") == ("https://app.clio.com/api/v4", True)
    assert resolve_target("clio-eu") == ("https://eu.app.clio.com/api/v4", True)
    assert resolve_target("clio-ca")[0] == "https://ca.app.clio.com/api/v4"
    assert resolve_target("clio-au")[0] == "https://au.app.clio.com/api/v4"
    assert resolve_target("http://127.0.0.1:9/api/v4/") == ("http://127.0.0.1:9/api/v4", True)
    with pytest.raises(ValueError):
        resolve_target("app.clio.com")
    creds = Credentials.from_env({"CLIO_CLIENT_ID": "a", "CLIO_CLIENT_SECRET": "b", "CLIO_REFRESH_TOKEN": "r"})
    assert creds.can_refresh and creds.access_token is None
    assert Credentials.from_env({"CLIO_ACCESS_TOKEN": "t"}).access_token == "t"


def test_a_live_target_without_credentials_is_refused(index, document, monkeypatch):
    for name in ("CLIO_ACCESS_TOKEN", "CLIO_CLIENT_ID", "CLIO_CLIENT_SECRET", "CLIO_REFRESH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    from mockserver.contract.client import AuthFailed

    with pytest.raises(AuthFailed):
        _kit(index, document, target="http://127.0.0.1:9").open()


# ---------------------------------------------------------------------- safety


def test_live_targets_are_read_only_by_default():
    client, sent = _client(_ok)
    client.request("GET", "/contacts.json")
    for method in ("POST", "PATCH", "PUT", "DELETE"):
        with pytest.raises(ReadOnlyViolation):
            client.request(method, "/contacts/1.json")
    assert [r.method for r in sent] == ["GET"]


def test_writes_touch_only_records_the_kit_created():
    client, sent = _client(_ok, allow_writes=True)
    client.creatable = {"/contacts"}
    client.request("POST", "/contacts.json")
    with pytest.raises(ReadOnlyViolation):
        client.request("POST", "/documents/5/copy.json")  # not a collection the kit creates in
    with pytest.raises(ReadOnlyViolation):
        client.request("PATCH", "/contacts/1.json")  # a record someone else owns
    client.own("/contacts/77.json")
    client.request("PATCH", "/contacts/77.json")
    client.request("DELETE", f"{API}/contacts/77")
    with pytest.raises(ReadOnlyViolation):
        client.request("DELETE", "/contacts/770.json")
    assert [(r.method, r.url.path) for r in sent] == [("POST", "/api/v4/contacts.json"), ("PATCH", "/api/v4/contacts/77.json"), ("DELETE", "/api/v4/contacts/77")]


def test_the_token_never_leaves_the_target():
    client, sent = _client(_ok)
    with pytest.raises(ReadOnlyViolation):
        client.request("GET", "https://elsewhere.example/api/v4/contacts.json")
    assert not sent
    client.request("GET", f"{API}/contacts.json?page_token=x")
    assert sent[0].headers["authorization"] == "Bearer tok"


def test_budget_caps_requests_but_keeps_room_to_clean_up():
    client, sent = _client(_ok, allow_writes=True, limits=Limits(budget=4))
    client.creatable = {"/contacts"}
    client.request("POST", "/contacts.json")
    client.own("/contacts/9.json")  # reserves one request for its delete
    client.request("GET", "/a.json")
    with pytest.raises(BudgetExhausted):
        client.request("POST", "/contacts.json")  # no room left for a create and its delete
    client.request("GET", "/b.json")
    with pytest.raises(BudgetExhausted):
        client.request("GET", "/c.json")
    client.request("DELETE", "/contacts/9.json", cleanup=True)
    assert len(sent) == 4 and client.sent == 4 and client.remaining == 0


# ---------------------------------------------------------------------- rate limits


def test_429_waits_retry_after_then_retries():
    clock = FakeClock()
    answers = [httpx.Response(429, headers={"Retry-After": "17"}, json={"error": {"type": "RateLimited", "message": "slow down"}}), httpx.Response(200, json={"data": []})]
    client, sent = _client(lambda r: answers.pop(0), sleep=clock.sleep, now=clock.now)
    assert client.request("GET", "/contacts.json").status_code == 200
    assert clock.sleeps == [17.0] and len(sent) == 2 and client.rate_limited == 1


def test_an_exhausted_window_pauses_until_reset():
    clock = FakeClock()
    reset = int(clock.t) + 42
    client, _ = _client(lambda r: httpx.Response(200, headers={"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}, json={}), sleep=clock.sleep, now=clock.now)
    client.request("GET", "/a.json")
    assert clock.sleeps == []
    client.request("GET", "/b.json")
    assert clock.sleeps == [42.0]


def test_waits_are_capped_and_retries_bounded():
    clock = FakeClock()
    client, sent = _client(lambda r: httpx.Response(429, headers={"Retry-After": "600"}), sleep=clock.sleep, now=clock.now, limits=Limits(max_wait=5, max_retries=2))
    with pytest.raises(RateLimitGaveUp):
        client.request("GET", "/a.json")
    assert clock.sleeps == [5, 5] and len(sent) == 3


def test_the_kit_really_waits_and_then_passes(index, document):
    """The in-process mock with 3 requests per 1-second window: real waits, no 429 failures."""
    kit = _kit(index, document, operations=r"^Contact#show$", phases=("examples", "clio"), mock_settings=Settings(spec=str(SPEC_PATH), rate_limit=3, rate_window=1))
    result = kit.run()
    assert result.failed == 0, result.failure_text()
    assert result.counts("operations")[PASSED] == 3 and kit.client.sent >= 9
    assert kit.client.waits and all(0 < w <= 1 for w in kit.client.waits)


# ---------------------------------------------------------------------- OAuth refresh


def test_an_expired_token_is_refreshed_on_401(index):
    app = create_app(Settings(spec=str(SPEC_PATH), rate_limit=0, auto_approve=True), index=index)
    with TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False) as http:
        redirect = "http://127.0.0.1:9999/cb"
        r = http.get("/oauth/authorize", params={"client_id": DEFAULT_CLIENT_ID, "response_type": "code", "redirect_uri": redirect, "state": "s"})
        code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
        tokens = http.post("/oauth/token", data={"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET, "grant_type": "authorization_code", "code": code, "redirect_uri": redirect}).json()
        creds = Credentials(access_token="expired-token", client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET, refresh_token=tokens["refresh_token"])
        client = KitClient(http, "http://127.0.0.1:8000/api/v4", creds)
        assert client.request("GET", "/users/who_am_i.json").status_code == 200
        assert client.refreshes == 1 and client.oauth_requests == 1 and creds.access_token not in ("expired-token", tokens["access_token"])
        assert client.counts["GET"] == 2  # the 401, then the retry


# ---------------------------------------------------------------------- the amended spec


def test_links_are_added_and_schemathesis_sees_them(prepared, index):
    assert prepared.link_count > 100
    contact = prepared.links["Contact#create"]
    assert contact["show"] == {"operationId": "Contact#show", "parameters": {"path.id": "$response.body#/data/id"}, "description": "kit-added: show the record"}
    assert set(contact) == {"show", "update", "destroy"}
    assert prepared.links["Contact#destroy"]["show"]["parameters"] == {"path.id": "$request.path.id"}
    assert prepared.links["Timer#create"]["show"]["parameters"] == {}  # a singleton
    schema = load_schema(prepared)
    assert schema.statistic.transitions.total == prepared.link_count
    raw = prepared.document["paths"]["/contacts/{id}.json"]["get"]["parameters"]
    assert not [p for p in raw if p["in"] == "header"] and prepared.removed_headers > 200


def test_the_spec_file_is_not_changed(document, spec_path):
    assert "links" not in orjson.dumps(orjson.loads(spec_path.read_bytes())["paths"]["/contacts.json"]["post"]["responses"]["201"]).decode()


def test_link_expressions():
    assert evaluate("$response.body#/data/id", {}, {"data": {"id": 7}}) == 7
    assert evaluate("$request.path.id", {"id": 9}, None) == 9
    assert evaluate("$response.body#/data/items/1", {}, {"data": {"items": [1, 2]}}) == 2


def test_form_bodies_use_rails_brackets():
    assert rails_pairs({"data": {"name": "A", "client": {"id": 3}, "tags": ["x", "y"], "ok": True}}) == [
        ("data[name]", "A"), ("data[client][id]", "3"), ("data[tags][]", "x"), ("data[tags][]", "y"), ("data[ok]", "true")]
    assert rails_pairs({"data": {}}) is None  # not expressible: sent as JSON instead

    class Case:
        body, media_type = {"data": {"name": "A"}}, "application/x-www-form-urlencoded"

    assert encode_body(Case) == (b"data%5Bname%5D=A", "application/x-www-form-urlencoded")


# ---------------------------------------------------------------------- checks and allowances


@pytest.fixture(scope="session")
def schema(prepared):
    return load_schema(prepared)


def _response(status: int, body, url="http://127.0.0.1:8000/api/v4/matters/1.json", ctype="application/json; charset=utf-8") -> httpx.Response:
    return httpx.Response(status, content=orjson.dumps(body), headers={"content-type": ctype}, request=httpx.Request("GET", url))


def _op(index, operation_id):
    return next(o for o in index.operations if o.operation_id == operation_id)


def test_allowances_are_applied_and_counted(schema, index):
    op = _op(index, "Matter#show")
    case = schema["/matters/{id}.json"]["GET"].Case(path_parameters={"id": 1})
    plain = judge(case, _response(200, {"data": {"id": 1, "status": "Open"}}), op)
    assert plain.ok and not plain.allowances
    nulls = judge(case, _response(200, {"data": {"id": 1, "description": None}}), op)
    assert nulls.ok and nulls.allowances == {"null-values": 1}
    cased = judge(case, _response(200, {"data": {"id": 1, "status": "open"}}), op)
    assert cased.ok and cased.allowances == {"enum-casing": 1}
    wrong = judge(case, _response(200, {"data": {"id": "one", "status": "Shut"}}), op)
    assert not wrong.ok and {p.check for p in wrong.problems} == {"response_schema_conformance"}
    oauth = judge(case, _response(401, {"error": "invalid_token", "error_description": "expired"}), op)
    assert oauth.ok and oauth.allowances == {"oauth-401-body": 1}
    listed = judge(schema["/matters.json"]["GET"].Case(), _response(200, {"data": [], "meta": {"paging": {}}}, url="http://127.0.0.1:8000/api/v4/matters.json"), _op(index, "Matter#index"))
    assert listed.ok and listed.allowances == {"list-meta": 1}
    ids = judge(schema["/billable_matters/ids.json"]["GET"].Case(), _response(200, {"data": [1, 2]}), _op(index, "BillableMatter#ids"))
    assert ids.ok and ids.allowances == {"billable-matter-ids": 1}


def test_declared_statuses_pass_and_the_rest_fail(schema, index):
    op = _op(index, "Matter#show")
    case = schema["/matters/{id}.json"]["GET"].Case(path_parameters={"id": 1})
    assert judge(case, _response(400, {"error": {"type": "InvalidFields", "message": "x is not a valid field"}}), op).ok
    undeclared = judge(case, _response(418, {"error": {"type": "Teapot", "message": "no"}}), op)
    assert [p.check for p in undeclared.problems] == ["status_code_conformance"]
    bad_error = judge(case, _response(404, {"message": "missing"}), op)
    assert "error-envelope" in {p.check for p in bad_error.problems}
    assert [p.check for p in judge(case, _response(500, {"error": {"type": "Boom", "message": "x"}}), op).problems][:1] == ["not_a_server_error"]
    assert judge(case, _response(200, {"data": {"id": 1}}, ctype="text/html"), op).problems[0].check == "content_type_conformance"
    negative = judge(case, _response(418, {"error": {"type": "Teapot", "message": "no"}}), op, negative=True)
    assert negative.ok  # negative runs only ask: no 5xx, errors in Clio's shape


# ---------------------------------------------------------------------- runs against the in-process mock


def test_a_mock_run_passes_every_phase_with_reports(index, document, tmp_path):
    md, xml = tmp_path / "report.md", tmp_path / "junit.xml"
    kit = _kit(index, document, operations=r"^(Contact|Matter|Activity|Timer)#", max_examples=2, report_md=str(md), junit_xml=str(xml))
    result = kit.run()
    assert result.failed == 0, result.failure_text()
    assert result.counts("operations")[PASSED] >= 18 and result.counts("stateful")[PASSED] == 4 and result.counts("negative")[PASSED] >= 15
    stateful = result.suite("stateful")["Contact"].checks[0].detail
    assert stateful.startswith("create 201, show 200, update 200, show 200, stale update 412, show If-None-Match 304, destroy 204, show 404"), stateful
    checks = {c.name: c for c in result.suite("operations")["Matter#index"].checks}
    assert set(checks) == {"example", "generated", "fields", "paging"} and "next followed until absent" in checks["paging"].detail
    assert {c.name for c in result.suite("operations")["Matter#show"].checks} == {"example", "generated", "fields", "conditional", "not-found"}
    assert {"list-meta", "null-values", "oauth-401-body"} <= set(result.allowances())
    assert result.cleanup["failed"] == 0 and result.cleanup["deleted"] > 0 and not kit.client.owned
    text = md.read_text()
    assert "| operations |" in text and "## Allowances used" in text and "`null-values`" in text and "## Failures\n\nNone." in text
    root = ET.parse(xml).getroot()
    suites = {s.get("name"): s for s in root}
    assert set(suites) == {"contract.operations", "contract.stateful", "contract.negative"}
    assert suites["contract.operations"].get("failures") == "0" and len(suites["contract.stateful"].findall("testcase")) == 4


class Breaking(httpx.BaseTransport):
    """Serves the in-process mock, but spoils some answers (a mock with bugs)."""

    def __init__(self, app, spoil) -> None:
        self.client = TestClient(app, base_url="http://127.0.0.1:8000")
        self.spoil = spoil

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.client.send(request)
        response.read()
        return self.spoil(request, response) or httpx.Response(response.status_code, headers=response.headers, content=response.content, request=request)


def _spoil_contact_show(request, response):
    if request.method == "GET" and request.url.path.startswith("/api/v4/contacts/") and response.status_code == 200:
        body = response.json()
        body["data"]["id"] = str(body["data"].get("id"))
        content = orjson.dumps(body)
        headers = {**response.headers, "content-length": str(len(content))}
        return httpx.Response(200, headers=headers, content=content, request=request)
    return None


def test_failures_report_request_response_and_reason(index, document, tmp_path):
    app = create_app(Settings(spec=str(SPEC_PATH), rate_limit=0), index=index)
    http = httpx.Client(transport=Breaking(app, _spoil_contact_show), base_url="http://127.0.0.1:8000")
    md, xml = tmp_path / "r.md", tmp_path / "j.xml"
    result = _kit(index, document, operations=r"^Contact#show$", phases=("examples",), http=http, report_md=str(md), junit_xml=str(xml)).run()
    assert result.counts("operations")[FAILED] == 1
    text = md.read_text()
    assert "### [operations] `Contact#show` GET /contacts/{id}.json: response_schema_conformance" in text
    assert "GET http://127.0.0.1:8000/api/v4/contacts/" in text and "HTTP 200" in text and "is not of type \"integer\"" in text
    assert "authorization: [redacted]" in text.lower()
    failure = ET.parse(xml).getroot().find(".//testcase/failure")
    assert failure is not None and failure.get("type") == "response_schema_conformance" and "Request: GET" in failure.text


def test_negative_run_finds_no_server_errors(index, document):
    result = _kit(index, document, operations=r"^(Contact|Matter|Note)#", phases=("negative",), max_examples=4).run()
    assert result.failed == 0, result.failure_text()
    statuses = " ".join(r.checks[0].detail for r in result.suite("negative").values())
    assert "400" in statuses or "422" in statuses


# ---------------------------------------------------------------------- drift


def test_drift_between_two_targets(index, document, spec_path):
    same = diff_targets(KitConfig(spec=str(spec_path)), KitConfig(spec=str(spec_path)), operations=r"^(Contact|Matter)#(index|show)$")
    assert len(same.operations) == 4 and not same.differing

    def drifted(request, response):
        if request.url.path == "/api/v4/contacts.json" and response.status_code == 200:
            body = response.json()
            for record in body["data"]:
                record.pop("title", None)
                record["id"] = str(record["id"])
                record["kit_extra"] = 1
            return httpx.Response(200, headers={"content-type": "application/json"}, content=orjson.dumps(body), request=request)
        if request.url.path.startswith("/api/v4/matters/"):
            return httpx.Response(403, json={"error": {"type": "ForbiddenError", "message": "no"}}, request=request)
        return None

    app = create_app(Settings(spec=str(spec_path), rate_limit=0), index=index)
    http = httpx.Client(transport=Breaking(app, drifted), base_url="http://127.0.0.1:8000")
    report = diff_targets(KitConfig(spec=str(spec_path)), KitConfig(spec=str(spec_path), http=http), operations=r"^(Contact|Matter)#(index|show)$")
    by_op = {d.operation: d for d in report.differing}
    assert set(by_op) == {"Contact#index", "Matter#show"}
    contacts = by_op["Contact#index"]
    assert contacts.only_a == ["title"] and contacts.only_b == ["kit_extra"] and contacts.types == {"id": (["integer"], ["string"])}
    assert by_op["Matter#show"].status == (200, 403)
    text = report.to_text()
    assert "fields only in A: title" in text and "type of id: A integer | B string" in text and "status: A 200 | B 403" in text


# ---------------------------------------------------------------------- a mock process standing in for a sandbox


def _serve(spec_path, *extra):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver.cli", "serve", "--spec", str(spec_path), "--port", str(port), "--log-level", "warning", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    if not wait_for_health(url):
        proc.kill()
        pytest.fail(f"server did not start: {proc.stderr.read1().decode() if proc.stderr else ''}")
    return proc, url


def _stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


class Traffic:
    """An httpx client that records what the kit sends, and what 429s ask for."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self.retry_after: list[float] = []
        self.http = httpx.Client(timeout=30, event_hooks={"response": [self.seen]})

    def seen(self, response: httpx.Response) -> None:
        self.requests.append((response.request.method, response.request.url.path))
        if response.status_code == 429:
            self.retry_after.append(float(response.headers["retry-after"]))


def test_sandbox_read_only_rate_limited_and_budgeted(spec_path, index, document):
    """A mock process with 5 requests a minute: the kit waits Retry-After instead of failing,
    sends nothing but GETs, and stops at its budget."""
    proc, url = _serve(spec_path, "--rate-limit", "5")
    try:
        clock, traffic = FakeClock(), Traffic()
        kit = _kit(index, document, target=url, credentials=Credentials(access_token="dev"), budget=12, max_retries=2,
                   operations=r"^(Contact|Matter)#", sleep=clock.sleep, http=traffic.http)
        result = kit.run()
    finally:
        _stop(proc)
    assert {m for m, _ in traffic.requests} == {"GET"} and kit.client.counts.keys() == {"GET"}
    assert len(traffic.requests) == kit.client.sent <= 12
    assert traffic.retry_after and all(0 < s <= 60 for s in traffic.retry_after)
    assert clock.sleeps[: len(traffic.retry_after)] == traffic.retry_after or set(traffic.retry_after) <= set(clock.sleeps)
    assert result.failed == 0, result.failure_text()
    reasons = " ".join(r.skip_reason for r in result.suite("operations").values())
    assert "read-only target" in reasons and "request budget spent" in reasons and "rate limited" in reasons
    assert result.suite("stateful")["Contact"].status == SKIPPED


def test_sandbox_writes_only_touch_what_the_kit_created(spec_path, index, document):
    proc, url = _serve(spec_path, "--rate-limit", "0")
    try:
        with httpx.Client(base_url=url, headers=AUTH) as c:
            before = c.get("/api/v4/contacts.json", params={"fields": "id,etag,name", "limit": 200}).json()["data"]
            traffic = Traffic()
            kit = _kit(index, document, target=url, credentials=Credentials(access_token="dev"), allow_writes=True, operations=r"^Contact#", max_examples=2, http=traffic.http)
            result = kit.run()
            after = c.get("/api/v4/contacts.json", params={"fields": "id,etag,name", "limit": 200}).json()["data"]
    finally:
        _stop(proc)
    assert result.failed == 0, result.failure_text()
    created = {str(r.id) for r in kit.discovery.created}
    writes = [(m, p) for m, p in traffic.requests if m in ("PATCH", "DELETE")]
    assert writes and all(p.removesuffix(".json").rsplit("/", 1)[-1] in created for _, p in writes)
    assert {m for m, _ in traffic.requests} == {"GET", "POST", "PATCH", "DELETE"}
    assert after == before  # seeded records untouched, the kit's own deleted again
    assert result.cleanup["failed"] == 0 and result.suite("stateful")["Contact"].status == PASSED


# ---------------------------------------------------------------------- entry points


def test_cli_run_and_diff(tmp_path, capsys, spec_path):
    from mockserver.cli import main

    md, xml = tmp_path / "r.md", tmp_path / "j.xml"
    rc = main(["contract", "--target", "mock", "--spec", str(spec_path), "--operations", "^Contact#show$", "-q", "--report-md", str(md), "--junit-xml", str(xml)])
    out = capsys.readouterr().out
    assert rc == 0 and "operations: 3 passed, 0 failed" in out and md.exists() and xml.exists()
    assert main(["contract", "diff", "mock", "mock", "--spec", str(spec_path), "--operations", "^Contact#show$"]) == 0
    assert "1 GET operations compared, 0 differ" in capsys.readouterr().out
    assert main(["contract", "--target", "ftp://nowhere", "--spec", str(spec_path)]) == 2


def test_pytest_entry_point(spec_path, tmp_path):
    md = tmp_path / "r.md"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "contract_tests/", "--target", "mock", "--spec", str(spec_path), "--operations", "^Contact#(create|show|destroy)$",
         "--max-examples", "2", "--report-md", str(md), "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "8 passed" in proc.stdout and "Clio contract kit" in proc.stdout and "allowance" in proc.stdout
    assert md.exists()
