"""Loading the spec: index contents, the on-disk index cache, and one-line errors with exit 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mockserver.spec.index import SpecError
from mockserver.spec.source import load_index


def test_index_covers_every_operation(index):
    assert len(index.operations) == 282
    assert len({op.path for op in index.operations}) == 156
    assert {op.action for op in index.operations} >= {"index", "show", "create", "update", "destroy", "who_am_i", "download"}
    assert index.versions.default == "4.0.13"


def test_warm_start_reads_the_cached_index(spec_path, tmp_path, monkeypatch):
    monkeypatch.setenv("CLIO_MOCK_CACHE_DIR", str(tmp_path))
    cold = load_index(str(spec_path))
    cached = list((tmp_path / "index").glob("*.pickle"))
    assert len(cached) == 1
    warm = load_index(str(spec_path))
    assert warm.sha256 == cold.sha256 and len(warm.operations) == len(cold.operations)
    cached[0].write_bytes(b"torn")  # a damaged cache is rebuilt, not fatal
    assert len(load_index(str(spec_path)).operations) == 282


@pytest.mark.parametrize(
    "content, expected",
    [(None, "not found"), (b"{not json", "not valid JSON"), (b'{"hello": 1}', "not an OpenAPI document")],
)
def test_bad_spec_is_one_line_and_exit_2(tmp_path, content, expected):
    path = tmp_path / "spec.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SpecError, match=expected):
        load_index(str(path), use_cache=False)
    run = subprocess.run(
        [sys.executable, "-m", "mockserver.cli", "serve", "--spec", str(path)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2
    assert expected in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert "Traceback" not in run.stderr


def test_spec_url_that_fails_is_one_line(tmp_path):
    with pytest.raises(SpecError, match="cannot download"):
        load_index("http://127.0.0.1:9/openapi.json", use_cache=False)


def test_spec_path_command(tmp_path):
    run = subprocess.run([sys.executable, "-m", "mockserver.cli", "spec", "path"], capture_output=True, text=True, timeout=60,
                         env={"CLIO_MOCK_CACHE_DIR": str(tmp_path), "PATH": ""})
    assert run.stdout.strip() == str(tmp_path / "openapi-v4.json")
