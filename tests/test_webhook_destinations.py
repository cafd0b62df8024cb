"""Webhook SSRF: private, loopback, link-local, multicast and reserved destinations are refused,
at creation and again at delivery (after resolving, on the address connected to), unless
webhook_allow_host names them. No test sends a packet anywhere but 127.0.0.1: resolvers and
the HTTP client are replaced."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.clio.destinations import DestinationPolicy, RefusedDestination, Unresolved
from mockserver.config import Settings

FORBIDDEN = ["169.254.169.254", "10.0.0.1", "172.16.5.4", "192.168.1.1", "127.0.0.1", "127.1.2.3", "0.0.0.0", "100.64.0.1",
             "224.0.0.1", "240.0.0.1", "255.255.255.255", "::1", "fe80::1", "fc00::1", "ff02::1", "::", "::ffff:169.254.169.254", "::ffff:10.0.0.1"]


def _resolver(*addresses):
    return lambda host, port: list(addresses)


@pytest.mark.parametrize("address", FORBIDDEN)
def test_private_addresses_are_refused(address):
    policy = DestinationPolicy(resolve=_resolver(address))
    with pytest.raises(RefusedDestination):
        policy.vet("https://hooks.example/x")  # by name, after resolution
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(RefusedDestination):
        policy.vet(f"https://{host}/x")  # as a literal


def test_any_private_answer_refuses_the_name():
    with pytest.raises(RefusedDestination, match="link-local"):
        DestinationPolicy(resolve=_resolver("93.184.216.34", "169.254.169.254")).vet("https://hooks.example/x")


def test_public_https_is_pinned_to_the_vetted_address():
    target = DestinationPolicy(resolve=_resolver("93.184.216.34")).vet("https://hooks.example:8443/x?y=1")
    assert target.pinned_url() == "https://93.184.216.34:8443/x?y=1" and target.host_header() == "hooks.example:8443"


def test_allow_list_by_name_and_cidr_also_allows_http():
    policy = DestinationPolicy(allow=["app", "10.20.0.0/16"], resolve=_resolver("172.18.0.5"))
    assert policy.vet("http://app:3000/hooks").address == "172.18.0.5"
    assert policy.vet("http://10.20.3.4/hooks").address == "10.20.3.4"
    with pytest.raises(RefusedDestination):
        policy.vet("http://db:5432/")  # another private name
    with pytest.raises(RefusedDestination):
        policy.vet("http://10.21.0.1/")


def test_allow_http_loopback_is_loopback_only():
    policy = DestinationPolicy(allow_http_loopback=True, resolve=_resolver("10.0.0.1"))
    assert policy.vet("http://127.0.0.1:9/x").address == "127.0.0.1"
    assert policy.vet("https://127.0.0.1:9/x").address == "127.0.0.1"
    for url in ("http://10.0.0.1/x", "https://internal.example/x", "http://public.example/x"):
        with pytest.raises(RefusedDestination):
            policy.vet(url)


def test_odd_urls_are_refused():
    policy = DestinationPolicy(resolve=_resolver("93.184.216.34"))
    for url in ("https://user@hooks.example/x", "https://hooks.example\\@10.0.0.1/", "ftp://hooks.example/", "https:///x", "http://hooks.example/x", "https://hooks.example:99999/"):
        with pytest.raises(RefusedDestination):
            policy.vet(url)
    with pytest.raises(Unresolved):
        DestinationPolicy(resolve=_resolver()).vet("https://nowhere.example/")


class _RecordingHttp:
    """Stands in for httpx.Client: records what would be sent, sends nothing."""

    def __init__(self):
        self.calls = []

    def post(self, url, **kwargs):
        self.calls.append((url, kwargs))
        return SimpleNamespace(status_code=200, headers={})


@pytest.fixture
def mock(index):
    app = create_app(Settings(seed=1, rate_limit=0), index=index)
    service = app.state.webhooks
    service._http = _RecordingHttp()
    with TestClient(app, base_url="http://127.0.0.1:8000", headers={"Authorization": "Bearer dev"}) as client:
        yield service, client


def _create(client, url):
    return client.post("/api/v4/webhooks.json", json={"data": {"url": url, "model": "contact", "fields": "id,name", "events": ["created"]}})


@pytest.mark.parametrize("url", ["https://169.254.169.254/latest/meta-data", "https://10.0.0.1/x", "https://[::1]/x", "https://localhost/x"])
def test_creating_a_webhook_to_a_private_address_is_422(mock, url):
    service, client = mock
    r = _create(client, url)
    assert r.status_code == 422 and "url" in r.json()["error"]["message"]
    assert service.wait_idle() and service._http.calls == []


def test_delivery_time_check_refuses_a_rebound_name_without_connecting(mock):
    service, client = mock
    # DNS rebinding: public at creation, the metadata address when the handshake resolves it
    answers = iter([["93.184.216.34"], ["169.254.169.254"], ["169.254.169.254"]])
    service.policy.resolve = lambda host, port: next(answers)
    created = _create(client, "https://hooks.example/x")
    assert created.status_code == 201
    assert service.wait_idle()
    assert service._http.calls == []  # refused before any connection
    history = list(service.history)
    assert history and history[-1]["outcome"] == "pending" and "link-local" in history[-1]["error"]


def test_deliveries_connect_to_the_vetted_address(mock):
    service, client = mock
    service.policy.resolve = lambda host, port: ["93.184.216.34"]
    assert _create(client, "https://hooks.example/x").status_code == 201
    assert service.wait_idle()
    url, kwargs = service._http.calls[0]
    assert url == "https://93.184.216.34:443/x"
    assert kwargs["headers"]["Host"] == "hooks.example" and kwargs["extensions"] == {"sni_hostname": "hooks.example"}
