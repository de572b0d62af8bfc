"""Bearer token validation: every way a token can be wrong is a 401 with the Bearer challenge.

The verifier is checked on its own (``TokenVerifier.caller``) and behind a route
(``CallerDep``), with the tests' P-256 key, an RSA key served as a JWKS file and over
HTTP from 127.0.0.1 (as an OpenID Connect provider's ``jwks_uri`` would be).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI

from backend.api.access import Caller
from backend.api.access_deps import CallerDep
from backend.api.errors import AuthSettingsError, TokenError
from backend.api.tokens import (
    TokenVerifier,
    jwks_document,
    verifier_from,
)
from backend.settings import BackendSettings
from cli.token import ensure_key_pair, key_pair_in, mint
from tests.backend.support import signer
from vehicle_sim.api_role import bearer

ISSUER, AUDIENCE = BackendSettings().auth_issuer, BackendSettings().auth_audience


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "tester", "iat": now, "nbf": now,
              "exp": now + 600, "role": "psap", "party": "NL"}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _private_pem() -> bytes:
    return signer().keys.private.read_bytes()


def _public_pem() -> bytes:
    return signer().keys.public.read_bytes()


def _other_key_token() -> str:
    other = ec.generate_private_key(ec.SECP256R1())
    return jwt.encode(_claims(), other, algorithm="ES256")


def _hs256_with_public_key() -> str:
    """The classic key-confusion forgery: the public key as an HMAC secret."""
    head = _unsigned({"alg": "HS256", "typ": "JWT"}, _claims(role="operator", party=None))
    mac = hmac.new(_public_pem(), head.encode(), hashlib.sha256).digest()
    return f"{head}.{_b64(mac)}"


def _alg_none() -> str:
    return _unsigned({"alg": "none", "typ": "JWT"}, _claims(role="operator", party=None)) + "."


def _signed(**changes: Any) -> Callable[[], str]:
    return lambda: jwt.encode(_claims(**changes), _private_pem(), algorithm="ES256")


def _tampered() -> str:
    """A valid token whose payload was swapped for the operator's."""
    head, _, signature = jwt.encode(_claims(), _private_pem(), algorithm="ES256").split(".")
    forged = _b64(json.dumps(_claims(role="operator", party=None)).encode())
    return f"{head}.{forged}.{signature}"


# Each bad token, and the words of the reason the 401 gives.
BAD_TOKENS: dict[str, tuple[Callable[[], str], str]] = {
    "expired": (_signed(exp=int(time.time()) - 120), "Signature has expired"),
    "not yet valid": (_signed(nbf=int(time.time()) + 600), "not yet valid (nbf)"),
    "wrong issuer": (_signed(iss="https://evil.example"), "Invalid issuer"),
    "wrong audience": (_signed(aud="another-api"), "Audience doesn't match"),
    "wrong signature": (_other_key_token, "Signature verification failed"),
    "tampered claims": (_tampered, "Signature verification failed"),
    "missing exp": (_signed(exp=None), 'missing the "exp" claim'),
    "missing sub": (_signed(sub=None), 'missing the "sub" claim'),
    "missing role": (_signed(role=None, party=None), 'missing the "role" claim'),
    "missing party": (_signed(party=None), "missing claim party: role psap needs"),
    "alg none": (_alg_none, "alg value is not allowed"),
    "HS256 with the public key": (_hs256_with_public_key, "alg value is not allowed"),
    "not a JWT": (lambda: "not-a-token", "Not enough segments"),
}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_api_tokens_verifier_refuses(case: str) -> None:
    """Each bad token is a TokenError; the good one names its caller."""
    verifier = signer().verifier
    make, reason = BAD_TOKENS[case]
    with pytest.raises(TokenError) as refused:
        verifier.caller(make())
    assert reason in str(refused.value)
    assert verifier.caller(jwt.encode(_claims(), _private_pem(), algorithm="ES256")) == Caller(
        "psap", "NL")


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    app = signer().install(FastAPI())

    @app.get("/who")
    async def who(caller: CallerDep) -> dict[str, str]:
        return {"role": caller.role, "party": caller.party}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as client:
        yield client


@pytest.mark.parametrize("case", list(BAD_TOKENS))
async def test_api_tokens_route_answers_401_with_challenge(http: httpx.AsyncClient,
                                                           case: str) -> None:
    """A bad token behind a route: 401, ``WWW-Authenticate: Bearer ... invalid_token``."""
    make, reason = BAD_TOKENS[case]
    response = await http.get("/who", headers=bearer(make()))
    assert response.status_code == 401, response.text
    assert reason in response.json()["message"]
    assert response.headers["www-authenticate"] == (
        'Bearer realm="telematics", error="invalid_token"')


