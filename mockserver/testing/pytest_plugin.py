"""pytest fixtures for testing a Clio integration against clio-mock.

Installed with the package (entry point ``pytest11``). The spec is indexed once per session;
one live mock per session listens on a free loopback port and is reset before each test.

    def test_sync(clio_mock, clio_auth_headers, clio_records):
        matter = clio_records.matter(time_entries=3)
        r = httpx.get(f"{clio_mock.api_url}/matters/{matter['id']}.json", headers=clio_auth_headers)
        assert r.status_code == 200

Where the spec comes from: ``--clio-mock-spec``, the ini option ``clio_mock_spec``, the
environment (``CLIO_MOCK_SPEC``), or Clio's published document in the user cache.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mockserver.app import ClioMock, create_app
from mockserver.config import Settings
from mockserver.engine.examples import ExampleBuilder
from mockserver.engine.store import STAMP, Account, Record
from mockserver.spec.index import SpecIndex
from mockserver.state import MockState
from mockserver.testing.controls import MockControls

if TYPE_CHECKING:
    from mockserver.testing.intercept import Interceptor


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("clio-mock")
    group.addoption("--clio-mock-spec", default=None, help="Clio OpenAPI document (path or URL) for the clio-mock fixtures")
    group.addoption("--clio-mock-seed", type=int, default=None, help="seed for the mock's generated firm (default 42)")
    group.addoption("--clio-mock-scenario", default=None, help="scenario file loaded into a firm before every test")
    parser.addini("clio_mock_spec", "Clio OpenAPI document for the clio-mock fixtures (relative to the rootdir)")
    parser.addini("clio_mock_seed", "seed for the mock's generated firm")
    parser.addini("clio_mock_scenario", "scenario file loaded into a firm before every test")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clio_scenario(name_or_path): load a shipped scenario (\"solo-practice\") or a scenario "
                            "file into a new firm before the test; the clio_scenario_firm fixture hands back that firm and a token")
    config.addinivalue_line("markers", "clio_intercept(**options): route Clio's hosts to an in-process mock during the test "
                            "(options: regions, other_hosts, allow, and settings such as seed or records)")


# --------------------------------------------------------------------------- helpers


@dataclass
class Firm:
    """A firm (account) with an access token of one of its users."""

    account: Account
    user_id: int | None
    access_token: str
    records: "RecordFactory"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    @property
    def id(self) -> int:
        return self.account.id

    @property
    def name(self) -> str:
        return self.account.name

    def ref(self, name: str) -> Record:
        """The record a scenario declared with ``ref: name`` (``firm.ref("acme")["id"]``)."""
        from mockserver.data.scenarios import refs

        found = refs(self.account).get(name)
        if found is None:
            raise KeyError(f"no record with ref {name!r} in firm {self.account.name!r} (refs: {', '.join(sorted(refs(self.account))) or 'none'})")
        model, record_id = found
        return self.account.table(model).get(record_id)


class RecordFactory:
    """Creates records of one firm through the same store and writer the API uses.

    Values may be records made earlier (``client=contact``): they become ``{"id": ...}``.
    Required fields the caller leaves out get valid example values.
    """

    def __init__(self, state: MockState, account: Account) -> None:
        self.state = state
        self.account = account
        self.examples = ExampleBuilder(state.index)

    def create(self, model: str, **data: Any) -> Record:
        """A new ``model`` record (``"Matter"``, ``"Contact"``...) with these attributes."""
        op = next((o for o in self.state.index.operations if o.model == model and o.action == "create"), None)
        defaults = (self.examples.body(op, self.account) or {}).get("data", {}) if op else {}
        values = {**defaults, **{k: _as_ref(v) for k, v in data.items()}}
        users = self.account.table("User").ids
        with self.state.store.write():  # as the firm's first user, as its dev token acts
            record = self.state.engine.writer.create(self.account, self.state.index.models[model], values, actor=users[0] if users else None)
        self.state.store.notify("created", self.account.id, model, record)
        return record

    def contact(self, **data: Any) -> Record:
        """A person contact (name, email...) unless told otherwise."""
        first, last = data.pop("first_name", "Pat"), data.pop("last_name", f"Client{len(self.account.table('Contact')) + 1}")
        return self.create("Contact", **{"type": "Person", "name": f"{first} {last}", "first_name": first, "last_name": last, **data})

    def matter(self, client: Record | None = None, time_entries: int = 0, **data: Any) -> Record:
        """A matter for ``client`` (a new contact when None), with ``time_entries`` hour-long entries."""
        client = client or self.contact()
        matter = self.create("Matter", **{"description": "Matter created by a test", "status": "open", "client": client, **data})
        for _ in range(time_entries):
            self.time_entry(matter)
        return matter

    def time_entry(self, matter: Record, seconds: int = 3600, **data: Any) -> Record:
        """A TimeEntry activity on ``matter`` by the firm's first user."""
        values = {"type": "TimeEntry", "quantity": seconds, "matter": matter, "note": "Work on matter", **data}
        return self.create("Activity", **values)  # user, date, hours and total come from Clio's rules


