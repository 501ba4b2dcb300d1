"""The architecture as tests: imports point one way, and pure logic reads no clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "hazwatch"

# A module may import from a lower layer, or from its own package.
LAYERS: dict[str, int] = {
    "domain": 0,
    "detect": 1,
    "alarms": 1,
    "warn": 1,
    "ingest": 1,
    "storage": 2,
    "connectors": 2,
    "plant": 2,
    "datasets": 2,
    "respond": 1,
    "evaluate": 1,
    "render": 2,
    "auth": 2,
    "settings": 2,
    "runtime": 3,
    "gateway": 4,
    "api": 4,
    "cli": 5,
    "demo": 4,
    "__main__": 6,
}
PURE = ("domain", "detect", "alarms", "ingest", "warn", "evaluate")
CLOCK_READS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("time", "time"),
    ("time", "monotonic"),
    ("time", "time_ns"),
    ("date", "today"),
}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def _package_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py") if rel.parts else ""


def _imported_packages(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "hazwatch" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_every_package_has_a_layer() -> None:
    packages = {_package_of(p) for p in _modules()} - {"__init__"}
    assert packages <= set(LAYERS), f"give these a layer: {packages - set(LAYERS)}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path: Path) -> None:
    own = _package_of(path)
    if own == "__init__":
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    wrong = {
        target
        for target in _imported_packages(tree)
        if target != own and target in LAYERS and LAYERS[target] >= LAYERS[own]
    }
    assert not wrong, f"{own} (layer {LAYERS[own]}) must not import {sorted(wrong)}"


@pytest.mark.parametrize(
    "path",
    [p for p in _modules() if _package_of(p) in PURE],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_pure_logic_reads_no_clock(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    reads = [
        f"{node.func.value.id}.{node.func.attr}() at line {node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and (node.func.value.id, node.func.attr) in CLOCK_READS
    ]
    assert not reads, f"pure logic takes `now` as a parameter; found {reads}"
