"""The command line: every bad value is one line naming the flag (or variable), the value and
what is allowed, exit 2, no traceback; --version; defaults and examples in --help."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from conftest import SPEC_PATH

from mockserver.cli import main


def _run(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CLIO_MOCK_")}
    if "CLIO_MOCK_CACHE_DIR" in os.environ:
        clean["CLIO_MOCK_CACHE_DIR"] = os.environ["CLIO_MOCK_CACHE_DIR"]
    return subprocess.run([sys.executable, "-m", "mockserver.cli", *args], capture_output=True, text=True, timeout=timeout, env={**clean, **(env or {})})


def _one_line_error(run: subprocess.CompletedProcess) -> str:
    assert run.returncode == 2, (run.returncode, run.stderr)
    assert "Traceback" not in run.stderr and "listening on" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    return lines[0]


@pytest.mark.parametrize("args, wanted", [
    (["--log-level", "loud"], ["--log-level", "'loud'", "debug, info, warning, error, critical"]),
    (["--port", "99999"], ["--port", "99999", "from 0 to 65535"]),
    (["--port", "eighty"], ["--port", "'eighty'", "whole number"]),
    (["--records", "Matter=x"], ["--records", "Matter=x", "MODEL=N"]),
    (["--records", "Matter"], ["--records", "Matter", "MODEL=N"]),
    (["--scale", "-2"], ["--scale", "-2", "0 or more"]),
    (["--workers", "0"], ["--workers", "'0'", "from 1 to 64"]),
    (["--json-logs=maybe"], []),  # argparse: BooleanOptionalAction takes no value
])
def test_bad_flag_values_are_one_line(args, wanted):
    line = _one_line_error(_run("serve", "--spec", str(SPEC_PATH), "--port", "0", *args)) if wanted else None
    if line is None:
        run = _run("serve", "--spec", str(SPEC_PATH), "--port", "0", *args)
        assert run.returncode == 2 and "Traceback" not in run.stderr
        return
    for text in wanted:
        assert text in line, line


# --port 0 (any free port) so that whatever holds 8000 on this machine does not answer first
@pytest.mark.parametrize("value, close", [("matter=5", "Matter"), ("Mattr=5", "Matter"), ("Contcat=2", "Contact")])
def test_unknown_model_names_the_close_match(spec_path, value, close):
    line = _one_line_error(_run("serve", "--spec", str(spec_path), "--port", "0", "--records", value))
    assert f"{value!r}" in line and f"did you mean {close!r}" in line


def test_unknown_model_with_no_close_match_says_what_models_are(spec_path):
    line = _one_line_error(_run("serve", "--spec", str(spec_path), "--port", "0", "--records", "Zebra=1"))
    assert "no model 'Zebra'" in line and "schema names" in line


def test_misspelled_environment_variable_is_an_error(spec_path):
    line = _one_line_error(_run("serve", "--spec", str(spec_path), "--port", "0", env={"CLIO_MOCK_PROT": "9000"}))
    assert "CLIO_MOCK_PROT" in line and "'9000'" in line and "did you mean CLIO_MOCK_PORT" in line


def test_bad_environment_value_names_the_variable(spec_path):
    line = _one_line_error(_run("serve", "--spec", str(spec_path), "--port", "0", env={"CLIO_MOCK_LOG_LEVEL": "loud"}))
    assert line.startswith("clio-mock: CLIO_MOCK_LOG_LEVEL='loud':") and "debug, info" in line


def test_variables_compare_without_the_prefix():
    from mockserver.config import unknown_environment

    found = dict(unknown_environment({"CLIO_MOCK_RESOLVE": "x", "CLIO_MOCK_LOGLEVEL": "x", "CLIO_MOCK_NODE_PATH": "x", "CLIO_MOCK_PORT": "1"}))
    assert found == {"CLIO_MOCK_LOGLEVEL": "CLIO_MOCK_LOG_LEVEL", "CLIO_MOCK_NODE_PATH": None}


def test_unrelated_unknown_variable_is_a_warning():
    run = _run("config", "show", env={"CLIO_MOCK_SOMETHING_ELSE_ENTIRELY": "1"})
    assert run.returncode == 0 and "warning: CLIO_MOCK_SOMETHING_ELSE_ENTIRELY is not a clio-mock setting" in run.stderr


def test_bad_file_value_names_the_file_and_key(tmp_path):
    path = tmp_path / "mock.toml"
    path.write_text('log_level = "loud"\n')
    line = _one_line_error(_run("config", "show", "--config", str(path)))
    assert f"{path}: log_level = 'loud'" in line


def test_occupied_port_fails_before_listening(spec_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = _one_line_error(_run("serve", "--spec", str(spec_path), "--port", str(port)))
    assert f"--port {port}" in line and "already in use" in line


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("clio-mock ") and out.split()[1][0].isdigit()


def test_help_shows_defaults_variables_and_examples(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "default 8000" in out and "env CLIO_MOCK_PORT" in out and "default info" in out
    assert "examples:" in out and "clio-mock serve --spec" in out


@pytest.mark.parametrize("command", [["serve"], ["config"], ["config", "show"], ["spec"], ["spec", "diff"], ["spec", "fetch"],
                                     ["spec", "path"], ["contract"], ["contract", "diff"]])
def test_every_subcommand_has_an_example(capsys, command):
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    out = capsys.readouterr().out
    assert "examples:" in out
    assert "clio-mock " + " ".join(command) in out.split("examples:", 1)[1]


def test_a_good_command_still_starts(spec_path):
    from conftest import serve

    with serve("--spec", str(spec_path), "--records", "Matter=3", "--log-level", "WARNING".lower()) as url:
        import httpx

        assert httpx.get(f"{url}/api/v4/matters.json", headers={"Authorization": "Bearer dev"}).status_code == 200
