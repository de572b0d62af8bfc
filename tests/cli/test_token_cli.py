"""``telematics token`` and how the CLI's API calls sign in (``cli.token``, ``cli.api_client``)."""

from __future__ import annotations

from pathlib import Path

import httpx
import jwt
import pytest
from typer.testing import CliRunner

from backend.api.access import Caller
from backend.api.tokens import TokenVerifier, verifier_from
from backend.settings import BackendSettings
from cli.api_client import ApiError, request
from cli.main import app
from cli.token import ensure_key_pair


def _verifier(public: Path) -> TokenVerifier:
    return verifier_from(BackendSettings(auth_public_key_file=str(public)))


def test_token_cli_prints_a_token_the_api_accepts(tmp_path: Path) -> None:
    """``telematics token --role psap --party NL --ttl 15min`` signs with the given key."""
    pair = ensure_key_pair(tmp_path)
    result = CliRunner().invoke(app, ["token", "--role", "psap", "--party", "NL", "--ttl",
                                      "15min", "--key", str(pair.private)])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert _verifier(pair.public).caller(token) == Caller("psap", "NL")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 900


def test_token_cli_finds_the_key_from_the_environment(tmp_path: Path) -> None:
    """Without --key it signs with ``$TELEMATICS_SIGNING_KEY``."""
    pair = ensure_key_pair(tmp_path)
    result = CliRunner(env={"TELEMATICS_SIGNING_KEY": str(pair.private)}).invoke(
        app, ["token", "--role", "operator"])
    assert result.exit_code == 0, result.output
    assert _verifier(pair.public).caller(result.stdout.strip()) == Caller("operator")


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--role", "admin"], 2, "claim role 'admin' is not a role"),
    (["--role", "psap"], 2, "role psap needs the PSAP's country code"),
    (["--role", "operator", "--ttl", "soon"], 2, "'soon' is not a duration"),
    (["--role", "operator", "--key", "/nonexistent/key.pem"], 1, "cannot sign with"),
])
def test_token_cli_refuses_bad_options(args: list[str], code: int, message: str) -> None:
    """A role or party the API would refuse, a bad TTL or an unreadable key: one line."""
    result = CliRunner().invoke(app, ["token", *args])
    assert result.exit_code == code, result.output
    assert message in result.stderr


def test_token_cli_without_a_local_key_says_how_to_get_one(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """No key in the default run directory and none named: exit 1 naming the remedy."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEMATICS_SIGNING_KEY", raising=False)
    result = CliRunner().invoke(app, ["token", "--role", "operator"])
    assert result.exit_code == 1
    assert "no local signing key" in result.stderr


def test_token_cli_api_calls_sign_in_as_the_operator(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The API client sends ``--token`` as given, else signs as the operator with the local
    key; with neither, a 401 says how to get a token."""
    pair = ensure_key_pair(tmp_path / ".run")
    seen: list[str | None] = []

    def answer(req: httpx.Request) -> httpx.Response:
        seen.append(req.headers.get("authorization"))
        if "authorization" not in req.headers:
            return httpx.Response(401, json={"message": "missing bearer token", "field": None,
                                             "rule": None})
        return httpx.Response(200, json={"ok": True})

    transport = httpx.MockTransport(answer)
    monkeypatch.delenv("TELEMATICS_SIGNING_KEY", raising=False)
    monkeypatch.delenv("TELEMATICS_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    assert request(None, "GET", "/x", token="given", transport=transport) == {"ok": True}
    assert request(None, "GET", "/x", transport=transport) == {"ok": True}
    assert seen[0] == "Bearer given"
    assert seen[1] is not None
    signed = seen[1].removeprefix("Bearer ")
    assert _verifier(pair.public).caller(signed) == Caller("operator")
    monkeypatch.chdir(tmp_path / ".run")
    with pytest.raises(ApiError, match="HTTP 401: missing bearer token; pass --token"):
        request(None, "GET", "/x", transport=transport)
