"""`clio-mock spec fetch` and a bare `clio-mock serve` download the published spec into the
cache; here a loopback HTTP server stands in for Clio's documentation site."""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading

import httpx
import pytest
from conftest import free_port, wait_for_health


@pytest.fixture
def spec_site(spec_path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(spec_path.parent))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{spec_path.name}"
    server.shutdown()


def _env(tmp_path, url):
    env = dict(os.environ, CLIO_MOCK_CACHE_DIR=str(tmp_path), CLIO_MOCK_SPEC_URL=url)
    env.pop("CLIO_MOCK_SPEC", None)
    return env


def test_spec_fetch_downloads_into_cache(tmp_path, spec_site, spec_path):
    run = subprocess.run([sys.executable, "-m", "mockserver.cli", "spec", "fetch"], env=_env(tmp_path, spec_site), capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "openapi-v4.json").read_bytes() == spec_path.read_bytes()
    assert "downloading" in run.stderr


def test_fetch_of_a_missing_document_is_one_line_exit_2(tmp_path, spec_site):
    run = subprocess.run([sys.executable, "-m", "mockserver.cli", "spec", "fetch"], env=_env(tmp_path, spec_site + ".missing"), capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "HTTP 404" in run.stderr
    assert not (tmp_path / "openapi-v4.json").exists()


def test_bare_serve_fetches_first_then_serves(tmp_path, spec_site):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "mockserver.cli", "serve", "--port", str(port), "--log-level", "warning"],
                            env=_env(tmp_path, spec_site), stderr=subprocess.PIPE)
    try:
        assert wait_for_health(f"http://127.0.0.1:{port}")
        assert (tmp_path / "openapi-v4.json").exists()
        r = httpx.get(f"http://127.0.0.1:{port}/api/v4/users/who_am_i.json", headers={"Authorization": "Bearer dev"}, timeout=5)
        assert r.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert b"downloading" in proc.stderr.read()
