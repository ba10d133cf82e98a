"""The one module that talks to EVE SSO v2 (besides social-core's login exchange).

It owns the timeouts, retries and the Redis cache of CCP's JWKS, validates
access-token JWTs, refreshes and revokes tokens. Nothing here logs a token,
a secret or a payload that contains one.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
import requests
from django.conf import settings
from django.core.cache import cache
from pydantic import BaseModel, ValidationError

from evesite.exceptions import DomainError, UpstreamError

logger = logging.getLogger(__name__)

EVE_AUDIENCE = "EVE Online"
_SUBJECT = re.compile(r"CHARACTER:EVE:(\d+)")
_RETRY_STATUSES = {500, 502, 503, 504}


class SsoError(UpstreamError):
    """EVE SSO answered badly or not at all."""

    code = "sso_error"


class SsoTokenInvalidError(SsoError):
    """An access token failed validation; ``reason`` is the social-core style code, ``claim`` the claim."""

    code = "sso_token_invalid"

    def __init__(self, message: str, *, reason: str, claim: str | None = None) -> None:
        """Build the error.

        Args:
            message: What failed (never the token).
            reason: ``invalid_signature``, ``invalid_claim``, ``response_expired`` or ``missing_claim``.
            claim: The claim at fault, when one is.
        """
        super().__init__(message)
        self.reason = reason
        self.claim = claim


class SsoUnavailableError(SsoError):
    """EVE SSO could not be reached or answered 5xx: trying again later may work."""

    code = "sso_unavailable"


class SsoGrantRejectedError(SsoError):
    """SSO rejected a refresh token (revoked or expired): the user must log in again."""

    code = "sso_grant_rejected"


class SsoLoginRequiredError(DomainError):
    """The user has no usable EVE SSO token; logging in again fixes it."""

    status_code = 401
    code = "sso_login_required"


class TokenResponse(BaseModel):
    """The token endpoint's answer."""

    access_token: str
    token_type: str = "Bearer"  # noqa: S105 (a token type, not a secret)
    expires_in: int
    refresh_token: str | None = None


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


def _base() -> str:
    """Return the SSO base URL without a trailing slash.

    Returns:
        ``settings.EVE_SSO_URL``.
    """
    return str(settings.EVE_SSO_URL).rstrip("/")


def token_url() -> str:
    """Return the v2 token endpoint.

    Returns:
        ``{EVE_SSO_URL}/v2/oauth/token``.
    """
    return f"{_base()}/v2/oauth/token"


def authorize_url() -> str:
    """Return the v2 authorization endpoint.

    Returns:
        ``{EVE_SSO_URL}/v2/oauth/authorize``.
    """
    return f"{_base()}/v2/oauth/authorize"


def revoke_url() -> str:
    """Return the v2 revocation endpoint.

    Returns:
        ``{EVE_SSO_URL}/v2/oauth/revoke``.
    """
    return f"{_base()}/v2/oauth/revoke"


def jwks_url() -> str:
    """Return the JWKS endpoint.

    Returns:
        ``{EVE_SSO_URL}/oauth/jwks``.
    """
    return f"{_base()}/oauth/jwks"


def client_credentials() -> tuple[str, str]:
    """Return the application's id and secret.

    Returns:
        (client id, client secret).

    Raises:
        SsoError: When ``EVE_CLIENT_SECRET`` is not configured.
    """
    if not settings.EVE_CLIENT_SECRET:
        raise SsoError("EVE_CLIENT_SECRET is not configured")
    return str(settings.EVE_CLIENT_ID), str(settings.EVE_CLIENT_SECRET)


def _request(method: str, url: str, *, what: str, retries: int | None = None, **kwargs: Any) -> requests.Response:
    """Send a request with the SSO timeout, retrying connection errors and 5xx answers.

    Each failed attempt that is retried is logged as a warning; the last one is
    left to the caller, which gets the response or the raised error.

    Args:
        method: HTTP method.
        url: Full URL (never carries a token).
        what: Short label for logs and errors.
        retries: Attempts after the first (``settings.EVE_SSO_RETRIES`` when None; 0 when the
            caller retries on its own, e.g. a Celery task with backoff).
        **kwargs: More ``requests.request`` arguments.

    Returns:
        The final response (any status below 500, or the last 5xx).

    Raises:
        SsoUnavailableError: When every attempt failed to connect.
    """
    headers = {"User-Agent": settings.ESI_USER_AGENT, "Accept": "application/json", **kwargs.pop("headers", {})}
    attempts = 1 + max(0, int(settings.EVE_SSO_RETRIES if retries is None else retries))
    for attempt in range(1, attempts + 1):
        try:
            response = requests.request(
                method, url, headers=headers, timeout=settings.EVE_SSO_TIMEOUT_SECONDS, **kwargs
            )
        except requests.RequestException as error:
            if attempt == attempts:
                logger.debug("EVE SSO %s: %s (attempt %d/%d)", what, type(error).__name__, attempt, attempts)
                raise SsoUnavailableError(f"EVE SSO {what} failed: {type(error).__name__}") from None
            logger.warning("EVE SSO %s: %s (attempt %d/%d)", what, type(error).__name__, attempt, attempts)
        else:
            if response.status_code not in _RETRY_STATUSES or attempt == attempts:
                logger.debug("EVE SSO %s: HTTP %d", what, response.status_code)
                return response
            logger.warning("EVE SSO %s: HTTP %d (attempt %d/%d)", what, response.status_code, attempt, attempts)
        time.sleep(settings.EVE_SSO_RETRY_DELAY_SECONDS)
    raise AssertionError("unreachable")  # pragma: no cover


