"""Settings from flags, CLIO_MOCK_* variables and a TOML file: flag > env > file > default."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mockserver.config import resolve
from mockserver.engine.errors import ClioError


def test_precedence(tmp_path):
    path = tmp_path / "mock.toml"
    path.write_text('port = 7000\nseed = 5\nrate_limit = 10\nrecords = "x"\n'.replace('records = "x"\n', 'records = {Matter = 30}\nwebhook-allow-http = true\n'))
    settings, sources = resolve({"config": str(path), "port": 9000}, {"CLIO_MOCK_SEED": "6"})
    assert (settings.port, sources["port"]) == (9000, "flag")
    assert (settings.seed, sources["seed"]) == (6, "env CLIO_MOCK_SEED")
    assert (settings.rate_limit, sources["rate_limit"]) == (10, f"file {path}")
    assert settings.records == {"Matter": 30} and settings.webhook_allow_http is True
    assert (settings.host, sources["host"]) == ("127.0.0.1", "default")


def test_env_types_and_clearing(tmp_path):
    settings, _ = resolve({}, {"CLIO_MOCK_RECORDS": "Matter=5,Contact=2", "CLIO_MOCK_AUTO_APPROVE": "yes", "CLIO_MOCK_DEV_TOKEN": "", "CLIO_MOCK_SCALE": "0.5"})
    assert settings.records == {"Matter": 5, "Contact": 2} and settings.auto_approve and settings.dev_token is None and settings.scale == 0.5


@pytest.mark.parametrize("env, message", [({"CLIO_MOCK_PORT": "eighty"}, "port must be int"), ({"CLIO_MOCK_JSON_LOGS": "maybe"}, "json_logs must be bool")])
def test_bad_values_name_the_source(env, message):
    with pytest.raises(ClioError, match=message):
        resolve({}, env)


def test_unknown_file_key_is_an_error(tmp_path):
    path = tmp_path / "mock.toml"
    path.write_text("prot = 1\n")
    with pytest.raises(ClioError, match="unknown setting 'prot'"):
        resolve({"config": str(path)}, {})


def test_config_show_prints_sources(tmp_path):
    run = subprocess.run([sys.executable, "-m", "mockserver.cli", "config", "show", "--port", "9", "--admin-token", "s3cret"],
                         capture_output=True, text=True, timeout=60, env={"CLIO_MOCK_SEED": "3", "PATH": ""})
    assert run.returncode == 0, run.stderr
    assert "port = 9  # flag" in run.stdout and "seed = 3  # env CLIO_MOCK_SEED" in run.stdout
    assert "s3cret" not in run.stdout and "admin_token = ***" in run.stdout
