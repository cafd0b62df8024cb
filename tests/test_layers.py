"""Imports run one way between the package's layers: spec <- engine <- clio/data <- control <- state
<- app <- testing/contract/serving <- cli. A module may import its own layer and any layer below it, never one
above. Imports under ``if TYPE_CHECKING:`` are type hints only and are not counted."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "mockserver"

# The rank of each layer (a package folder, or a top-level module). Higher may import lower.
RANKS = {
    "logs": 0, "spec": 0,
    "engine": 1,
    "clio": 2, "data": 2, "config": 2,
    "control": 3,
    "state": 4,
    "exchange": 4, "app": 5,
    "asgi": 6, "testing": 6, "contract": 6, "serving": 6,
    "cli": 7,
}


def layer_of(dotted: str) -> str | None:
    parts = dotted.split(".")
    return parts[1] if parts[0] == "mockserver" and len(parts) > 1 else None


def runtime_imports(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every import not guarded by ``if TYPE_CHECKING``."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                found.append((child.lineno, child.module))
                if child.module == "mockserver":  # from mockserver import x
                    found.extend((child.lineno, f"mockserver.{a.name}") for a in child.names)
            elif isinstance(child, ast.Import):
                found.extend((child.lineno, a.name) for a in child.names)
            visit(child)

    visit(tree)
    return found


def upward_imports() -> list[str]:
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        own = layer_of(".".join(rel.parts))
        if own is None or own == "__init__":
            continue
        for line, module in runtime_imports(ast.parse(path.read_text())):
            target = layer_of(module)
            if target is None or target == own:
                continue
            if RANKS[target] > RANKS[own]:
                bad.append(f"{rel}.py:{line} ({own}) imports {module} ({target})")
    return bad


def test_every_layer_has_a_rank():
    layers = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    layers |= {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert layers <= set(RANKS), f"add these to RANKS: {sorted(layers - set(RANKS))}"


def test_no_upward_imports():
    assert upward_imports() == []


def test_the_check_sees_an_upward_import(tmp_path):
    tree = ast.parse("from mockserver.app import create_app\nif TYPE_CHECKING:\n    from mockserver.cli import main\n")
    assert [m for _, m in runtime_imports(tree)] == ["mockserver.app"]
