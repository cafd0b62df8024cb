"""The contract-test kit: Clio's spec checked against the mock, a mock process, or Clio.

Entry points: ``clio-mock contract`` (:mod:`mockserver.contract`) and
``pytest contract_tests/ --target ...`` (:mod:`contract_tests.conftest`). Modules:
:mod:`~contract_tests.kit` (the run), :mod:`~contract_tests.client` (HTTP under the
safety rules), :mod:`~contract_tests.specprep` (the spec as fed to schemathesis, with
links), :mod:`~contract_tests.checks` (judging responses; allowances),
:mod:`~contract_tests.discovery` (real ids, records of the kit's own),
:mod:`~contract_tests.report` (JUnit XML, Markdown), :mod:`~contract_tests.drift`.
"""
