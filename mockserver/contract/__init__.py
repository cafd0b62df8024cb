"""The contract-test kit: checks a target (the in-process mock, a second mock, a Clio sandbox) against
Clio's published spec. :mod:`.kit` (the run), :mod:`.client` (HTTP under the safety rules),
:mod:`.specprep` (the spec as fed to schemathesis, with links), :mod:`.checks` (judging responses;
allowances), :mod:`.discovery` (real ids, records of the kit's own), :mod:`.report` (JUnit XML,
Markdown), :mod:`.drift` (two targets compared) and :mod:`.command` (``clio-mock contract``).
The pytest suite that runs it is the repository's ``contract_tests/`` folder."""
