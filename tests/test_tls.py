"""`clio-mock serve --tls`: HTTPS on Clio's own host names with a certificate from the local CA, so
clients reach ``https://app.clio.com/api/v4/...`` unchanged, with only the CA trusted through the
usual variables (issue 18)."""

from __future__ import annotations

import stat

import httpx
import pytest
import requests
from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError
from tls_support import (
    CLIO_HOSTS,
    clio_hosts_at,
    need_node,
    run_node,
    serve_tls,
    trusting,
)

from mockserver.cli import main
from mockserver.config import Settings
from mockserver.engine.errors import ClioError
from mockserver.serving.ca import LocalCA
from mockserver.serving.hosts import certificate_hosts
from mockserver.serving.runner import plan

AUTH = {"Authorization": "Bearer dev"}
WHO = "https://app.clio.com/api/v4/users/who_am_i.json"


@pytest.fixture(scope="module")
def live(spec_path, tmp_path_factory):
    with serve_tls("--spec", str(spec_path), "--tls", "--tls-host", "mock.internal", cache_dir=tmp_path_factory.mktemp("cache")) as server:
        yield server


@pytest.fixture
def trusted(live, monkeypatch):
    """Only the variables a user sets: the CA for requests and httpx; Clio's names resolve to the mock."""
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(live.ca))
    monkeypatch.setenv("SSL_CERT_FILE", str(live.ca))
    with clio_hosts_at(live.port):
        yield live


def _verify(ca: LocalCA, leaf: x509.Certificate, name: x509.GeneralName) -> None:
    store = Store([ca.certificate()])
    PolicyBuilder().store(store).build_server_verifier(name).verify(leaf, [])


