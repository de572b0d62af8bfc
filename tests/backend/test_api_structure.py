"""The API's shape, checked: route modules never touch Redis, every route has a response
model, each path prefix is one module's, and no handler writes its own error response."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute
from pydantic import BaseModel

import backend.api.routes
from backend.api.error_statuses import STATUS, errors, status_of
from backend.errors import BackendError
from backend.infra.errors import StoreUnavailableError
from backend.ota.errors import CampaignSpecError
from backend.privacy.errors import ErasureRefusedError, PrivacyError, RetentionError

API = Path(backend.api.routes.__file__).parents[1]
ROUTES = API / "routes"
# Where a Redis client is found in a handler: the request's state and the stores.
REDIS_HOLDERS = frozenset({"oem", "psap", "redis"})


def _route_modules() -> list[ModuleType]:
    return [importlib.import_module(m.name) for m in
            pkgutil.iter_modules(backend.api.routes.__path__, "backend.api.routes.")]


def _routes(module: ModuleType) -> list[APIRoute]:
    router = module.router
    assert isinstance(router, APIRouter), module.__name__
    return [r for r in router.routes if isinstance(r, APIRoute)]


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def redis_touches(tree: ast.Module) -> list[str]:
    """Imports of the redis library, and calls on a Redis client held as ``oem``, ``psap``
    or ``redis`` (``state.oem.hgetall(...)``, ``oem.pipeline()``)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "redis"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "redis":
            found.append(f"from {node.module}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            holder = node.func.value
            name = (holder.attr if isinstance(holder, ast.Attribute)
                    else holder.id if isinstance(holder, ast.Name) else "")
            if name in REDIS_HOLDERS:
                found.append(f"{name}.{node.func.attr}(...) line {node.lineno}")
    return found


def test_api_structure_reads_redis_touches() -> None:
    """The checker itself: it sees an import, a call on the state's client, a pipeline."""
    tree = ast.parse("import redis.asyncio\nfrom redis.exceptions import RedisError\n"
                     "await state.oem.hgetall('k')\nasync with oem.pipeline() as p: pass\n"
                     "await retention_store.report(state.oem, now=1)\n")
    assert redis_touches(tree) == ["redis.asyncio", "from redis.exceptions",
                                   "oem.hgetall(...) line 3", "oem.pipeline(...) line 4"]


@pytest.mark.parametrize("path", sorted(ROUTES.glob("*.py")), ids=lambda p: p.name)
def test_api_structure_handlers_call_stores_never_redis(path: Path) -> None:
    """A route module imports nothing of redis and calls no Redis client: it hands the
    client to the store functions of the package that owns the keys."""
    assert redis_touches(_tree(path)) == []


def test_api_structure_every_route_has_a_response_model() -> None:
    """Each route states what it answers as a model (not an open ``dict``, which FastAPI
    would take from a return annotation); only a 204 answers nothing."""
    missing = [f"{r.methods} {r.path}" for m in _route_modules() for r in _routes(m)
               if r.status_code != 204 and not (isinstance(r.response_model, type)
                                                and issubclass(r.response_model, BaseModel))]
    assert missing == []
    assert sum(len(_routes(m)) for m in _route_modules()) >= 38


def test_api_structure_one_module_per_resource() -> None:
    """Every first path segment (``/vehicles``, ``/desks``...) is served by one module."""
    owners: dict[str, set[str]] = {}
    for module in _route_modules():
        for route in _routes(module):
            segment = route.path.strip("/").split("/")[0]
            owners.setdefault(segment, set()).add(module.__name__.rsplit(".", 1)[-1])
    assert {s: o for s, o in owners.items() if len(o) > 1} == {}
    assert owners["vehicles"] == {"vehicles"}


def test_api_structure_no_hand_written_error_responses() -> None:
    """Handlers raise the backend's errors; only the exception handlers build error
    responses, so no module of the API names ``HTTPException``."""
    naming = sorted(str(path.relative_to(API)) for path in API.rglob("*.py")
                    if path.name != "error_handlers.py"
                    and any(isinstance(n, ast.Name | ast.alias)
                            and "HTTPException" in (n.id if isinstance(n, ast.Name)
                                                    else n.name)
                            for n in ast.walk(_tree(path))))
    assert naming == []


def test_api_structure_status_is_the_nearest_ancestors() -> None:
    """An error answers the status of the nearest class the table names; a class the
    table does not know answers its ancestors' (at worst ``BackendError``'s 500)."""
    assert all(issubclass(c, BackendError) for c in STATUS)
    assert (status_of(RetentionError), status_of(ErasureRefusedError)) == (422, 409)
    assert status_of(PrivacyError) == 500
    documented = errors(422, CampaignSpecError, StoreUnavailableError)
    assert sorted(documented) == [422, 503]
    assert documented[422]["description"].startswith("The request does not fit the schema")
    assert "described wrongly" in documented[422]["description"]
