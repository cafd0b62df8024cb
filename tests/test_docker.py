"""The Dockerfile cannot be built here (no daemon), so check what can be: every COPY source
exists, the install step is the README's, and the CMD (with the image's environment) starts a
working mock. docker/compose.yaml is valid YAML naming that Dockerfile."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml
from conftest import free_port, wait_for_health
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[1]


def _dockerfile() -> DockerfileParser:
    parser = DockerfileParser(path=str(ROOT / "docker" / "Dockerfile"))
    return parser


def test_copy_sources_exist():
    copies = [i["value"].split() for i in _dockerfile().structure if i["instruction"] == "COPY"]
    assert copies
    for parts in copies:
        for source in parts[:-1]:
            assert (ROOT / source).exists(), source


def test_install_is_the_readme_install_and_user_is_not_root():
    parser = _dockerfile()
    runs = [i["value"] for i in parser.structure if i["instruction"] == "RUN"]
    assert any("pip install --no-cache-dir -e ." in r for r in runs)
    assert "pip install -e ." in (ROOT / "README.md").read_text()
    users = [i["value"] for i in parser.structure if i["instruction"] == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any(i["instruction"] == "HEALTHCHECK" for i in parser.structure)
    assert parser.baseimage.startswith("python:3.11-slim")


def test_cmd_starts_a_working_mock(spec_path, tmp_path):
    parser = _dockerfile()
    cmd = json.loads(parser.cmd) if parser.cmd.strip().startswith("[") else shlex.split(parser.cmd)
    assert cmd[:2] == ["clio-mock", "serve"]
    env = {**os.environ, **{k: v for k, v in parser.envs.items() if k.startswith("CLIO_MOCK_")}}
    port = free_port()
    # Where the image has volumes, use local stand-ins; listen on loopback instead of 0.0.0.0.
    env.update(CLIO_MOCK_SPEC=str(spec_path), CLIO_MOCK_DATA=str(tmp_path / "clio-mock.sqlite"),
               CLIO_MOCK_CACHE_DIR=str(tmp_path / "cache"), CLIO_MOCK_PORT=str(port), CLIO_MOCK_HOST="127.0.0.1")
    proc = subprocess.Popen([sys.executable, "-m", "mockserver.cli", *cmd[1:]], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        assert wait_for_health(url)
        assert httpx.get(f"{url}/__mock__/ready").json()["store"] == "sqlite"
        assert httpx.get(f"{url}/api/v4/users/who_am_i.json", headers={"Authorization": "Bearer dev"}).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_compose_runs_the_mock_and_an_app():
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    mock = compose["services"]["clio-mock"]
    assert mock["build"]["dockerfile"] == "docker/Dockerfile" and (ROOT / mock["build"]["dockerfile"]).exists()
    assert "app" in compose["services"] and compose["services"]["app"]["depends_on"]["clio-mock"]["condition"] == "service_healthy"
    assert all(k.startswith("CLIO_MOCK_") for k in mock["environment"])


def _compose_shell(text: str, mounts: dict[str, str]) -> str:
    """A compose string as the container's shell gets it (``$$`` is a literal ``$``), with the
    container's mount points moved to local stand-ins."""
    text = text.replace("$$", "$")
    for inside, outside in mounts.items():
        text = text.replace(inside, outside)
    return text


def test_compose_tls_recipe_serves_app_clio_com_to_an_unchanged_app(spec_path, index, tmp_path):
    """The `--profile tls` recipe: the mock is app.clio.com (network aliases) over HTTPS; the app
    trusts the CA copied to a shared volume and runs unchanged. Run here the way Docker would: the
    mock's command with the image's and the service's environment, the healthcheck, then the app's
    command with only its environment, Clio's names resolving to the mock as the aliases would."""
    from mockserver.serving.hosts import clio_hosts

    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    mock, app = compose["services"]["clio-mock-tls"], compose["services"]["app-tls"]
    assert mock["profiles"] == ["tls"] and app["profiles"] == ["tls"]
    assert set(mock["networks"]["default"]["aliases"]) == set(clio_hosts(index))
    assert app["depends_on"]["clio-mock-tls"]["condition"] == "service_healthy"
    # The CA certificate travels in its own volume; the mock's data volume (with the CA key) is not the app's.
    ca_volume = next(v.split(":")[0] for v in mock["volumes"] if v.split(":")[1] == "/ca")
    assert f"{ca_volume}:/ca:ro" in app["volumes"] and not any(v.split(":")[1] == "/data" for v in app["volumes"])
    ca_file = app["environment"]["SSL_CERT_FILE"]
    assert ca_file.startswith("/ca/") and all(app["environment"][k] == ca_file for k in ("REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "CURL_CA_BUNDLE"))

    port = free_port()
    mounts = {"/ca/": f"{tmp_path / 'ca-volume'}/", "https://localhost/": f"https://localhost:{port}/"}
    (tmp_path / "ca-volume").mkdir()
    shim = tmp_path / "bin" / "clio-mock"  # `clio-mock` as the image installs it, from this checkout
    shim.parent.mkdir()
    shim.write_text(f"#!/bin/sh\nexec {sys.executable} -m mockserver.cli \"$@\"\n")
    shim.chmod(0o755)
    env = {**os.environ, **{k: v for k, v in _dockerfile().envs.items() if k.startswith("CLIO_MOCK_")}, **mock["environment"]}
    env.update(PATH=f"{shim.parent}:{os.environ['PATH']}", CLIO_MOCK_SPEC=str(spec_path), CLIO_MOCK_DATA=str(tmp_path / "clio-mock.sqlite"),
               CLIO_MOCK_CACHE_DIR=str(tmp_path / "cache"), CLIO_MOCK_PORT=str(port), CLIO_MOCK_HOST="127.0.0.1")
    command = [_compose_shell(part, mounts) for part in mock["command"]]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        copied = tmp_path / "ca-volume" / Path(ca_file).name
        health = [_compose_shell(part, mounts) for part in mock["healthcheck"]["test"][1:]]
        deadline = time.monotonic() + 60
        while subprocess.run(health, capture_output=True, timeout=10).returncode != 0:
            assert proc.poll() is None and time.monotonic() < deadline, "the TLS mock did not become healthy"
            time.sleep(0.2)
        assert copied.read_bytes() == (tmp_path / "cache" / "tls" / "clio-mock-ca.pem").read_bytes()
        assert not list((tmp_path / "ca-volume").glob("*key*"))
        # The app's own command and environment; Clio's names resolve to the mock as the network aliases would.
        resolver = tmp_path / "resolver"
        resolver.mkdir()
        (resolver / "sitecustomize.py").write_text(
            "import socket\n_real = socket.getaddrinfo\n"
            f"def _lookup(host, port, *a, **k):\n    return _real('127.0.0.1', {port}, *a, **k) if host in {sorted(clio_hosts(index))!r} else _real(host, port, *a, **k)\n"
            "socket.getaddrinfo = _lookup\n")
        app_env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(resolver),
                   **{k: _compose_shell(str(v), mounts) for k, v in app["environment"].items()}}
        done = subprocess.run([sys.executable if part == "python" else part for part in app["command"]], env=app_env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "'id'" in done.stdout
    finally:
        proc.terminate()
        proc.wait(timeout=20)
