"""``bench sim`` on a tiny run: the JSON shape and the deadline (no figures judged)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from bench.sim import build_car, measure_in_process
from cli.main import app


def test_bench_sim_json_is_one_compact_object_on_the_last_line() -> None:
    done = CliRunner().invoke(app, ["bench", "sim", "--count", "3", "--traced", "2",
                                    "--max-s", "30", "--json"])
    assert done.exit_code == 0, done.output
    last = done.output.strip().splitlines()[-1]
    figures = json.loads(last)
    assert figures["benchmark"] == "sim"
    assert last == json.dumps(figures, separators=(",", ":"))  # compact, one line
    assert [(r["kind"], r["asked"]) for r in figures["runs"]] == [("car", 3), ("fleet", 3)]
    for run in figures["runs"]:
        assert run["reached"] == 3 and run["traced_cars"] == 2
        assert run["baseline_rss_mb"] > 0 and run["traced_per_car_kb"] > 0
    assert figures["most"] == {"car": 3, "fleet": 3}
    assert "baseline:" in done.output


def test_bench_sim_stops_building_cars_at_its_deadline() -> None:
    run = measure_in_process("car", 50_000, 1e-9, 1)
    assert run["reached"] < 50_000
    assert run["rss_per_car_kb"] is None or run["reached"] > 0


def test_bench_sim_cars_are_distinct_cars() -> None:
    cars = [build_car(i) for i in range(40)]
    assert len({car.spec.vin for car in cars}) == 40
