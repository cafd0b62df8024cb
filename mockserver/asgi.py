"""Entry point for uvicorn worker processes (``--workers N``): the settings come from the
environment, as the ``clio-mock serve`` process that started them wrote them."""

from __future__ import annotations

import os
from dataclasses import asdict

import orjson

from mockserver.app import ClioMock, create_app
from mockserver.config import Settings

SETTINGS_ENV = "CLIO_MOCK_WORKER_SETTINGS"


def settings_to_env(settings: Settings) -> None:
    os.environ[SETTINGS_ENV] = orjson.dumps(asdict(settings)).decode()


def app_from_env() -> ClioMock:
    """The app of one worker (uvicorn and granian call this with ``factory=True``)."""
    from mockserver.logs import configure_logging
    from mockserver.serving.runner import tune_collector

    settings = Settings(**orjson.loads(os.environ[SETTINGS_ENV]))
    configure_logging(settings.log_level, settings.json_logs)  # a new process: its own access log
    app = create_app(settings)
    tune_collector()  # after the app: its firms are what lives long
    return app
