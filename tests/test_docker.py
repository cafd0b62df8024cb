"""The Dockerfile cannot be built here (no daemon), so check what can be: every COPY source
exists, the install step is the README's, and the CMD (with the image's environment) starts a
working mock. docker/compose.yaml is valid YAML naming that Dockerfile."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
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
