"""The testing layer: running the mock for code under test: the pytest plugin (:mod:`.pytest_plugin`),
in-process transports for httpx and requests (:mod:`.transport`), interception of Clio's hosts
(:mod:`.intercept`) and the handles both fixtures share (:mod:`.controls`). It sits above the
composition root (:mod:`mockserver.app`), since it builds mocks."""
