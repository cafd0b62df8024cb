"""The testing layer: running the mock for code under test: the pytest plugin (:mod:`.pytest_plugin`).
It sits above the composition root (:mod:`mockserver.app`), since it builds mocks."""