def _as_ref(value: Any) -> Any:
    if isinstance(value, dict) and "id" in value and ("etag" in value or STAMP in value):
        return {"id": value["id"]}
    return value


@dataclass
class MockServer(MockControls):
    """A live clio-mock on a loopback port, with the handles tests need."""

    url: str
    app: ClioMock
    _uvicorn: Any = field(repr=False, default=None)
    _thread: threading.Thread | None = field(repr=False, default=None)
    scenario_firm: Firm | None = None  # the firm this test's clio_scenario marker loaded

    @property
    def api_url(self) -> str:
        """Base URL of the API: ``http://127.0.0.1:PORT/api/v4``."""
        return f"{self.url}/api/v4"

    @property
    def state(self) -> MockState:
        return self.app.state

    def intercept(self, **options: Any) -> "Interceptor":
        """Route Clio's hosts to this mock in-process (``with clio_mock.intercept(): ...``): code
        that calls ``https://app.clio.com/api/v4`` reaches this mock's state, without a socket.
        ``options`` as :func:`mockserver.intercept` takes them (``regions``, ``other_hosts``...)."""
        from mockserver.testing.intercept import Interceptor

        return Interceptor(app=self.app, **options)


@dataclass
class Delivery:
    """One request the receiver got: headers (lower-case), the raw body and its JSON."""

    path: str
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        import json

        return json.loads(self.raw)


class WebhookReceiver:
    """A threaded HTTP server on loopback collecting POSTs (see ``clio_webhook_receiver``)."""

    def __init__(self) -> None:
        import http.server

        receiver = self
        self.deliveries: list[Delivery] = []
        self.handshakes: list[Delivery] = []
        self.status = 200
        self.echo_secret = True
        self.delay = 0.0  # seconds to hold each delivery before answering (a slow receiver)
        self.arrived = threading.Condition()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                got = Delivery(self.path, {k.lower(): v for k, v in self.headers.items()}, raw)
                secret = self.headers.get("X-Hook-Secret")
                if not secret and receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(200 if secret else receiver.status)
                if secret and receiver.echo_secret:
                    self.send_header("X-Hook-Secret", secret)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with receiver.arrived:
                    (receiver.handshakes if secret else receiver.deliveries).append(got)
                    receiver.arrived.notify_all()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int = 1, timeout: float = 5.0, handshakes: bool = False) -> list[Delivery]:
        """Block until ``count`` deliveries (or handshakes) arrived; returns them all."""
        seen = self.handshakes if handshakes else self.deliveries
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(seen) >= count, timeout):
                raise AssertionError(f"expected {count} {'handshakes' if handshakes else 'deliveries'}, got {len(seen)}")
        return list(seen)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def firm_of(state: MockState, account: Account) -> Firm:
    """A :class:`Firm` handle on ``account``: its first user's new access token and a record factory."""
    users = account.table("User").ids
    user_id = users[0] if users else None
    token = state.oauth.issue_token(account.id, user_id)["access_token"]
    return Firm(account, user_id, token, RecordFactory(state, account))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(app: ClioMock) -> MockServer:
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name="clio-mock", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("clio-mock did not start")
        time.sleep(0.01)
    return MockServer(f"http://127.0.0.1:{port}", app, server, thread)


