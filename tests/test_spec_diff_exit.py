"""``clio-mock spec diff --fail-on-change`` is a CI gate: exit 1 when the documents differ."""

from __future__ import annotations

from conftest import SHARED

from mockserver.cli import main

OLD = SHARED / "snapshots" / "openapi-v4-2025-11-20.json"


def test_fail_on_change_exits_1_when_the_specs_differ(spec_path, capsys):
    assert main(["spec", "diff", str(OLD), str(spec_path), "--fail-on-change"]) == 1
    assert "changed" in capsys.readouterr().out


def test_same_spec_exits_0_even_with_the_flag(spec_path, capsys):
    assert main(["spec", "diff", str(spec_path), str(spec_path), "--fail-on-change"]) == 0


def test_without_the_flag_a_diff_is_a_report(spec_path, capsys):
    assert main(["spec", "diff", str(OLD), str(spec_path), "--json"]) == 0