async def test_api_tokens_route_names_the_caller_of_a_good_token(
        http: httpx.AsyncClient) -> None:
    """A token minted with the local key signs in as its role and party."""
    response = await http.get("/who", headers=bearer(signer().token("partner", "sp-be-ant")))
    assert response.json() == {"role": "partner", "party": "sp-be-ant"}


async def test_api_tokens_route_refuses_other_schemes_and_headers(
        http: httpx.AsyncClient) -> None:
    """Basic credentials, a bare token, role headers: all 401 with a plain Bearer challenge."""
    for headers in ({"Authorization": "Basic b3BlcmF0b3I6eA=="},
                    {"Authorization": signer().token("operator")},
                    {"X-Role": "operator"}):
        response = await http.get("/who", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"


def test_api_tokens_no_key_configured_refuses_everything() -> None:
    """An API given no key source refuses even a well-signed token."""
    verifier = verifier_from(BackendSettings())
    with pytest.raises(TokenError, match="no token key configured"):
        verifier.caller(signer().token("operator"))


def test_api_tokens_one_key_source_only(tmp_path: Path) -> None:
    """Two key sources at once is a settings error, not a silent choice."""
    with pytest.raises(AuthSettingsError, match="set one token key source"):
        verifier_from(BackendSettings(auth_public_key_file=str(signer().keys.public),
                                      auth_jwks_url="https://idp.example/jwks"))


def _rsa_pair() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return key, public


def test_api_tokens_jwks_file_picks_the_key_by_kid(tmp_path: Path) -> None:
    """RS256 through a JWKS file: the kid selects the key; an unknown kid is refused."""
    key, public = _rsa_pair()
    path = tmp_path / "jwks.json"
    path.write_text(jwks_document(public, kid="k1"), encoding="utf-8")
    verifier = verifier_from(BackendSettings(auth_jwks_file=str(path)))
    good = jwt.encode(_claims(role="traffic", party=None), key, algorithm="RS256",
                      headers={"kid": "k1"})
    assert verifier.caller(good) == Caller("traffic")
    with pytest.raises(TokenError, match="no key with kid"):
        verifier.caller(jwt.encode(_claims(), key, algorithm="RS256", headers={"kid": "k2"}))
    with pytest.raises(TokenError):
        verifier.caller(jwt.encode(_claims(), _private_pem(), algorithm="ES256",
                                   headers={"kid": "k1"}))


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, rsa.RSAPrivateKey]]:
    """An identity provider's JWKS endpoint on 127.0.0.1."""
    key, public = _rsa_pair()
    body = jwks_document(public, kid="idp-1").encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks", key
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_api_tokens_jwks_url_of_an_oidc_provider(
        jwks_server: tuple[str, rsa.RSAPrivateKey]) -> None:
    """A deployment's provider: keys fetched from its JWKS URL, its issuer and audience."""
    url, key = jwks_server
    verifier = verifier_from(BackendSettings(auth_jwks_url=url, auth_issuer="https://idp.test",
                                             auth_audience="telematics"))
    claims = _claims(iss="https://idp.test", aud="telematics", role="operator", party=None)
    assert verifier.caller(jwt.encode(claims, key, algorithm="RS256",
                                      headers={"kid": "idp-1"})) == Caller("operator")
    with pytest.raises(TokenError):
        verifier.caller(jwt.encode(_claims(), key, algorithm="RS256", headers={"kid": "idp-1"}))


def test_api_tokens_local_key_pair_is_private(tmp_path: Path) -> None:
    """The run directory's private key is mode 0600, kept across calls, and signs tokens
    the matching verifier accepts."""
    pair = ensure_key_pair(tmp_path)
    assert pair == key_pair_in(tmp_path)
    assert pair.private.stat().st_mode & 0o777 == 0o600
    first = pair.private.read_bytes()
    assert ensure_key_pair(tmp_path).private.read_bytes() == first
    verifier = TokenVerifier(ISSUER, AUDIENCE, None)
    with pytest.raises(TokenError):
        verifier.caller(mint(first, role="operator", issuer=ISSUER, audience=AUDIENCE))
    local = verifier_from(BackendSettings(auth_public_key_file=str(pair.public)))
    assert local.caller(mint(first, role="operator", issuer=ISSUER, audience=AUDIENCE)) == (
        Caller("operator"))