def test_ca_is_created_once_per_cache_dir_with_a_private_key_only_its_owner_reads(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CLIO_MOCK_CACHE_DIR", str(tmp_path))
    assert main(["ca", "path"]) == 0
    path = capsys.readouterr().out.strip()
    ca = LocalCA()
    assert path == str(ca.cert_path) and ca.cert_path.parent == tmp_path / "tls"
    assert stat.S_IMODE(ca.key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(ca.directory.stat().st_mode) == 0o700
    first = ca.cert_path.read_bytes()
    assert main(["ca", "path"]) == 0 and capsys.readouterr().out.strip() == path
    assert ca.cert_path.read_bytes() == first  # reused, not replaced
    ca.key_path.chmod(0o644)
    ca.ensure()
    assert stat.S_IMODE(ca.key_path.stat().st_mode) == 0o600  # a key widened by hand is narrowed again
    assert x509.load_pem_x509_certificate(first).extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_leaf_certificate_covers_clio_hosts_loopback_and_tls_hosts(tmp_path, index):
    ca = LocalCA(tmp_path)
    files = ca.leaf(certificate_hosts(index, ["mock.internal"]))
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    leaf = x509.load_pem_x509_certificate(files.cert.read_bytes())
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {*CLIO_HOSTS, "localhost", "mock.internal"}
    assert {str(a) for a in san.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    for name in CLIO_HOSTS:
        _verify(ca, leaf, x509.DNSName(name))
    with pytest.raises(VerificationError):
        _verify(ca, leaf, x509.DNSName("example.com"))
    assert ca.leaf(certificate_hosts(index, ["mock.internal"])) == files  # cached while fresh


def test_requests_reaches_app_clio_com_unchanged(trusted):
    r = requests.get(WHO, headers=AUTH, timeout=10)
    assert r.status_code == 200 and r.json()["data"]["id"]
    page = requests.get("https://app.clio.com/api/v4/matters.json", params={"limit": 1, "fields": "id"}, headers=AUTH, timeout=10).json()
    nxt = page["meta"]["paging"]["next"]
    assert nxt.startswith("https://app.clio.com/api/v4/matters.json?")  # the client stays on Clio's host
    assert requests.get(nxt, headers=AUTH, timeout=10).json()["data"][0]["id"] != page["data"][0]["id"]


def test_httpx_reaches_every_region_unchanged(trusted):
    for host in CLIO_HOSTS:
        r = httpx.get(f"https://{host}/api/v4/users/who_am_i.json", headers=AUTH, timeout=10)
        assert r.status_code == 200, host
        page = httpx.get(f"https://{host}/api/v4/contacts.json", params={"limit": 1}, headers=AUTH, timeout=10).json()
        assert page["meta"]["paging"]["next"].startswith(f"https://{host}/api/v4/")


def test_an_untrusted_client_is_refused(live, monkeypatch):
    """Without the CA the certificate does not verify: the test above proves the CA variables work."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with clio_hosts_at(live.port), pytest.raises(requests.exceptions.SSLError):
        requests.get(WHO, headers=AUTH, timeout=10)


def test_download_redirects_upload_urls_and_oauth_pages_stay_on_https(trusted):
    with httpx.Client(base_url="https://app.clio.com", headers=AUTH, timeout=10) as c:
        doc = c.get("/api/v4/documents.json", params={"limit": 1}).json()["data"][0]
        r = c.get(f"/api/v4/documents/{doc['id']}/download.json")
        assert r.status_code == 303 and r.headers["location"].startswith("https://app.clio.com/__mock__/files/")
        assert c.get(r.headers["location"]).status_code == 200
        # Clio's upload flow: the put_url the mock hands out is on https://app.clio.com too, and works.
        matter = c.get("/api/v4/matters.json", params={"limit": 1}).json()["data"][0]
        created = c.post("/api/v4/documents.json", params={"fields": "id,latest_document_version{uuid,put_url,put_headers}"},
                         json={"data": {"name": "retainer.pdf", "parent": {"id": matter["id"], "type": "Matter"}}}).json()["data"]
        version = created["latest_document_version"]
        assert version["put_url"].startswith("https://app.clio.com/")
        headers = {h["name"]: h["value"] for h in version["put_headers"]}
        assert c.put(version["put_url"], content=b"%PDF-1.7 over TLS", headers=headers).status_code == 200
        from mockserver.clio.oauth import DEFAULT_CLIENT_ID

        # The out-of-band redirect is the approval page on the host the client used, https included.
        page = c.get("/oauth/authorize", params={"client_id": DEFAULT_CLIENT_ID, "response_type": "code",
                                                 "redirect_uri": "https://app.clio.com/oauth/approval"})
        assert page.status_code == 200 and 'id="allow"' in page.text
        other = c.get("/oauth/authorize", params={"client_id": DEFAULT_CLIENT_ID, "response_type": "code",
                                                  "redirect_uri": "http://app.clio.com/oauth/approval"})
        assert other.status_code == 400


def test_a_tls_host_name_is_served(live, monkeypatch):
    import socket

    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, *a, **k: real("127.0.0.1" if host == "mock.internal" else host, port, *a, **k))
    r = httpx.get(f"https://mock.internal:{live.port}/api/v4/users/who_am_i.json", headers=AUTH, verify=trusting(live.ca), timeout=10)
    assert r.status_code == 200


def test_node_https_request_and_fetch_reach_app_clio_com_unchanged(live):
    node = need_node()
    out = run_node(node, ["https", "fetch"], {"NODE_EXTRA_CA_CERTS": str(live.ca), "CLIO_MOCK_RESOLVE": f"127.0.0.1:{live.port}"},
                   preloads=("resolve-clio.cjs",))
    for client in ("https", "fetch"):
        assert out[client].get("status") == 200, out
        assert out[client]["next"].startswith("https://app.clio.com/api/v4/matters.json?") and out[client]["next_status"] == 200


def test_node_without_the_ca_is_refused(live):
    node = need_node()
    out = run_node(node, ["https"], {"CLIO_MOCK_RESOLVE": f"127.0.0.1:{live.port}"}, preloads=("resolve-clio.cjs",))
    assert "certificate" in out["https"]["error"].lower() or "issuer" in out["https"]["error"].lower(), out


def test_your_own_certificate(spec_path, tmp_path, monkeypatch):
    other = LocalCA(tmp_path / "corporate")
    files = other.leaf(["clio-mock.test", "127.0.0.1"])
    with serve_tls("--spec", str(spec_path), "--tls-cert", str(files.cert), "--tls-key", str(files.key), "--records", "Matter=3",
                   cache_dir=tmp_path / "cache", ca=other.cert_path) as server:
        r = httpx.get(f"{server.url}/api/v4/users/who_am_i.json", headers=AUTH, verify=trusting(other.cert_path), timeout=10)
        assert r.status_code == 200
        assert not (tmp_path / "cache" / "tls" / "clio-mock-ca-key.pem").exists()


def test_control_api_still_needs_the_admin_token_off_loopback(spec_path, tmp_path):
    # 127.0.0.2 is loopback to the kernel but not one of the mock's loopback names: it is treated as
    # a non-loopback bind (as 0.0.0.0 would be) without listening beyond this machine.
    with serve_tls("--spec", str(spec_path), "--tls", "--tls-host", "127.0.0.2", "--admin-token", "s3cret", "--records", "Matter=3",
                   host="127.0.0.2", proxy=True, cache_dir=tmp_path) as server:
        with httpx.Client(base_url=server.url, verify=trusting(server.ca), timeout=10, trust_env=False) as c:
            assert c.get("/__mock__/accounts").status_code == 401
            assert c.get("/__mock__/accounts", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        # the same app behind the proxy: the same rule
        with httpx.Client(base_url="https://app.clio.com", proxy=server.proxy, verify=trusting(server.ca), timeout=10, trust_env=False) as c:
            assert c.get("/__mock__/accounts").status_code == 401
            assert c.get("/__mock__/accounts", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_settings_that_cannot_work_together_fail_before_listening(index):
    with pytest.raises(ClioError, match="--tls-cert and --tls-key go together"):
        plan(Settings(tls_cert="cert.pem"), index, app=None)
    with pytest.raises(ClioError, match="open proxy"):
        plan(Settings(host="0.0.0.0", proxy_port=8080, proxy_pass_through=True), index, app=None)
    with pytest.raises(ClioError, match="--workers 1"):
        plan(Settings(proxy_port=8080, workers=2, data="x.sqlite"), index, app=None)
    with pytest.raises(ClioError, match="'bad name' is neither"):
        plan(Settings(tls=True, tls_host=["bad name"]), index, app=None)
    assert plan(Settings(), index, app=None).scheme == "http"  # neither flag: nothing added


def test_a_cache_dir_that_cannot_hold_the_ca_is_one_line(tmp_path, monkeypatch, capsys, index):
    (tmp_path / "file").write_text("not a directory")
    monkeypatch.setenv("CLIO_MOCK_CACHE_DIR", str(tmp_path / "file" / "cache"))
    assert main(["ca", "path"]) == 2
    assert "cannot create the local CA" in capsys.readouterr().err
    with pytest.raises(ClioError, match="cannot create the local CA"):
        plan(Settings(tls=True), index, app=None)
