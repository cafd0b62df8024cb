"""Every command the README prints works as printed.

The README's ```sh blocks are extracted and run from the repository root, with ``../shared``
beside it, against a live mock started the README's way (its set-up command, in the
background). A command counts as working when it exits 0 and, if it printed JSON, that JSON
is not Clio's error shape. Commands that cannot run in a test are listed in ``NOT_RUN`` with
the reason; the test fails when the README gains a command that is neither run nor listed,
or when a listed one is no longer in the README.

The ports the README prints (8000, 8080, 8443) are used as printed when they are free; when
something else on the machine holds one, the commands get a free port in its place (the only
change ever made to them).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT.parent / "shared" / "clio" / "openapi-v4.json"
TIMEOUT = 180  # seconds any one command may take

INSTALL = re.compile(r"^pip install [^&]+&&\s*")
# Commands that cannot run here, by a pattern on the command, with the reason.
NOT_RUN = {
    r"^pip install -e '\.\[test\]' && python3 -m pytest -q$":
        "installs into this machine's environment and runs the whole suite (this test too); .ci/run runs exactly it",
    r"^python3 -m pytest contract_tests/ --target mock":
        "the whole contract suite (minutes); .ci/run runs it right after the tests",
    r"^CLIO_ACCESS_TOKEN=\.\.\. clio-mock contract --target https://app\.clio\.com":
        "needs a real Clio sandbox account and the internet",
    r"^docker compose ":
        "no Docker daemon on the test machines; tests/test_docker.py runs the image's CMD and both services' commands",
    r"^python benchmarks/":
        "long benchmarks that print figures (and need wrk / npm); see benchmarks/README.md",
}
# Commands that run only where what they need is installed (.ci/run installs it), with the reason.
def _node_ready() -> bool:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return shutil.which("node") is not None and all((Path(base) / "clio-mock-node" / "node_modules" / p).exists() for p in ("axios", "undici"))


NEEDS = {
    r"\bnode tests/node/clients\.cjs\b": (_node_ready, "needs node and the npm packages .ci/run installs (axios, undici)"),
}
PRINTED_PORTS = (8000, 8080, 8443)
# The pip part of the set-up command (the server part runs): installing would change the
# environment every other test and helper on this machine uses; .ci/run does the same install.
SKIPPED_PREFIX_REASON = "pip install changes the shared environment; .ci/run installs the same way"


def readme_commands() -> list[tuple[int, list[str]]]:
    """(block number, commands) for each ```sh block; continuations joined, comment lines dropped."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M)
    out = []
    for n, block in enumerate(blocks):
        joined = re.sub(r"\\\n\s*", " ", block)
        commands = [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]
        out.append((n, commands))
    return out


def _reason(command: str) -> str | None:
    why = next((why for pattern, why in NOT_RUN.items() if re.search(pattern, command)), None)
    if why is None:
        why = next((why for pattern, (ready, why) in NEEDS.items() if re.search(pattern, command) and not ready()), None)
    return why


def _is_serve(command: str) -> bool:
    return bool(re.match(r"^clio-mock serve\b", INSTALL.sub("", command)))


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Runner:
    """Runs README commands in a shell from the repo root; serve commands in the background."""

    def __init__(self, ports: dict[int, int], log_dir: Path) -> None:
        self.ports, self.log_dir = ports, log_dir
        self.servers: dict[int, subprocess.Popen] = {}  # by port: a serve command replaces the mock on its port
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CLIO_MOCK_") or k == "CLIO_MOCK_CACHE_DIR"}
        self.env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
        self.ran: list[str] = []

    def adapt(self, command: str) -> str:
        for printed, actual in self.ports.items():
            if printed != actual:
                command = re.sub(rf"(?<=[:\s]){printed}\b", str(actual), command)
        if _is_serve(command) and "--port" not in command and self.ports[8000] != 8000:
            command = re.sub(r"(clio-mock serve)", rf"\1 --port {self.ports[8000]}", command, count=1)
        return command

    def serve(self, command: str) -> None:
        command = self.adapt(INSTALL.sub("", command))
        port = int(m.group(1)) if (m := re.search(r"--port (\d+)", command)) else 8000
        self.stop(port)
        url = f"{'https' if '--tls' in command.split() else 'http'}://127.0.0.1:{port}/__mock__/health"
        log_path = self.log_dir / f"serve-{len(self.ran)}.log"
        with open(log_path, "wb") as log:  # its own process group, so stopping it stops the shell and the server
            server = self.servers[port] = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=ROOT, env=self.env, stdout=log, stderr=log,
                                                           start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if httpx.get(url, timeout=1, verify=False).status_code == 200:
                    self.ran.append(command)
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        pytest.fail(f"README command did not start a mock: {command}\n{log_path.read_text(errors='replace')[-3000:]}")

    def run(self, command: str) -> None:
        command = self.adapt(command)
        done = subprocess.run(["bash", "-c", command], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=TIMEOUT)
        assert done.returncode == 0, f"README command failed (exit {done.returncode}): {command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        try:
            printed = json.loads(done.stdout)
        except ValueError:
            printed = None
        assert not (isinstance(printed, dict) and "error" in printed), f"README command answered an error: {command}\n{done.stdout[:2000]}"
        self.ran.append(command)

    def stop(self, port: int | None = None) -> None:
        """Stop the mock on ``port`` (all of them when None)."""
        for p in [port] if port is not None else list(self.servers):
            server = self.servers.pop(p, None)
            if server is None or server.poll() is not None:
                continue
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)


@pytest.fixture
def runner(tmp_path):
    if not SPEC.exists():
        pytest.skip(f"the README's commands expect Clio's spec at {SPEC}")
    if shutil.which("clio-mock") is None:
        pytest.fail("clio-mock is not on PATH: the README's set-up command installs it (pip install -e .)")
    r = Runner({p: p if _port_free(p) else _free_port() for p in PRINTED_PORTS}, tmp_path)
    yield r
    r.stop()


def test_setup_is_two_commands_and_the_first_starts_the_mock():
    blocks = readme_commands()
    assert [len(c) for _, c in blocks[:2]] == [1, 1]
    install_and_start, tests = blocks[0][1][0], blocks[1][1][0]
    assert INSTALL.match(install_and_start) and _is_serve(install_and_start) and "--spec ../shared/clio/openapi-v4.json" in install_and_start
    assert tests == "pip install -e '.[test]' && python3 -m pytest -q"
    assert (ROOT / ".ci" / "run").read_text().count("pip install --quiet -e '.[test]'") == 1  # the same install CI does


def test_every_readme_command_runs_as_printed(runner):
    blocks = readme_commands()
    commands = [c for _, block in blocks for c in block]
    not_run = {c: _reason(c) for c in commands if _reason(c)}
    for pattern in NOT_RUN:  # the list stays true to the README
        assert any(re.search(pattern, c) for c in commands), f"NOT_RUN lists {pattern!r}, which the README no longer prints"
    first = commands[0]
    assert INSTALL.match(first), "the first command installs and starts the mock"
    runner.serve(first)  # the README's way: from the repo root, ../shared beside it (the pip part: SKIPPED_PREFIX_REASON)
    for command in commands[1:]:  # a later serve command replaces the mock on its port, as it would for a reader
        if command in not_run:
            continue
        if _is_serve(command):
            runner.serve(command)
        else:
            runner.run(command)
    run_count = len(commands) - len(not_run)
    assert len(runner.ran) == run_count, (runner.ran, not_run)
    assert run_count >= 8  # the README's examples are mostly runnable, not mostly excused
