"""The JSON Schema of scenario files, generated from the scenario's models.

Shipped as ``scenarios/scenario.schema.json`` so an editor validates a file as it is
written (a ``# yaml-language-server: $schema=scenario.schema.json`` line at its top).
It describes the file as written, not the models' parsed values: pydantic's schema is
taken as it is, and only what it cannot say is put in words here: a clock step is
``at: <ISO instant>`` (read into ``instant``), and its numeric bounds use the JSON
Schema keywords. Regenerate with ``telematics sim schema --write``; a test fails while
the shipped file differs from what the models generate.
"""

from __future__ import annotations

import json
from typing import Any, Final

from vehicle_sim.scenario import SCENARIO_DIR, Scenario

SCHEMA_PATH: Final = SCENARIO_DIR / "scenario.schema.json"
REGENERATE: Final = "telematics sim schema --write"
DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
# pydantic writes a bound it applies after a validator under its own name; JSON Schema
# calls it this (and applies it to numbers only, as the validator does after reading).
_BOUNDS: Final = {"ge": "minimum", "gt": "exclusiveMinimum", "le": "maximum",
                  "lt": "exclusiveMaximum"}


def _json_bounds(node: Any) -> Any:
    if isinstance(node, dict):
        return {_BOUNDS.get(k, k) if not isinstance(v, dict | list) else k: _json_bounds(v)
                for k, v in node.items()}
    if isinstance(node, list):
        return [_json_bounds(v) for v in node]
    return node


def scenario_schema() -> dict[str, Any]:
    """The schema of a scenario file, as the shipped file holds it."""
    schema: dict[str, Any] = _json_bounds(Scenario.model_json_schema(mode="validation"))
    clock = schema["$defs"]["ClockEvent"]
    clock.pop("required", None)
    clock["anyOf"] = [{"required": ["at"]}, {"required": ["instant"]}]
    clock["properties"]["at"]["description"] = "the ISO 8601 instant the clock moves to"
    return {"$schema": DIALECT, **schema,
            "description": "A scenario of the telematics emulator: vehicles, timed events "
                           "and expectations (README, Scenario files)."}


def schema_text() -> str:
    """The schema as the shipped file is written: two-space JSON, keys in model order."""
    return json.dumps(scenario_schema(), indent=2, ensure_ascii=False) + "\n"
