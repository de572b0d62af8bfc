"""Local sign-in: the platform's own signing key pair, and tokens minted with it.

Whoever starts the stack locally (``telematics up``, ``telematics backend run``, the
tests) creates a P-256 key pair in the run directory (``auth/signing-key.pem``, mode
0600, and ``auth/signing-key.pub.pem``) and gives the API the public half; every command
that calls the API then signs its own ES256 token with the private half. A deployment
instead points the API at its OpenID Connect provider and passes that provider's tokens
(``--token`` / ``$TELEMATICS_TOKEN``); the private key never leaves the machine.

``telematics token --role psap --party NL --ttl 1h`` prints one for any role.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Final

import jwt
import typer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from backend.settings import BackendSettings
from cli.output import bad_input, fail
from protocols.errors import ProtocolError
from protocols.units import parse_duration

DEFAULT_RUN_DIR: Final = Path(".run")
KEY_DIR: Final = "auth"
PRIVATE_NAME: Final = "signing-key.pem"
PUBLIC_NAME: Final = "signing-key.pub.pem"
DEFAULT_TTL_S: Final = 3600.0
SUBJECT: Final = "telematics-cli"


class TokenSetupError(RuntimeError):
    """No local key to sign with, or a key that cannot be used; the message says which."""


@dataclass(frozen=True, slots=True)
class KeyPair:
    private: Path
    public: Path


def key_pair_in(run_dir: Path) -> KeyPair:
    """Where a run directory keeps its signing key pair (whether or not it exists yet)."""
    folder = run_dir / KEY_DIR
    return KeyPair(folder / PRIVATE_NAME, folder / PUBLIC_NAME)


def ensure_key_pair(run_dir: Path) -> KeyPair:
    """The run directory's key pair, created on first use (private key mode 0600)."""
    pair = key_pair_in(run_dir)
    if pair.private.exists() and pair.public.exists():
        return pair
    pair.private.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    pair.private.unlink(missing_ok=True)
    fd = os.open(pair.private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(private)
    pair.public.write_bytes(public)
    return pair


def mint(private_pem: bytes, *, role: str, party: str = "", ttl_s: float = DEFAULT_TTL_S,
         issuer: str, audience: str, now: float | None = None,
         subject: str = SUBJECT) -> str:
    """An ES256 token for ``role`` (and ``party``), valid from now for ``ttl_s``."""
    at = int(time.time() if now is None else now)
    claims: dict[str, object] = {"iss": issuer, "aud": audience, "sub": subject, "iat": at,
                                 "nbf": at, "exp": at + int(ttl_s), "jti": uuid.uuid4().hex,
                                 "role": role}
    if party:
        claims["party"] = party
    return jwt.encode(claims, private_pem, algorithm="ES256")


def local_signing_key(environ: dict[str, str] | None = None) -> Path | None:
    """The private key to sign with: ``$TELEMATICS_SIGNING_KEY``, else the default run
    directory's, if it exists."""
    env = os.environ if environ is None else environ
    named = env.get("TELEMATICS_SIGNING_KEY")
    path = Path(named) if named else key_pair_in(DEFAULT_RUN_DIR).private
    return path if path.is_file() else None


def mint_with(key: Path, *, role: str, party: str = "",
              ttl_s: float = DEFAULT_TTL_S) -> str:
    """A token signed with the key at ``key``, for the issuer and audience the backend's
    settings name (``$TELEMATICS_AUTH_ISSUER`` / ``_AUDIENCE`` or the local defaults)."""
    settings = BackendSettings()
    try:
        return mint(key.read_bytes(), role=role, party=party, ttl_s=ttl_s,
                    issuer=settings.auth_issuer, audience=settings.auth_audience)
    except (OSError, ValueError, jwt.PyJWTError) as exc:
        raise TokenSetupError(f"cannot sign with {key}: {exc}") from None


def operator_token(explicit: str | None = None, *, ttl_s: float = DEFAULT_TTL_S
                   ) -> str | None:
    """The token a command speaks with: ``--token``, ``$TELEMATICS_TOKEN``, else one it
    signs itself as the operator with the local key; None when there is none of these."""
    token = explicit or os.environ.get("TELEMATICS_TOKEN")
    if token:
        return token
    key = local_signing_key()
    return None if key is None else mint_with(key, role="operator", ttl_s=ttl_s)


def token(
    role: Annotated[str, typer.Option(help="operator, callcentre, psap, partner, assistance "
                                      "or traffic")],
    party: Annotated[str, typer.Option(help="psap: the country code (NL); partner: its id "
                                       "(sp-be-ant)")] = "",
    ttl: Annotated[str, typer.Option(help="how long it is valid: 90s, 15min, 1h, 1d")] = "1h",
    key: Annotated[Path | None, typer.Option(help="private key (default: "
                                             "$TELEMATICS_SIGNING_KEY, else "
                                             ".run/auth/signing-key.pem)")] = None,
) -> None:
    """Print a bearer token signed with the local key, for curl or another client."""
    from backend.api.access import caller_from_claims
    from backend.api.errors import IdentityError

    try:
        caller_from_claims(role, party)
        ttl_s = parse_duration(ttl)
    except (IdentityError, ProtocolError) as exc:
        bad_input(str(exc))
    signing = key if key is not None else local_signing_key()
    if signing is None:
        fail("no local signing key: start the stack with `telematics up` or "
             "`telematics backend run`, or pass --key")
    try:
        typer.echo(mint_with(signing, role=role, party=party, ttl_s=ttl_s))
    except TokenSetupError as exc:
        fail(str(exc))