def _jwks_cache_key() -> str:
    """Return the Redis key of the cached JWKS for the configured SSO.

    Returns:
        The cache key.
    """
    return f"accounts:sso:jwks:{_base()}"


def _jwks_fetch() -> list[dict[str, Any]]:
    """Fetch CCP's signing keys and cache them in Redis.

    Returns:
        The JWK dictionaries.

    Raises:
        SsoError: When the JWKS cannot be fetched or parsed.
    """
    response = _request("GET", jwks_url(), what="JWKS fetch")
    if response.status_code != 200:
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
    """Pick the RSA key with a key id.

    Args:
        keys: JWK dictionaries.
        kid: The wanted key id.

    Returns:
        The key, or None.
    """
    for entry in keys:
        if entry.get("kid") == kid and entry.get("kty") == "RSA":
            try:
                return jwt.PyJWK(entry, algorithm="RS256")
            except jwt.PyJWTError:
                return None
    return None


def _signing_key(kid: str | None) -> jwt.PyJWK | None:
    """Find the signing key, refetching the JWKS once when a cached set lacks the key id.

    Args:
        kid: The token header's key id.

    Returns:
        The key, or None when even a fresh JWKS lacks it.
    """
    cached = cache.get(_jwks_cache_key())
    key = _key_find(cached if cached is not None else _jwks_fetch(), kid)
    if key is None and cached is not None:
        logger.info("EVE SSO signing key id %r not in the cached JWKS: refetching it once", kid)
        key = _key_find(_jwks_fetch(), kid)
    return key


def _invalid(error: jwt.PyJWTError) -> SsoTokenInvalidError:
    """Translate a PyJWT error (whose message never holds the token).

    Args:
        error: The PyJWT error.

    Returns:
        The matching validation error.
    """
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


def token_refresh(*, refresh_token: str) -> TokenResponse:
    """Exchange a refresh token for a new access token (and, usually, a new refresh token).

    Args:
        refresh_token: The current refresh token.

    Returns:
        The token endpoint's answer.

    Raises:
        SsoGrantRejectedError: When SSO rejects the refresh token (HTTP 400/401).
        SsoError: On any other failure.
    """
    response = _request(
        "POST",
        token_url(),
        what="token refresh",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=client_credentials(),
    )
    if response.status_code in (400, 401, 403):
        raise SsoGrantRejectedError(f"EVE SSO rejected the refresh token (HTTP {response.status_code})")
    if response.status_code != 200:
        raise SsoError(f"EVE SSO token refresh answered HTTP {response.status_code}")
    try:
        return TokenResponse.model_validate(response.json())
    except (ValueError, ValidationError):
        raise SsoError("EVE SSO token refresh answer is malformed") from None


def token_revoke(*, refresh_token: str, retries: int | None = None) -> None:
    """Revoke a refresh token at SSO.

    Args:
        refresh_token: The token to revoke.
        retries: Attempts after the first on connection errors and 5xx (``settings.EVE_SSO_RETRIES``
            when None).

    Raises:
        SsoUnavailableError: When SSO cannot be reached or answers 5xx (worth trying again later).
        SsoError: When SSO refuses the revocation otherwise (e.g. 401 for bad client credentials).
    """
    response = _request(
        "POST",
        revoke_url(),
        what="token revocation",
        retries=retries,
        data={"token_type_hint": "refresh_token", "token": refresh_token},
        auth=client_credentials(),
    )
    if response.status_code in _RETRY_STATUSES:
        raise SsoUnavailableError(f"EVE SSO token revocation answered HTTP {response.status_code}")
    if response.status_code != 200:
        raise SsoError(f"EVE SSO token revocation answered HTTP {response.status_code}")
