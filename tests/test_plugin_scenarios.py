"""The pytest plugin as a user's project sees it (a pytest run in a fresh folder): a shipped
scenario loaded by name, the firm and token the marker loaded handed to the test, and one
clear message when no spec is configured and none can be downloaded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

USER_TESTS = '''
import httpx
import pytest


@pytest.mark.clio_scenario("solo-practice")
def test_marker_hands_back_the_firm(clio_mock, clio_scenario_firm):
    assert clio_scenario_firm.name == "Delgado Law PLLC"
    r = httpx.get(f"{clio_mock.api_url}/users/who_am_i.json", headers=clio_scenario_firm.headers, params={"fields": "id,name"})
    assert r.status_code == 200 and r.json()["data"]["id"] == clio_scenario_firm.user_id
    matters = httpx.get(f"{clio_mock.api_url}/matters.json", headers=clio_scenario_firm.headers, params={"fields": "id,client{id,name}"})
    riverside = clio_scenario_firm.ref("riverside")
    assert riverside["name"] == "Riverside Property Management LLC"
    assert any(m["client"] and m["client"]["id"] == riverside["id"] for m in matters.json()["data"])


@pytest.mark.clio_scenario("solo-practice.yaml")
def test_name_with_suffix(clio_scenario_firm):
    assert clio_scenario_firm.ref("maria")["email"] == "maria@delgadolaw.example"


def test_no_marker_no_firm(clio_scenario_firm):
    pass


def test_clio_firm_takes_records(clio_firm):
    firm = clio_firm(name="Other LLP", records={"Matter": 3})
    assert len(firm.account.table("Matter")) == 3 and firm.name == "Other LLP"
'''


def _pytest(folder: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", *args], cwd=folder,
                          capture_output=True, text=True, timeout=240, env=env)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLIO_MOCK_", "PYTEST_"))}
    return {**env, **extra}


def test_shipped_scenario_by_name_and_its_firm(tmp_path, spec_path):
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    (tmp_path / "pytest.ini").write_text(f"[pytest]\nclio_mock_spec = {spec_path}\n")
    run = _pytest(tmp_path, env=_env(CLIO_MOCK_CACHE_DIR=os.environ.get("CLIO_MOCK_CACHE_DIR", str(tmp_path / "cache"))))
    out = run.stdout + run.stderr
    assert "3 passed, 1 error" in out, out[-3000:]
    assert "clio_scenario_firm needs @pytest.mark.clio_scenario" in out


def test_no_spec_is_one_message_naming_the_three_ways(tmp_path):
    (tmp_path / "test_user.py").write_text("def test_it(clio_mock):\n    pass\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    # offline: the published URL points at a closed loopback port, the cache is empty
    run = _pytest(tmp_path, env=_env(CLIO_MOCK_CACHE_DIR=str(tmp_path / "cache"), CLIO_MOCK_SPEC_URL="http://127.0.0.1:9/openapi.json"))
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "--clio-mock-spec" in out and "clio_mock_spec" in out and "CLIO_MOCK_SPEC" in out, out
    assert "Traceback" not in out and "During handling" not in out
    assert len(out.splitlines()) < 20, out


def test_scenarios_by_name_on_the_cli_and_control_api(client, spec_path):
    from conftest import serve

    r = client.post("/__mock__/scenarios", json={"name": "solo-practice"})
    assert r.status_code == 201 and r.json()["name"] == "Delgado Law PLLC"
    bad = client.post("/__mock__/scenarios", json={"name": "solo-practise"})
    assert bad.status_code == 400 and "shipped: midsize-firm, solo-practice" in bad.json()["error"]["message"]
    with serve("--spec", str(spec_path), "--fixture", "solo-practice") as url:
        import httpx

        names = [a["name"] for a in httpx.get(f"{url}/__mock__/accounts").json()["data"]]
        assert "Delgado Law PLLC" in names
