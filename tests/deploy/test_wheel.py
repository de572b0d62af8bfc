"""A built wheel carries the shipped scenarios and load profiles and finds them.

Only an editable install found them before: they live at the top of the repository, and
setup.py ships them inside ``vehicle_sim`` and ``loadtest``. The wheel is built from a
copy of the sources (no build output in the checkout) and installed with ``--target``
into a folder that a fresh interpreter imports first, from a directory with no sources.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "protocols", "vehicle_sim", "backend",
           "cli", "bench", "chaos", "pki", "loadtest", "scenarios", "profiles")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")
# Run by the installed copy: where its packages are, and what it finds and loads.
PROBE = """
import json, vehicle_sim
from loadtest.profile import PROFILE_DIR, load as load_profile
from vehicle_sim.scenario import REFUSED_DIR, SCENARIO_DIR, load
from vehicle_sim.scenario_schema import SCHEMA_PATH
print(json.dumps({"package": vehicle_sim.__file__, "scenarios": str(SCENARIO_DIR),
                  "default_vehicles": len(load("default").vehicles),
                  "refused": len(list(REFUSED_DIR.glob("*.yaml"))),
                  "schema": SCHEMA_PATH.is_file(), "profiles": str(PROFILE_DIR),
                  "fleet_day": load_profile("fleet_day").name}))
"""


def _run(*argv: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.timeout(300)
def test_wheel_ships_the_scenarios_and_profiles_and_finds_them(tmp_path: Path) -> None:
    source, wheels, site, elsewhere = (tmp_path / n for n in ("src", "whl", "site", "cwd"))
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=IGNORED)
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check", "-q")
    _run(*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(source),
         cwd=tmp_path)
    [wheel] = wheels.glob("telematics_platform-*.whl")
    _run(*pip, "install", "--no-deps", "--no-compile", "--target", str(site), str(wheel),
         cwd=tmp_path)
    shutil.rmtree(source)  # nothing left to find but the installed copy
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    found = json.loads(_run(sys.executable, "-c", PROBE, cwd=elsewhere, env=env))
    assert Path(found["package"]).is_relative_to(site)
    assert found["scenarios"] == str(site / "vehicle_sim" / "scenarios")
    assert found["profiles"] == str(site / "loadtest" / "profiles")
    assert found["default_vehicles"] > 0
    assert found["refused"] == len(list((ROOT / "scenarios" / "refused").glob("*.yaml")))
    assert found["schema"] is True
    assert found["fleet_day"] == "fleet_day"
    checked = _run(sys.executable, "-m", "cli.main", "sim", "check", cwd=elsewhere, env=env)
    shipped = len(list((ROOT / "scenarios").rglob("*.yaml")))
    assert sum(line.startswith("ok ") for line in checked.splitlines()) == shipped, checked
