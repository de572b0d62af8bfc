"""The ``telematics`` command itself: its version and its shell completion."""

from __future__ import annotations

from importlib.metadata import version

from typer.testing import CliRunner

from cli.main import DISTRIBUTION, app


def test_version_prints_the_installed_distributions_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"telematics {version(DISTRIBUTION)}"


def test_shell_completion_is_offered() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "--install-completion" in result.stdout and "--version" in result.stdout
