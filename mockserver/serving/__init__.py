"""Serving the mock on Clio's own host names: a local certificate authority (:mod:`.ca`), HTTPS
(:mod:`.tls`), a forward proxy for ``HTTPS_PROXY`` clients (:mod:`.proxy`) and the runner that puts
them beside uvicorn on one event loop (:mod:`.runner`). Sits above :mod:`mockserver.app`."""
