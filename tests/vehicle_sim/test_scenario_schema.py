"""The shipped JSON Schema of scenario files is the one the models generate, and every
shipped scenario is valid by it."""

from __future__ import annotations

import importlib
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from cli.main import app
from vehicle_sim.scenario import ACTIONS, SCENARIO_DIR, load
from vehicle_sim.scenario_schema import REGENERATE, SCHEMA_PATH, scenario_schema, schema_text

SHIPPED = sorted(SCENARIO_DIR.glob("*.yaml"))
MODELINE = f"# yaml-language-server: $schema={SCHEMA_PATH.name}"


def test_schema_shipped_file_is_the_generated_one() -> None:
    """Fails while the models and the shipped schema differ, saying how to regenerate."""
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        f"{SCHEMA_PATH.name} differs from the scenario models: run `{REGENERATE}`")


def test_schema_names_every_event_action() -> None:
    """Each event's action key is a property of one event definition in the schema."""
    defs = scenario_schema()["$defs"]
    keys = {key for d in defs.values() for key in d.get("properties", {})}
    assert set(ACTIONS) <= keys


def _as_json(value: Any) -> Any:
    """YAML's dates and times as an editor's YAML 1.2 reader sees them: ISO text."""
    if isinstance(value, dict):
        return {("on" if k is True else str(k)): _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_schema_every_shipped_scenario_is_valid_by_it(path: Path) -> None:
    """Every shipped scenario names the schema on its first line and validates: by the
    ``jsonschema`` package where it is installed, by the models always."""
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == MODELINE
    load(str(path))
    try:
        jsonschema: Any = importlib.import_module("jsonschema")
    except ImportError:
        return  # not a dependency of the project: the models' own validation stands
    jsonschema.validate(_as_json(yaml.safe_load(text)), json.loads(SCHEMA_PATH.read_text()))


def test_schema_command_prints_it_and_check_tells_good_from_bad(tmp_path: Path) -> None:
    """`sim schema` prints the generated schema; `sim check` exits 1 for a broken file."""
    runner = CliRunner()
    printed = runner.invoke(app, ["sim", "schema"])
    assert printed.exit_code == 0
    assert json.loads(printed.stdout) == json.loads(schema_text())
    assert runner.invoke(app, ["sim", "check"]).exit_code == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: b\nvehicles: []\ncolour: red\n", encoding="utf-8")
    checked = runner.invoke(app, ["sim", "check", str(broken)])
    assert checked.exit_code == 1
    assert "colour" in checked.stdout
