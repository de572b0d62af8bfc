"""The CLI's one way to call the backend's HTTP API: URL, role headers, errors.

Every command that talks to a running backend goes through ``call``, so they agree on
where the API is (``--api-url``, else ``$TELEMATICS_API_URL``, else the local default),
on who they are (the OEM's operations staff, ``X-Role: operator``) and on how a failure
reads: one line naming the URL or the API's detail, and exit code 1.
"""

from __future__ import annotations

import os
from typing import Any, Final, NoReturn

import httpx
import typer

DEFAULT_API_URL: Final = "http://127.0.0.1:8080"
OPERATOR: Final = {"X-Role": "operator"}  # who the CLI speaks for (see backend.access)
EXIT_API: Final = 1


class ApiError(RuntimeError):
    """The API was unreachable or answered with an error; the message says which."""


def api_base(option: str | None) -> str:
    return option or os.environ.get("TELEMATICS_API_URL", DEFAULT_API_URL)


def describe_error(status: int, body: object) -> str:
    """One line from an API error: its message, field and rule, or pydantic's list."""
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, dict):
        text = str(detail.get("message", detail))
        named = [f"{k}: {detail[k]}" for k in ("field", "rule") if detail.get(k)]
        if named:
            text += f" ({'; '.join(named)})"
    elif isinstance(detail, list):
        text = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', [])[1:])}: {e.get('msg', e)}"
            if isinstance(e, dict) else str(e) for e in detail)
    else:
        text = str(detail)
    return " ".join(f"HTTP {status}: {text}".split())


def request(api_url: str | None, method: str, path: str, *, body: object = None,
            params: dict[str, str] | None = None,
            transport: httpx.BaseTransport | None = None, timeout_s: float = 10.0) -> Any:
    """The decoded answer; ``ApiError`` when unreachable or on an error status."""
    url = api_base(api_url)
    try:
        with httpx.Client(base_url=url, timeout=timeout_s, headers=OPERATOR,
                          transport=transport) as client:
            response = client.request(method, path, json=body, params=params)
    except httpx.HTTPError as exc:
        raise ApiError(f"cannot reach the backend API at {url} ({type(exc).__name__}: {exc});"
                       " start it with `telematics up` or `telematics backend run`, or set "
                       "--api-url / $TELEMATICS_API_URL") from None
    try:
        data = response.json() if response.content else None
    except ValueError:
        data = response.text
    if response.is_error:
        raise ApiError(describe_error(response.status_code, data))
    return data


def fail(message: str, code: int = EXIT_API) -> NoReturn:
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    raise typer.Exit(code=code)


def call(api_url: str | None, method: str, path: str, **kwargs: Any) -> Any:
    """``request`` for a command: an ``ApiError`` ends the command with its one line."""
    try:
        return request(api_url, method, path, **kwargs)
    except ApiError as exc:
        fail(str(exc))
