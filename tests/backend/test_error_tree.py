"""One error model: every error class of the backend is a ``BackendError`` defined in its
package's ``errors.py``, and the trees those modules draw are the classes as defined."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from types import ModuleType

import pytest

import backend
from backend.errors import BackendError

# A line of a drawn tree: the rule characters, then a class name.
_TREE_LINE = re.compile(r"^(?P<lead>\s*(?:[│ ]   )*(?:[├└]── )?)(?P<name>[A-Z]\w*Error)\b")


def _modules() -> list[ModuleType]:
    names = [m.name for m in pkgutil.walk_packages(backend.__path__, "backend.")
             if not m.name.endswith("__main__")]
    return [backend, *(importlib.import_module(n) for n in names)]


def _own_exceptions(module: ModuleType) -> list[type[BaseException]]:
    return [c for _, c in inspect.getmembers(module, inspect.isclass)
            if issubclass(c, BaseException) and c.__module__ == module.__name__]


def _error_modules() -> list[ModuleType]:
    return [m for m in _modules() if m.__name__.split(".")[-1] == "errors"]


def drawn_tree(docstring: str) -> dict[str, str | None]:
    """Each class name the docstring draws, with the name it is drawn under (None: a root)."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in docstring.splitlines():
        match = _TREE_LINE.match(line)
        if match is None:
            continue
        depth = len(match["lead"])
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[match["name"]] = stack[-1][1] if stack else None
        stack.append((depth, match["name"]))
    return parents


def test_error_tree_every_error_class_is_a_backend_error_in_an_errors_module() -> None:
    """No error class outside an ``errors.py``, none outside the ``BackendError`` tree."""
    misplaced = sorted(f"{m.__name__}.{c.__name__}" for m in _modules()
                       for c in _own_exceptions(m)
                       if m.__name__.split(".")[-1] != "errors" or not issubclass(c, BackendError))
    assert misplaced == []


def test_error_tree_reads_a_drawing() -> None:
    """The reader of the drawings itself: depth by the rule characters, not by luck."""
    assert drawn_tree("""Tree::

        RootError
        ├── AError        text
        │   └── BError
        └── CError
    """) == {"RootError": None, "AError": "RootError", "BError": "AError",
             "CError": "RootError"}


@pytest.mark.parametrize("module", _error_modules(), ids=lambda m: m.__name__)
def test_error_tree_each_errors_module_draws_its_classes_as_defined(module: ModuleType) -> None:
    """The docstring draws every class of the module, each under its one base class;
    ``backend.errors`` draws the whole tree."""
    drawn = drawn_tree(module.__doc__ or "")
    defined = {c.__name__: c for c in _own_exceptions(module)}
    if module.__name__ == "backend.errors":
        defined = {c.__name__: c for m in _error_modules() for c in _own_exceptions(m)}
    assert set(drawn) - {"BackendError"} == set(defined) - {"BackendError"}
    every = {c.__name__: c for m in _error_modules() for c in _own_exceptions(m)}
    for name, parent in drawn.items():
        bases = [b.__name__ for b in every[name].__bases__]
        assert bases == ([parent] if parent else ["Exception"]), name
