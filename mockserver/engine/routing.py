"""Matching request paths to the spec's operations.

Every spec path is served in its ``/x.json`` and bare ``/x`` forms. Literal segments win
over parameters, so ``/users/who_am_i`` is not read as ``/users/{id}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mockserver.engine.errors import ClioError, not_found
from mockserver.spec.index import Operation


@dataclass
class _Node:
    literals: dict[str, "_Node"] = field(default_factory=dict)
    param: tuple[str, "_Node"] | None = None  # (first name seen, child)
    operations: dict[str, Operation] = field(default_factory=dict)


class Router:
    """A segment trie over the spec's path templates."""

    def __init__(self, operations: list[Operation]) -> None:
        self.root = _Node()
        for op in operations:
            self._add(op)

    def _add(self, op: Operation) -> None:
        node = self.root
        path = op.path[:-5] if op.path.endswith(".json") else op.path
        for segment in path.strip("/").split("/"):
            if segment.startswith("{") and segment.endswith("}"):
                if node.param is None:
                    node.param = (segment[1:-1], _Node())
                node = node.param[1]
            else:
                node = node.literals.setdefault(segment, _Node())
        node.operations[op.method] = op

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]]:
        """The operation and raw path parameters for a path below ``/api/v4``.

        Unknown paths are 404, known paths with another method 405, both Clio-shaped.
        """
        if path.endswith(".json"):
            path = path[:-5]
        node: _Node | None = self.root
        values: list[str] = []
        for segment in path.strip("/").split("/"):
            if node is None:
                break
            nxt = node.literals.get(segment)
            if nxt is None and node.param is not None and segment:
                values.append(segment)
                nxt = node.param[1]
            node = nxt
        if node is None or not node.operations:
            raise not_found(f"No route matches {path}")
        op = node.operations.get(method)
        if op is None:
            allowed = ", ".join(sorted(node.operations))
            raise ClioError(405, "MethodNotAllowed", f"{method} is not allowed here; use {allowed}", {"Allow": allowed})
        # Templates sharing a prefix name their parameters differently
        # (/matters/{id} vs /matters/{matter_id}/contacts): name them per operation.
        return op, dict(zip(op.path_params, values))
