"""Whether EVE SSO login is configured: the settings it needs and the 503 answered without them.

A server without an EVE application (no ``EVE_CLIENT_SECRET``) still serves
the market and routing API; only the login answers ``sso_not_configured``,
before a browser is sent to CCP on a round trip that could never end.
"""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse

from evesite.exceptions import ServiceUnavailableError

# The settings (environment variables of the same names) a login needs.
SSO_REQUIRED_SETTINGS = ("EVE_CLIENT_ID", "EVE_CLIENT_SECRET", "TOKEN_ENCRYPTION_KEY")


class SsoNotConfiguredError(ServiceUnavailableError):
    """EVE SSO login is off: some required settings are unset. ``missing`` names them (never their values)."""

    code = "sso_not_configured"


def sso_settings_missing() -> list[str]:
    """List the required SSO settings that are unset or empty.

    Returns:
        Their names, in ``SSO_REQUIRED_SETTINGS`` order (empty when login is configured).
    """
    return [name for name in SSO_REQUIRED_SETTINGS if not getattr(settings, name, None)]


def sso_not_configured_error() -> SsoNotConfiguredError | None:
    """Build the error a login answers while SSO is not configured.

    Returns:
        The error naming the missing variables, or None when nothing is missing.
    """
    missing = sso_settings_missing()
    if not missing:
        return None
    return SsoNotConfiguredError(
        f"SSO is not configured on this server: set {', '.join(missing)} to enable EVE Online login.",
        missing=missing,
    )


def sso_configured_ensure() -> None:
    """Raise unless EVE SSO login is configured.

    Raises:
        SsoNotConfiguredError: Naming the missing variables.
    """
    error = sso_not_configured_error()
    if error is not None:
        raise error


def sso_not_configured_response(*, error: SsoNotConfiguredError) -> JsonResponse:
    """Answer the error from a plain Django view (social-auth's begin and callback), in the API's error shape.

    Args:
        error: What ``sso_not_configured_error`` returned.

    Returns:
        The 503 JSON answer, never cached.
    """
    response = JsonResponse({"error": error.code, "detail": error.message, **error.extra}, status=error.status_code)
    response["Cache-Control"] = "no-store"
    return response
