"""The parts meet only on the wire: the import rules of the architecture, checked."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import protocols

ROOT = Path(__file__).resolve().parents[1]
OURS = {"protocols", "vehicle_sim", "backend", "cli", "bench", "chaos", "pki", "loadtest",
        "tests"}
MAY_IMPORT = {
    "protocols": {"protocols"},
    "vehicle_sim": {"protocols", "vehicle_sim"},
    "backend": {"protocols", "backend"},
    "pki": {"protocols", "pki"},
    "loadtest": {"protocols", "vehicle_sim", "pki", "loadtest"},
}
# gevent patches the standard library of whatever process imports it (Locust imports it):
# only the load engine's own modules, which run inside Locust's processes, may.
GEVENT_WORLD = {"locust", "gevent"}
ENGINE_MODULES = {"loadtest/car_user.py", "loadtest/locustfile.py"}


BASE = {"backend.errors", "backend.settings", "backend.dates"}
BACKEND_MAY_IMPORT: dict[str, set[str]] = {
    "base": set(),
    "infra": {"infra"},
    "privacy": {"infra", "privacy"},
    "emergency": {"infra", "privacy", "emergency"},
    "assistance": {"infra", "privacy", "assistance"},
    "ota": {"infra", "privacy", "ota"},
    "services": {"infra", "privacy", "assistance", "ota", "services"},
    "api": {"infra", "privacy", "emergency", "assistance", "ota", "services", "api"},
    "runtime": {"infra", "privacy", "emergency", "assistance", "ota", "services", "api",
                "runtime"},
}


def _backend_unit(dotted: str) -> str:
    """The layer a backend module belongs to: its domain package, or "base"."""
    parts = dotted.split(".")
    if dotted in BASE or len(parts) < 2 or parts[1] in {"errors", "settings", "dates"}:
        return "base"
    if parts[1] == "__main__":
        return "runtime"
    return parts[1]


def _backend_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("backend"):
            if node.module == "backend":
                found.update(f"backend.{alias.name}" for alias in node.names)
            else:
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("backend."))
    return found


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


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def test_layering_backend_domains_import_only_downwards() -> None:
    """Each backend package imports only the packages below it: no arrow runs back up."""
    offenders: dict[str, list[str]] = {}
    for path in (ROOT / "backend").rglob("*.py"):
        unit = _backend_unit(_module_name(path))
        allowed = BACKEND_MAY_IMPORT[unit] | {"base"}
        bad = sorted(m for m in _backend_imports(path) if _backend_unit(m) not in allowed)
        if bad:
            offenders[str(path.relative_to(ROOT))] = bad
    assert offenders == {}


def test_layering_every_backend_package_says_what_it_owns() -> None:
    """A package's docstring names what it owns and what it may import."""
    missing = [str(init.relative_to(ROOT)) for init in (ROOT / "backend").rglob("__init__.py")
               if not ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))]
    assert missing == []
    units = {p.name for p in (ROOT / "backend").iterdir() if (p / "__init__.py").exists()}
    assert units - {"api"} <= set(BACKEND_MAY_IMPORT)


def _top_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_layering_only_the_load_engine_imports_locust_or_gevent() -> None:
    """The backend, the emulator and the command line never run under gevent's patches;
    and no plain module of the load package imports the engine's modules."""
    engine = {m.removesuffix(".py").replace("/", ".") for m in ENGINE_MODULES}
    offenders: dict[str, list[str]] = {}
    for package in sorted(OURS):
        for path in (ROOT / package).rglob("*.py"):
            name = str(path.relative_to(ROOT))
            if name in ENGINE_MODULES:
                continue
            bad = sorted(m for m in _top_imports(path)
                         if m.split(".")[0] in GEVENT_WORLD or m in engine)
            if bad:
                offenders[name] = bad
    assert offenders == {}
