"""Two builds are alike: every dependency has its exact version in requirements.lock, the
images have exact tags, and the image holds every folder the wheel is built from."""

from __future__ import annotations

import re
import tomllib

import yaml

from tests.deploy.test_wheel import ROOT, SOURCES

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
DOCKERFILE = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")


def _name(requirement: str) -> str:
    """The normalised distribution name (PEP 503) of ``redis[hiredis]>=5.0`` and the like."""
    bare = re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", bare).lower()


def _locked() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and version, f"not an exact pin: {line!r}"
            pins[_name(name)] = version
    return pins


def test_pinned_every_dependency_has_an_exact_version_in_the_lock() -> None:
    project = PYPROJECT["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    missing = sorted({_name(r) for r in wanted} - set(_locked()))
    assert not missing, f"not in requirements.lock (run make lock): {missing}"


def test_pinned_make_and_the_image_install_with_the_lock() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "pip install --quiet -c requirements.lock -e '.[dev]'" in makefile
    assert "pip install -c requirements.lock ." in DOCKERFILE


def test_pinned_images_have_exact_tags() -> None:
    [base] = re.findall(r"^FROM (\S+)", DOCKERFILE, flags=re.MULTILINE)
    assert re.fullmatch(r"python:3\.\d+\.\d+-slim-bookworm", base), base
    for package in ("MOSQUITTO_VERSION", "REDIS_VERSION"):
        assert re.search(rf"^ARG {package}=\S*\d", DOCKERFILE, flags=re.MULTILINE), package
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    images = {s["image"] for s in compose["services"].values()}
    assert images == {f"telematics-platform:{PYPROJECT['project']['version']}"}


def test_pinned_the_image_holds_every_folder_the_wheel_is_built_from() -> None:
    copied = {part.rstrip("/").removeprefix("./") for line in re.findall(
        r"^COPY (.+)$", DOCKERFILE, flags=re.MULTILINE) for part in line.split()}
    assert set(SOURCES) <= copied, sorted(set(SOURCES) - copied)
