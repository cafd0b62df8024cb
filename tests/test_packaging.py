"""What the wheel installs, from setuptools' own reading of pyproject.toml (building a wheel
needs setuptools from PyPI in an isolated env, so the test reads the same configuration
instead): only the ``mockserver`` package tree, with the shipped scenarios as package data.
(Checked by hand too: ``pip wheel --no-deps . -w /tmp/w && unzip -l /tmp/w/*.whl``.)"""

from __future__ import annotations

import warnings
from pathlib import Path

from setuptools.config.pyprojecttoml import read_configuration

ROOT = Path(__file__).resolve().parents[1]


def _config() -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "support for pyproject.toml is in beta" on older setuptools
        return read_configuration(ROOT / "pyproject.toml")


def test_only_the_mockserver_package_is_installed():
    packages = _config()["tool"]["setuptools"]["packages"]  # setuptools expands packages.find into the list it installs
    assert "mockserver" in packages and "mockserver.testing" in packages and "mockserver.contract" in packages
    assert {p.split(".")[0] for p in packages} == {"mockserver"}  # no top-level contract_tests, tests, examples


def test_shipped_scenarios_are_package_data():
    from mockserver.data.scenarios import SHIPPED_DIR, shipped_scenarios

    globs = _config()["tool"]["setuptools"]["package-data"]["mockserver.data"]
    base = ROOT / "mockserver" / "data"
    shipped = {p.relative_to(base).as_posix() for g in globs for p in base.glob(g)}
    assert {"fixtures/solo-practice.yaml", "fixtures/midsize-firm.yaml"} <= shipped
    assert SHIPPED_DIR == base / "fixtures" and {"solo-practice", "midsize-firm"} <= set(shipped_scenarios())