def _option(config: pytest.Config, name: str) -> str | None:
    value = config.getoption(f"--clio-mock-{name}") or config.getini(f"clio_mock_{name}")
    if name == "spec" and value and not str(value).startswith(("http://", "https://")):
        path = Path(str(value))
        value = str(path if path.is_absolute() else Path(config.rootpath) / path)
    return str(value) if value else None


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def clio_mock_settings(pytestconfig: pytest.Config) -> Settings:
    """The settings every clio-mock fixture uses (spec and seed from options, ini or env)."""
    seed = _option(pytestconfig, "seed")
    # Receivers in tests are local and impatient: allow http to loopback, retry in milliseconds.
    return Settings(spec=_option(pytestconfig, "spec"), seed=int(seed) if seed else 42, webhook_allow_http=True, webhook_time_scale=0.001)


SPEC_HELP = ("point the clio-mock fixtures at Clio's OpenAPI document with --clio-mock-spec PATH, "
             "the ini option clio_mock_spec (pytest.ini / pyproject.toml), or the CLIO_MOCK_SPEC environment variable")


@pytest.fixture(scope="session")
def clio_mock_index(clio_mock_settings: Settings) -> SpecIndex:
    """Clio's spec, loaded and indexed once per session."""
    import os

    from mockserver.spec.index import SpecError
    from mockserver.spec.source import load_index, resolve_location

    configured = clio_mock_settings.spec or os.environ.get("CLIO_MOCK_SPEC")
    try:
        return load_index(resolve_location(clio_mock_settings.spec, progress=lambda m: None))
    except SpecError as exc:  # one message saying where the spec goes, not a traceback through the downloader
        what = f"the spec {configured!r} cannot be used" if configured else "no spec is configured and Clio's published one could not be downloaded"
        message = f"clio-mock: {what} ({exc}); {SPEC_HELP}"
    pytest.fail(message, pytrace=False)  # outside the except: no "during handling" chain


@pytest.fixture(scope="session")
def clio_mock_server(clio_mock_settings: Settings, clio_mock_index: SpecIndex) -> Iterator[MockServer]:
    """One live clio-mock for the session on a free loopback port (use ``clio_mock`` in tests)."""
    server = _start(create_app(clio_mock_settings, index=clio_mock_index))
    yield server
    server._uvicorn.should_exit = True
    server._thread.join(timeout=10)


@pytest.fixture
def clio_mock(clio_mock_server: MockServer, request: pytest.FixtureRequest) -> MockServer:
    """The session's live mock, reset for this test: ``.url``, ``.api_url``, ``.requests()``,
    ``.fault()``, ``.advance()``, ``.token()``, ``.state``. A ``clio_scenario(name_or_path)``
    marker (or ``--clio-mock-scenario``) loads a scenario into a new firm first: a shipped one
    by name (``"solo-practice"``) or a file relative to the rootdir; ``clio_scenario_firm``
    (or ``.scenario_firm``) is that firm with a token."""
    clio_mock_server.reset()
    clio_mock_server.scenario_firm = None
    marker = request.node.get_closest_marker("clio_scenario")
    scenario = marker.args[0] if marker else _option(request.config, "scenario")
    if scenario:
        from mockserver.data.scenarios import load_scenario_file

        path = Path(scenario)
        if not path.is_absolute() and (Path(request.config.rootpath) / path).exists():
            path = Path(request.config.rootpath) / path
        account = load_scenario_file(clio_mock_server.state, str(path))
        clio_mock_server.scenario_firm = firm_of(clio_mock_server.state, account)
    return clio_mock_server


@pytest.fixture
def clio_scenario_firm(clio_mock: MockServer) -> Firm:
    """The firm the test's ``clio_scenario`` marker loaded, as a :class:`Firm`: ``.id``,
    ``.name``, ``.access_token``, ``.headers``, ``.records`` (factories) and ``.ref(name)``
    (the record a scenario declared with ``ref: name``)."""
    if clio_mock.scenario_firm is None:
        pytest.fail("clio_scenario_firm needs @pytest.mark.clio_scenario(\"solo-practice\") (or a path) on the test", pytrace=False)
    return clio_mock.scenario_firm


