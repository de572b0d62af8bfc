"""Finding a YAML file a user names: a shipped one by its name, or any file by its path.

Scenarios (``scenarios/``) and load profiles (``profiles/``) are both named this way on
the command line; each caller says in its own words what it could not find. Both folders
sit at the top of the repository and are shipped inside the package that reads them
(setup.py maps ``scenarios/`` to ``vehicle_sim/scenarios`` and ``profiles/`` to
``loadtest/profiles``), so ``shipped_dir`` finds them in an installed wheel and in a
checkout alike.
"""

from __future__ import annotations

from pathlib import Path


def shipped_dir(package_file: str, name: str) -> Path:
    """The folder ``name`` shipped with the package whose module is ``package_file``:
    inside the package when installed from a wheel, else at the top of the checkout (a
    checkout or an editable install)."""
    package = Path(package_file).resolve().parent
    installed = package / name
    return installed if installed.is_dir() else package.parent / name


def find_yaml(name_or_path: str, folder: Path) -> Path | None:
    """``name_or_path`` if it is an existing ``.yaml``/``.yml`` file, else ``folder``'s
    ``NAME.yaml``; None when neither exists."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.exists():
        return path
    candidate = folder / f"{name_or_path}.yaml"
    return candidate if candidate.exists() else None


def shipped_names(folder: Path) -> str:
    """The names a user may give, for an error message: ``a, b, c`` or ``none``."""
    return ", ".join(sorted(p.stem for p in folder.glob("*.yaml"))) or "none"
