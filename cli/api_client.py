"""The CLI's one way to call the backend's HTTP API: URL, bearer token, errors.

Every command that talks to a running backend goes through ``call``, so they agree on
where the API is (``--api-url``, else ``$TELEMATICS_API_URL``, else the API of a
``telematics up`` running from this directory (``cli.running_up``), else the local default),
on who they are (``--token``, else ``$TELEMATICS_TOKEN``, else a token they sign
themselves as the OEM's operations staff with the local key, ``cli.token``) and on how a
failure reads: one line naming the URL or the API's error (its message, field and rule),
and exit code 1 (``cli.output``).
"""

from __future__ import annotations

import os
from typing import Annotated, Any, Final

import httpx
import typer

from cli.output import fail
from cli.running_up import running_api_url
from cli.token import TokenSetupError, operator_token
from vehicle_sim.api_role import bearer

DEFAULT_API_URL: Final = "http://127.0.0.1:8080"
# Tests put an ``httpx.MockTransport`` here to answer every command; None is the network.
TRANSPORT: httpx.BaseTransport | None = None
TokenOpt = Annotated[str | None, typer.Option(
    "--token", help="bearer token (default: $TELEMATICS_TOKEN, else one signed as the "
                    "operator with the local key)")]
NO_TOKEN_HINT: Final = ("; pass --token or set $TELEMATICS_TOKEN (`telematics token --role "
                        "operator` prints one when the stack runs locally)")


class ApiError(RuntimeError):
    """The API was unreachable or answered with an error; the message says which."""


def api_base(option: str | None) -> str:
    return (option or os.environ.get("TELEMATICS_API_URL") or running_api_url()
            or DEFAULT_API_URL)


def describe_error(status: int, body: object) -> str:
    """One line from the API's error body ``{message, field, rule}``: the message, then the
    field and the rule where they add to it; anything else (a proxy's page) as it came."""
    if isinstance(body, dict) and "message" in body:
        text = str(body["message"])
        named = [f"{k}: {body[k]}" for k in ("field", "rule")
                 if body.get(k) and str(body[k]) not in text]
        if named:
            text += f" ({'; '.join(named)})"
    else:
        text = str(body)
    return " ".join(f"HTTP {status}: {text}".split())


def unreachable(url: str, exc: Exception) -> str:
    """The one line every command says when the API does not answer, with what to do."""
    return (f"cannot reach the backend API at {url} ({type(exc).__name__}: {exc}); start it "
            "with `telematics up` or `telematics backend run`, or set --api-url / "
            "$TELEMATICS_API_URL")


def request(api_url: str | None, method: str, path: str, *, body: object = None,
            params: dict[str, str] | None = None, token: str | None = None,
            transport: httpx.BaseTransport | None = None, timeout_s: float = 10.0) -> Any:
    """The decoded answer; ``ApiError`` when unreachable or on an error status."""
    url = api_base(api_url)
    try:
        signed_in = operator_token(token)
    except TokenSetupError as exc:
        raise ApiError(str(exc)) from None
    headers = bearer(signed_in) if signed_in else {}
    try:
        with httpx.Client(base_url=url, timeout=timeout_s, headers=headers,
                          transport=transport or TRANSPORT) as client:
            response = client.request(method, path, json=body, params=params)
    except httpx.HTTPError as exc:
        raise ApiError(unreachable(url, exc)) from None
    try:
        data = response.json() if response.content else None
    except ValueError:
        data = response.text
    if response.is_error:
        hint = NO_TOKEN_HINT if response.status_code == 401 and not signed_in else ""
        raise ApiError(describe_error(response.status_code, data) + hint)
    return data


def call(api_url: str | None, method: str, path: str, **kwargs: Any) -> Any:
    """``request`` for a command: an ``ApiError`` ends the command with its one line."""
    try:
        return request(api_url, method, path, **kwargs)
    except ApiError as exc:
        fail(str(exc))
