"""System checks of accounts: is EVE SSO login configured?

Every command that runs checks (``migrate``, ``runserver``, ``check``) warns
when a login setting is missing; ``manage.py check --deploy`` makes it an
error when DEBUG is off. A plain start-up never fails on it: a server without
an EVE application still serves the market and routing API, and its login
answers 503 ``sso_not_configured``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.core.checks import CheckMessage, Tags, register

from accounts.sso_config import sso_settings_missing

_HINT = (
    "Set EVE_CLIENT_ID and EVE_CLIENT_SECRET from your application at https://developers.eveonline.com "
    "and TOKEN_ENCRYPTION_KEY to a long random string (see README, Accounts and EVE SSO)."
)


@register(Tags.security)
def sso_settings_check(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    """Warn that EVE SSO login is off while a required setting is missing.

    Args:
        app_configs: Apps to check (unused: settings are global).
        **kwargs: Django's other check arguments.

    Returns:
        ``accounts.W001`` naming the missing variables, or nothing.
    """
    missing = sso_settings_missing()
    if not missing:
        return []
    message = f"EVE SSO login is off (GET /api/auth/login/ answers 503): {', '.join(missing)} not set."
    return [checks.Warning(message, hint=_HINT, id="accounts.W001")]


@register(Tags.security, deploy=True)
def sso_settings_deploy_check(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    """Refuse a production deployment (``check --deploy`` with DEBUG off) whose EVE SSO login is not configured.

    Args:
        app_configs: Apps to check (unused: settings are global).
        **kwargs: Django's other check arguments.

    Returns:
        ``accounts.E001`` naming the missing variables, or nothing.
    """
    missing = sso_settings_missing()
    if settings.DEBUG or not missing:
        return []
    message = f"EVE SSO login cannot work in production: {', '.join(missing)} not set."
    return [checks.Error(message, hint=_HINT, id="accounts.E001")]
