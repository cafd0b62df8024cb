"""clio-mock: a stateful, spec-driven mock of the Clio Manage API v4.

``mockserver.intercept(...)`` routes Clio's hosts to an in-process mock (see
:mod:`mockserver.testing.intercept`); it is imported on first use, so ``import mockserver``
stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockserver.testing.intercept import Interceptor, intercept

__all__ = ["intercept", "Interceptor"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from mockserver.testing import intercept as module

        return getattr(module, name)
    raise AttributeError(f"module 'mockserver' has no attribute {name!r}")
