"""Bearer tokens of the HTTP API: OAuth 2 JWTs, checked in the service itself.

A token is accepted when its signature verifies with the configured key, with the
algorithm that key pins (ES256 for a P-256 key, RS256 for an RSA key: ``alg: none`` and
HMAC are refused whatever the token's header says, so a public key can never be used
as an HMAC secret), when ``iss`` and ``aud`` are the configured ones, ``exp`` has not
passed and ``nbf`` (when present) has, and when it carries ``sub``, ``iat`` and the
``role`` claim (and ``party`` for a PSAP or a partner) that ``backend.api.access`` turns
into a ``Caller``. Anything else is a ``TokenError`` (HTTP 401).

Keys come from one of three sources (``BackendSettings``): a PEM public key (the local
key pair ``telematics up`` creates), a JWKS file, or an OpenID Connect provider's JWKS
URL, fetched and cached by ``PyJWKClient``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from backend.api.access import PARTY_CLAIM, ROLE_CLAIM, Caller, caller_from_claims
from backend.api.errors import (
    AuthSettingsError,
    IdentityError,
    TokenError,
    TokenKeysUnavailableError,
)
from backend.settings import BackendSettings

ALGORITHMS: Final = ("ES256", "RS256")
REQUIRED_CLAIMS: Final = ("exp", "iat", "iss", "aud", "sub", ROLE_CLAIM)


# The key and the one algorithm it may verify, for a given (unverified) token.
KeyLookup = Callable[[str], tuple[Any, str]]


def _algorithm_of(key: object) -> str:
    if isinstance(key, EllipticCurvePublicKey) and isinstance(key.curve, SECP256R1):
        return "ES256"
    if isinstance(key, RSAPublicKey):
        return "RS256"
    raise AuthSettingsError(f"a {type(key).__name__} cannot verify ES256 or RS256 tokens")


def pem_keys(pem: bytes) -> KeyLookup:
    """One PEM public key: P-256 pins ES256, RSA pins RS256."""
    key = load_pem_public_key(pem)
    algorithm = _algorithm_of(key)
    return lambda _token: (key, algorithm)


def jwks_keys(document: str) -> KeyLookup:
    """The keys of a JWKS document, picked by the token's ``kid`` (any, if it has none)."""
    keys = [k for k in jwt.PyJWKSet.from_json(document).keys if k.algorithm_name in ALGORITHMS]
    if not keys:
        raise AuthSettingsError("the JWKS holds no ES256 or RS256 key")

    def lookup(token: str) -> tuple[Any, str]:
        kid = jwt.get_unverified_header(token).get("kid")
        for k in keys:
            if kid is None or k.key_id == kid:
                return k.key, k.algorithm_name
        raise jwt.InvalidKeyError(f"no key with kid {kid!r} in the JWKS")

    return lookup


def jwks_url_keys(url: str) -> KeyLookup:
    """An OpenID Connect provider's JWKS endpoint, cached and refreshed by ``PyJWKClient``."""
    client = jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=5)

    def lookup(token: str) -> tuple[Any, str]:
        try:
            found = client.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as exc:
            raise TokenKeysUnavailableError(f"identity provider keys unavailable: {exc}") from None
        if found.algorithm_name not in ALGORITHMS:
            raise jwt.InvalidAlgorithmError(f"key {found.key_id!r} is not ES256 or RS256")
        return found.key, found.algorithm_name

    return lookup


@dataclass(frozen=True, slots=True)
class TokenVerifier:
    """Checks a bearer token and names its caller; ``keys`` None refuses every token."""

    issuer: str
    audience: str
    keys: KeyLookup | None
    leeway_s: float = 30.0

    def caller(self, token: str) -> Caller:
        """The caller the token vouches for, or ``TokenError`` saying why not."""
        if self.keys is None:
            raise TokenError("the API has no token key configured: every token is refused")
        try:
            key, algorithm = self.keys(token)
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=[algorithm], audience=self.audience, issuer=self.issuer,
                leeway=self.leeway_s, options={"require": list(REQUIRED_CLAIMS)})
        except jwt.PyJWTError as exc:
            raise TokenError(f"invalid token: {exc}") from None
        try:
            return caller_from_claims(claims.get(ROLE_CLAIM), claims.get(PARTY_CLAIM))
        except IdentityError as exc:
            raise TokenError(str(exc)) from None


def verifier_from(settings: BackendSettings) -> TokenVerifier:
    """The verifier the settings describe; at most one key source may be set."""
    sources = {name: value for name, value in (
        ("auth_public_key_file", settings.auth_public_key_file),
        ("auth_jwks_file", settings.auth_jwks_file),
        ("auth_jwks_url", settings.auth_jwks_url)) if value}
    if len(sources) > 1:
        raise AuthSettingsError(f"set one token key source, not {', '.join(sources)}")
    keys: KeyLookup | None = None
    if settings.auth_public_key_file:
        keys = pem_keys(Path(settings.auth_public_key_file).read_bytes())
    elif settings.auth_jwks_file:
        keys = jwks_keys(Path(settings.auth_jwks_file).read_text(encoding="utf-8"))
    elif settings.auth_jwks_url:
        keys = jwks_url_keys(settings.auth_jwks_url)
    return TokenVerifier(settings.auth_issuer, settings.auth_audience, keys,
                         settings.auth_leeway_s)


def jwks_document(pem: bytes, *, kid: str) -> str:
    """A JWKS holding one PEM public key, for a deployment that prefers a JWKS file."""
    key = load_pem_public_key(pem)
    algorithm = _algorithm_of(key)
    jwk = json.loads(jwt.get_algorithm_by_name(algorithm).to_jwk(key))
    return json.dumps({"keys": [{**jwk, "kid": kid, "alg": algorithm, "use": "sig"}]})