@pytest.fixture
def clio_mock_app(clio_mock_settings: Settings, clio_mock_index: SpecIndex) -> ClioMock:
    """A fresh in-process ASGI app (no network), for ``httpx.ASGITransport`` or Starlette's TestClient."""
    return create_app(clio_mock_settings, index=clio_mock_index)


@pytest.fixture
def clio_intercept(clio_mock_settings: Settings, clio_mock_index: SpecIndex, request: pytest.FixtureRequest) -> Iterator["Interceptor"]:
    """Clio's hosts routed to a fresh in-process mock for this test (no socket): code that calls
    ``https://app.clio.com/api/v4`` with httpx or requests reaches it unchanged. The options of a
    ``clio_intercept(...)`` marker apply (``regions``, ``other_hosts``, ``allow``, settings such as
    ``seed``). Yields the :class:`~mockserver.testing.intercept.Interceptor` (``.requests()``,
    ``.fault()``, ``.token()``, ``.state``...)."""
    from mockserver.testing.intercept import Interceptor

    marker = request.node.get_closest_marker("clio_intercept")
    options = dict(marker.kwargs) if marker else {}
    routing = {k: options.pop(k) for k in ("regions", "other_hosts", "allow") if k in options}
    settings = replace(clio_mock_settings, **options) if options else clio_mock_settings
    index = clio_mock_index if settings.spec == clio_mock_settings.spec else None
    with Interceptor(app=create_app(settings, index=index), **routing) as interceptor:
        yield interceptor


@pytest.fixture(autouse=True)
def _clio_intercept_marker(request: pytest.FixtureRequest) -> None:
    """A test marked ``clio_intercept`` is intercepted without asking for the fixture."""
    if request.node.get_closest_marker("clio_intercept") is not None:
        request.getfixturevalue("clio_intercept")


@pytest.fixture
def clio_access_token(clio_mock: MockServer) -> str:
    """An OAuth access token of the default firm's first user (read-write everywhere)."""
    return clio_mock.token()["access_token"]


@pytest.fixture
def clio_auth_headers(clio_access_token: str) -> dict[str, str]:
    """``{"Authorization": "Bearer <token>"}`` for the default firm."""
    return {"Authorization": f"Bearer {clio_access_token}"}


@pytest.fixture
def clio_records(clio_mock: MockServer) -> RecordFactory:
    """Record factories for the default firm: ``.create(model, **attrs)``, ``.contact()``,
    ``.matter(client=None, time_entries=0)``, ``.time_entry(matter)``."""
    account = clio_mock.state.store.accounts[next(iter(clio_mock.state.store.accounts))]
    return RecordFactory(clio_mock.state, account)


@pytest.fixture
def clio_webhook_receiver() -> Iterator["WebhookReceiver"]:
    """A local HTTP endpoint that collects webhook deliveries: ``.url``, ``.deliveries``,
    ``.wait_for(n)``; it completes Clio's handshake by echoing ``X-Hook-Secret`` (turn off
    with ``.echo_secret = False``) and answers deliveries with ``.status`` (200)."""
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def clio_firm(clio_mock: MockServer):
    """A factory of firms: ``clio_firm(name="Other LLP", records={"Matter": 3})`` (``counts=`` is
    the old name of ``records``) returns a
    :class:`Firm` with its own seeded records, a user token and a record factory."""

    def make(name: str = "Test Firm LLP", seed: int | None = None, counts: dict[str, int] | None = None, scale: float = 0.25,
             records: dict[str, int] | None = None) -> Firm:
        from mockserver.data.seeding import SeedPlan

        counts = records if records is not None else counts

        state = clio_mock.state
        with state.store.write():
            account = state.store.add_account(name)
            state.seeder.seed(account, SeedPlan(seed if seed is not None else state.settings.seed, scale, dict(counts or {})))
        return firm_of(state, account)

    return make
