"""Validation of EVE SSO v2 access tokens (JWTs) against CCP's signing keys, cached in Redis."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

import jwt
from django.conf import settings
from django.core.cache import cache
from pydantic import BaseModel, ValidationError

from accounts.sso import SsoError, SsoTokenInvalidError, jwks_url, sso_base_url, sso_request

logger = logging.getLogger(__name__)

EVE_AUDIENCE = "EVE Online"
_SUBJECT = re.compile(r"CHARACTER:EVE:(\d+)")


class Jwks(BaseModel):
    """A JSON Web Key Set."""

    keys: list[dict[str, Any]]


@dataclass(frozen=True)
class AccessTokenClaims:
    """What a validated access token says."""

    character_id: int
    name: str
    owner_hash: str
    scopes: list[str]
    expires_at: datetime


def _jwks_cache_key() -> str:
    """Return the Redis key of the cached JWKS for the configured SSO."""
    return f"accounts:sso:jwks:{sso_base_url()}"


def _jwks_fetch() -> list[dict[str, Any]]:
    """Fetch CCP's signing keys and cache them in Redis."""
    response = sso_request("GET", jwks_url(), what="JWKS fetch")
    if response.status_code != HTTPStatus.OK:
        raise SsoError(f"EVE SSO JWKS fetch answered HTTP {response.status_code}")
    try:
        keys = Jwks.model_validate(response.json()).keys
    except (ValueError, ValidationError):
        raise SsoError("EVE SSO JWKS is malformed") from None
    cache.set(_jwks_cache_key(), keys, timeout=int(settings.EVE_SSO_JWKS_CACHE_SECONDS))
    logger.info("EVE SSO JWKS fetched: %d keys", len(keys))
    return keys


def jwks_keys_get(*, refresh: bool = False) -> list[dict[str, Any]]:
    """Return CCP's signing keys, from the Redis cache unless ``refresh``.

    Args:
        refresh: Fetch from SSO even when cached.

    Returns:
        The JWK dictionaries.
    """
    if not refresh:
        cached = cache.get(_jwks_cache_key())
        if cached is not None:
            return list(cached)
    return _jwks_fetch()


def _key_find(keys: list[dict[str, Any]], kid: str | None) -> jwt.PyJWK | None:
    """Pick the RSA key with a key id."""
    for entry in keys:
        if entry.get("kid") == kid and entry.get("kty") == "RSA":
            try:
                return jwt.PyJWK(entry, algorithm="RS256")
            except jwt.PyJWTError:
                return None
    return None


def _signing_key(kid: str | None) -> jwt.PyJWK | None:
    """Find the signing key, refetching the JWKS once when a cached set lacks the key id."""
    cached = cache.get(_jwks_cache_key())
    key = _key_find(cached if cached is not None else _jwks_fetch(), kid)
    if key is None and cached is not None:
        logger.info("EVE SSO signing key id %r not in the cached JWKS: refetching it once", kid)
        key = _key_find(_jwks_fetch(), kid)
    return key


def _invalid(error: jwt.PyJWTError) -> SsoTokenInvalidError:
    """Translate a PyJWT error (whose message never holds the token)."""
    if isinstance(error, jwt.ExpiredSignatureError):
        return SsoTokenInvalidError("access token expired", reason="response_expired", claim="exp")
    if isinstance(error, jwt.InvalidSignatureError | jwt.InvalidAlgorithmError):
        return SsoTokenInvalidError("access token signature invalid", reason="invalid_signature")
    if isinstance(error, jwt.MissingRequiredClaimError):
        return SsoTokenInvalidError(f"access token lacks {error.claim}", reason="missing_claim", claim=error.claim)
    if isinstance(error, jwt.InvalidIssuerError):
        return SsoTokenInvalidError("access token issuer is not EVE SSO", reason="invalid_claim", claim="iss")
    if isinstance(error, jwt.InvalidAudienceError):
        return SsoTokenInvalidError("access token audience is wrong", reason="invalid_claim", claim="aud")
    return SsoTokenInvalidError(f"access token invalid: {type(error).__name__}", reason="invalid_claim")


def access_token_validate(*, access_token: str) -> AccessTokenClaims:
    """Validate an EVE SSO v2 access token (a JWT) and read its claims.

    Checks the RS256 signature against CCP's JWKS (cached in Redis, refetched
    once on an unknown key id), ``iss``, ``aud`` (must contain the client id
    and "EVE Online"), ``exp`` and the ``sub`` format.

    Args:
        access_token: The JWT.

    Returns:
        The character, owner hash, scopes and expiry.

    Raises:
        SsoTokenInvalidError: When any check fails.
    """
    try:
        header = jwt.get_unverified_header(access_token)
    except jwt.PyJWTError:
        raise SsoTokenInvalidError("access token is not a JWT", reason="invalid_claim") from None
    if header.get("alg") != "RS256":
        raise SsoTokenInvalidError("access token is not RS256-signed", reason="invalid_signature")
    key = _signing_key(header.get("kid"))
    if key is None:
        raise SsoTokenInvalidError("access token signed with an unknown key id", reason="invalid_signature")
    try:
        claims = jwt.decode(
            access_token,
            key=key.key,
            algorithms=["RS256"],
            issuer=list(settings.EVE_SSO_ISSUERS),
            leeway=settings.EVE_SSO_JWT_LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "sub", "aud"], "verify_aud": False},
        )
    except jwt.PyJWTError as error:
        raise _invalid(error) from None
    audience = claims["aud"]
    audiences = [audience] if isinstance(audience, str) else list(audience)
    if str(settings.EVE_CLIENT_ID) not in audiences or EVE_AUDIENCE not in audiences:
        raise SsoTokenInvalidError("access token audience is wrong", reason="invalid_claim", claim="aud")
    match = _SUBJECT.fullmatch(str(claims["sub"]))
    if match is None:
        raise SsoTokenInvalidError("access token subject is not a character", reason="invalid_claim", claim="sub")
    name = claims.get("name")
    if not isinstance(name, str) or not name:
        raise SsoTokenInvalidError("access token lacks name", reason="missing_claim", claim="name")
    scopes = claims.get("scp") or []
    return AccessTokenClaims(
        character_id=int(match.group(1)),
        name=name,
        owner_hash=str(claims.get("owner") or ""),
        scopes=[scopes] if isinstance(scopes, str) else [str(s) for s in scopes],
        expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=UTC),
    )
