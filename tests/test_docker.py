"""The Dockerfile cannot be built here (no daemon), so check what can be: every COPY source
exists, the install step is the README's, the CMD (with the image's environment) starts a
working mock whose JSON logs are pure JSON lines, and docker/compose.yaml's two services' commands
work together (the mock with the compose environment, the app's integration script against it),
with loopback standing in for the service names."""

from __future__ import annotations

import dataclasses
import json
import os
import re
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
SERVICE_INSTALL = "pip install --no-cache-dir '.[contract]'"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


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
    assert any(SERVICE_INSTALL in r for r in runs) and not any("-e ." in r for r in runs)  # not editable, with the kit
    assert SERVICE_INSTALL in (ROOT / "README.md").read_text()
    users = [i["value"] for i in parser.structure if i["instruction"] == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any(i["instruction"] == "HEALTHCHECK" for i in parser.structure)
    assert parser.baseimage.startswith("python:3.11-slim")


def _known(env: dict[str, str]) -> dict[str, str]:
    """CLIO_MOCK_* variables the mock knows on this branch (settings that land with other work are left out)."""
    from mockserver.config import ENV_PREFIX, OTHER_ENV, Settings

    known = {ENV_PREFIX + f.name.upper() for f in dataclasses.fields(Settings)} | {ENV_PREFIX + n for n in OTHER_ENV}
    return {k: v for k, v in env.items() if k in known}


def _start(env: dict[str, str], args: list[str], log) -> subprocess.Popen:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CLIO_MOCK_")}
    return subprocess.Popen([sys.executable, "-m", "mockserver.cli", *args], env={**clean, **env}, stdout=log, stderr=log)


def test_cmd_starts_a_working_mock_with_json_logs(spec_path, tmp_path):
    parser = _dockerfile()
    cmd = json.loads(parser.cmd) if parser.cmd.strip().startswith("[") else shlex.split(parser.cmd)
    assert cmd[:2] == ["clio-mock", "serve"]
    env = {k: v for k, v in parser.envs.items() if k.startswith("CLIO_MOCK_")}
    assert env["CLIO_MOCK_JSON_LOGS"] == "true"
    port = free_port()
    # Where the image has volumes, use local stand-ins; listen on loopback instead of 0.0.0.0.
    env.update(CLIO_MOCK_SPEC=str(spec_path), CLIO_MOCK_DATA=str(tmp_path / "clio-mock.sqlite"),
               CLIO_MOCK_CACHE_DIR=str(tmp_path / "cache"), CLIO_MOCK_PORT=str(port), CLIO_MOCK_HOST="127.0.0.1")
    with open(tmp_path / "log", "wb") as log:
        proc = _start(env, cmd[1:], log)
        try:
            url = f"http://127.0.0.1:{port}"
            assert wait_for_health(url)
            assert httpx.get(f"{url}/__mock__/ready").json()["store"] == "sqlite"
            assert httpx.get(f"{url}/api/v4/users/who_am_i.json", headers={"Authorization": "Bearer dev"}).status_code == 200
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    lines = (tmp_path / "log").read_text().splitlines()
    assert len(lines) >= 3  # start-up, uvicorn's, access lines
    for line in lines:  # every line JSON, none plain, no colour codes
        assert not ANSI.search(line), line
        record = json.loads(line)
        assert {"time", "level", "message"} <= set(record), line
    assert any(json.loads(line).get("path") == "/api/v4/users/who_am_i.json" for line in lines)


def test_compose_services_commands_work_together(spec_path, tmp_path):
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    mock, app = compose["services"]["clio-mock"], compose["services"]["app"]
    assert mock["build"]["dockerfile"] == "docker/Dockerfile" and (ROOT / mock["build"]["dockerfile"]).exists()
    assert app["depends_on"]["clio-mock"]["condition"] == "service_healthy"
    assert all(k.startswith("CLIO_MOCK_") for k in mock["environment"])
    # the recipe lets the app service's own host receive OAuth redirects and webhooks
    assert mock["environment"]["CLIO_MOCK_WEBHOOK_ALLOW_HOST"] == "app"
    assert mock["environment"]["CLIO_MOCK_OAUTH_REDIRECT_ORIGIN"] == "http://app:3000"
    assert app["environment"]["CALLBACK_URL"].startswith("http://app:3000/") and app["environment"]["WEBHOOK_URL"].startswith("http://app:")

    port, hook_port = free_port(), free_port()
    env = {k: str(v).replace("app", "127.0.0.1") if k in ("CLIO_MOCK_WEBHOOK_ALLOW_HOST", "CLIO_MOCK_OAUTH_REDIRECT_ORIGIN") else str(v)
           for k, v in mock["environment"].items()}
    env = _known(env)
    # volumes and the bind address: local stand-ins; http webhooks to loopback (without the allow-list setting on this branch)
    env.update(CLIO_MOCK_SPEC=str(spec_path), CLIO_MOCK_CACHE_DIR=os.environ.get("CLIO_MOCK_CACHE_DIR", str(tmp_path / "cache")),
               CLIO_MOCK_PORT=str(port), CLIO_MOCK_HOST="127.0.0.1", CLIO_MOCK_DATA=str(tmp_path / "state.sqlite"),
               CLIO_MOCK_WEBHOOK_ALLOW_HTTP="true", CLIO_MOCK_LOG_LEVEL="warning")
    dockerfile_cmd = json.loads(_dockerfile().cmd)
    with open(tmp_path / "mock.log", "wb") as log:
        proc = _start(env, dockerfile_cmd[1:], log)
        try:
            url = f"http://127.0.0.1:{port}"
            assert wait_for_health(url), (tmp_path / "mock.log").read_text()[-3000:]
            command = [sys.executable if c == "python" else c for c in app["command"]]
            command = [str(ROOT / "docker" / "example_integration.py") if c == "/app/example_integration.py" else c for c in command]
            app_env = {**os.environ, **{k: str(v) for k, v in app["environment"].items()},
                       "CLIO_BASE_URL": url, "CALLBACK_URL": "http://127.0.0.1:3000/cb",
                       "WEBHOOK_URL": f"http://127.0.0.1:{hook_port}/hook", "TIMEOUT": "30"}
            run = subprocess.run(command, env=app_env, capture_output=True, text=True, timeout=90)
            assert run.returncode == 0, run.stdout + run.stderr + (tmp_path / "mock.log").read_text()[-3000:]
            assert "ALL OK" in run.stdout
        finally:
            proc.terminate()
            proc.wait(timeout=20)


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
        while subprocess.run(health, capture_output=True, check=False, timeout=10).returncode != 0:
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
                              capture_output=True, text=True, check=False, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "'id'" in done.stdout
    finally:
        proc.terminate()
        proc.wait(timeout=20)
