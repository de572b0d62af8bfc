"""The parts meet only on the wire: the import rules of the architecture, checked."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import protocols

ROOT = Path(__file__).resolve().parents[1]
OURS = {"protocols", "vehicle_sim", "backend", "cli", "bench", "chaos", "pki", "tests"}
MAY_IMPORT = {
    "protocols": {"protocols"},
    "vehicle_sim": {"protocols", "vehicle_sim"},
    "backend": {"protocols", "backend"},
    "pki": {"protocols", "pki"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & OURS


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_layering_package_imports_only_what_it_may(package: str) -> None:
    """protocols imports nothing of ours; vehicle_sim and backend never import each other."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) - MAY_IMPORT[package])
        for path in (ROOT / package).rglob("*.py")
        if _imports(path) - MAY_IMPORT[package]
    }
    assert offenders == {}


def test_layering_protocols_exports_are_declared() -> None:
    """protocols.__all__ lists exactly its public names, sorted."""
    public = sorted(n for n in vars(protocols) if not n.startswith("_")
                    and not isinstance(vars(protocols)[n], type(protocols)))
    assert sorted(protocols.__all__) == public
