"""Shared by tests/test_tls.py and tests/test_proxy.py: a live ``clio-mock serve --tls`` (and
``--proxy-port``) on loopback ports, a resolver that sends Clio's host names to it without
touching /etc/hosts, and the Node packages the Node tests need."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from conftest import free_port, stop

CLIO_HOSTS = ("app.clio.com", "eu.app.clio.com", "ca.app.clio.com", "au.app.clio.com")
NODE_DIR = Path(__file__).parent / "node"


@dataclass
class LiveTls:
    port: int
    proxy_port: int | None
    ca: Path
    cache_dir: Path
    host: str = "127.0.0.1"
    scheme: str = "https"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def proxy(self) -> str:
        return f"http://{self.host}:{self.proxy_port}"


@contextlib.contextmanager
def serve_tls(*args: str, cache_dir: Path, proxy: bool = False, host: str = "127.0.0.1", ca: Path | None = None,
              env: dict | None = None, timeout: float = 60.0):
    """``clio-mock serve ARGS`` (with ``--tls`` or not) on free loopback ports (and ``--proxy-port`` when ``proxy``);
    ``ca`` is the CA to trust when ARGS bring a certificate of their own."""
    port, proxy_port = free_port(), (free_port() if proxy else None)
    command = [sys.executable, "-m", "mockserver.cli", "serve", "--host", host, "--port", str(port), "--log-level", "warning", *args]
    if proxy_port:
        command += ["--proxy-port", str(proxy_port)]
    env = {**os.environ, **(env or {}), "CLIO_MOCK_CACHE_DIR": str(cache_dir)}
    scheme = "https" if {"--tls", "--tls-cert"} & set(args) else "http"
    live = LiveTls(port, proxy_port, ca or cache_dir / "tls" / "clio-mock-ca.pem", cache_dir, host, scheme)
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            if not _healthy(live, proc, timeout):
                log.seek(0)
                pytest.fail(f"clio-mock --tls did not start:\n{log.read().decode(errors='replace')[-4000:]}")
            yield live
        finally:
            stop(proc)


def _healthy(live: LiveTls, proc: subprocess.Popen, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if live.ca.exists():
            try:
                if httpx.get(f"{live.url}/__mock__/health", verify=trusting(live.ca), timeout=1, trust_env=False).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
        time.sleep(0.05)
    return False


def trusting(ca: Path) -> ssl.SSLContext:
    """A client context that trusts ``ca`` only."""
    return ssl.create_default_context(cafile=str(ca))


@contextlib.contextmanager
def clio_hosts_at(port: int):
    """Resolve Clio's host names to 127.0.0.1:``port`` in this process (``socket.getaddrinfo``):
    the client's URL stays ``https://app.clio.com/...`` (port 443) while it connects to the mock."""
    real = socket.getaddrinfo

    def getaddrinfo(host, service, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode()
        if host in CLIO_HOSTS:
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, service, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo
    try:
        yield
    finally:
        socket.getaddrinfo = real


def node_modules() -> Path:
    """Where .ci/run installs the Node packages of these tests (outside the repository)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "clio-mock-node" / "node_modules"


def need_node(*packages: str) -> str:
    """The node executable, or skip with the reason."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (the Node client tests need Node 20 or later)")
    missing = [p for p in packages if not (node_modules() / p).exists()]
    if missing:
        pytest.skip(f"Node packages {missing} missing from {node_modules()}: run .ci/run, or "
                    f"npm install --prefix {node_modules().parent} axios undici@6")
    return node


def run_node(node: str, clients: list[str], env: dict[str, str], preloads: tuple[str, ...] = (), timeout: float = 60) -> dict:
    """``node tests/node/clients.cjs CLIENTS`` with only ``env`` added to a bare environment (PATH,
    HOME; NODE_PATH finds the cached packages): its JSON answer, one entry per client."""
    import json

    base = {k: os.environ[k] for k in ("PATH", "HOME", "XDG_CACHE_HOME") if k in os.environ}
    full = {**base, "NODE_PATH": str(node_modules()), **env}
    if preloads:
        full["NODE_OPTIONS"] = " ".join(f"--require {NODE_DIR / p}" for p in preloads)
    done = subprocess.run([node, str(NODE_DIR / "clients.cjs"), *clients], env=full, capture_output=True, text=True, check=False, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
