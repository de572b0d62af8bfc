"""What the car's package may import: no terminal UI anywhere, no file schema in the car."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "vehicle_sim"
UI_LIBRARIES = {"rich", "typer", "click"}


def _imports(path: Path) -> set[str]:
    """The absolute module names ``path`` imports, at any depth of its code."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_imports_vehicle_sim_draws_nothing() -> None:
    """vehicle_sim reports progress as data; drawing it is the command line's business."""
    offenders = {str(path.relative_to(ROOT)): sorted(ui) for path in PACKAGE.rglob("*.py")
                 if (ui := {name.split(".")[0] for name in _imports(path)} & UI_LIBRARIES)}
    assert offenders == {}


def test_imports_the_car_never_reaches_the_scenario_schema() -> None:
    """Nothing the car imports, directly or not, is the scenario's file format."""
    seen: set[str] = set()
    todo = ["vehicle_sim.car"]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            path = ROOT / Path(*module.split(".")).with_suffix(".py")
            todo.extend(m for m in _imports(path) if m.startswith("vehicle_sim."))
    assert "vehicle_sim.scenario" not in seen
    assert "vehicle_sim.car_config" in seen
