"""Clio's error envelope: ``{"error": {"type": ..., "message": ...}}``."""

from __future__ import annotations

import orjson


class ClioError(Exception):
    """An error answered to the client in Clio's shape, with an HTTP status."""

    def __init__(self, status: int, type_: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.headers = headers or {}

    def body(self) -> bytes:
        return orjson.dumps({"error": {"type": self.type, "message": self.message}})


def not_found(message: str = "The requested resource was not found") -> ClioError:
    return ClioError(404, "RecordNotFound", message)


def bad_request(message: str, type_: str = "BadRequest") -> ClioError:
    return ClioError(400, type_, message)


def invalid_fields(message: str) -> ClioError:
    return ClioError(400, "InvalidFields", message)


def unprocessable(message: str, type_: str = "RecordInvalid") -> ClioError:
    return ClioError(422, type_, message)


def decimal(raw: str | None, digits: int = 19) -> int | None:
    """``raw`` as a non-negative integer when it is plain ASCII digits (at most ``digits`` of
    them, so it fits 64 bits), else None. ``str.isdigit()`` alone accepts "²", which int()
    refuses: every id read from a path, a query or a header goes through here."""
    if raw is None or not (raw.isascii() and raw.isdigit()) or len(raw) > digits:
        return None
    return int(raw)
