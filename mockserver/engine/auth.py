"""The authentication seam: who a bearer token acts as.

Every ``/api/v4`` request passes through an :class:`Authenticator`; the mock's is the OAuth
server (:class:`mockserver.clio.oauth.OAuthServer`). Tests may plug in their own.
"""

from __future__ import annotations

from mockserver.engine.errors import ClioError
from mockserver.engine.handlers import Principal

INVALID_TOKEN = "The access token provided is expired, revoked, malformed or invalid for other reasons."


class AuthError(ClioError):
    """401 with the OAuth-style body Clio uses for token problems (RFC 6750)."""

    def __init__(self, description: str = INVALID_TOKEN) -> None:
        super().__init__(401, "invalid_token", description, {"WWW-Authenticate": 'Bearer error="invalid_token"'})

    def body(self) -> bytes:
        import orjson

        return orjson.dumps({"error": "invalid_token", "error_description": self.message})


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class Authenticator:
    """Decides the principal of a request; raises :class:`ClioError` (401/403) otherwise."""

    def authenticate(self, authorization: str | None, now: float) -> Principal:
        raise NotImplementedError
