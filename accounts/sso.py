"""The one module that talks to EVE SSO v2 (besides social-core's login exchange).

It owns the timeouts and retries, refreshes and revokes tokens; access-token JWTs are
validated in :mod:`accounts.sso_jwt`. Nothing here logs a token,
a secret or a payload that contains one.
"""

from __future__ import annotations

import logging
import re
import time
from http import HTTPStatus
from typing import Any

import requests
from django.conf import settings
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


def sso_base_url() -> str:
    """Return ``settings.EVE_SSO_URL`` without a trailing slash."""
    return str(settings.EVE_SSO_URL).rstrip("/")


def token_url() -> str:
    """Return the v2 token endpoint, ``{EVE_SSO_URL}/v2/oauth/token``."""
    return f"{sso_base_url()}/v2/oauth/token"


def authorize_url() -> str:
    """Return the v2 authorization endpoint, ``{EVE_SSO_URL}/v2/oauth/authorize``."""
    return f"{sso_base_url()}/v2/oauth/authorize"


def revoke_url() -> str:
    """Return the v2 revocation endpoint, ``{EVE_SSO_URL}/v2/oauth/revoke``."""
    return f"{sso_base_url()}/v2/oauth/revoke"


def jwks_url() -> str:
    """Return the JWKS endpoint, ``{EVE_SSO_URL}/oauth/jwks``."""
    return f"{sso_base_url()}/oauth/jwks"


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


def sso_request(method: str, url: str, *, what: str, retries: int | None = None, **kwargs: Any) -> requests.Response:
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
    response = sso_request(
        "POST",
        token_url(),
        what="token refresh",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=client_credentials(),
    )
    if response.status_code in (400, 401, 403):
        raise SsoGrantRejectedError(f"EVE SSO rejected the refresh token (HTTP {response.status_code})")
    if response.status_code != HTTPStatus.OK:
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
    response = sso_request(
        "POST",
        revoke_url(),
        what="token revocation",
        retries=retries,
        data={"token_type_hint": "refresh_token", "token": refresh_token},
        auth=client_credentials(),
    )
    if response.status_code in _RETRY_STATUSES:
        raise SsoUnavailableError(f"EVE SSO token revocation answered HTTP {response.status_code}")
    if response.status_code != HTTPStatus.OK:
        raise SsoError(f"EVE SSO token revocation answered HTTP {response.status_code}")
