"""EVE SSO v2 and accounts: client, tokens, sessions."""

from __future__ import annotations

import secrets

from evesite.env import (
    env_float,
    env_int,
    env_list,
    env_str,
)
from evesite.settings.base import BASE_DIR, DEBUG, MIDDLEWARE, SPECTACULAR_SETTINGS

# --------------------------------------------------------------------------- EVE: SSO and accounts
EVE_CLIENT_ID = env_str("EVE_CLIENT_ID", "5e0952c68665441aae27846cb735138e")
EVE_CLIENT_SECRET = env_str("EVE_CLIENT_SECRET")  # secret: no default
EVE_CALLBACK_URL = env_str("EVE_CALLBACK_URL", "http://localhost:7777/auth/complete/eveonline/")
EVE_SSO_URL = env_str("EVE_SSO_URL", "https://login.eveonline.com")
EVE_SSO_SCOPES = env_list("EVE_SSO_SCOPES", ["esi-location.read_location.v1", "esi-markets.structure_markets.v1"])


def _local_token_key() -> str | None:
    """Return this checkout's own TOKEN_ENCRYPTION_KEY for debug runs, made once (like ``.local_secret_key``)."""
    path = BASE_DIR / ".local_token_key"
    try:
        if not path.exists() or not path.read_text().strip():
            tmp = path.with_name(f".local_token_key.{secrets.token_hex(4)}.tmp")
            tmp.write_text(secrets.token_urlsafe(50) + "\n")
            tmp.chmod(0o600)
            tmp.replace(path)
        return path.read_text().strip() or None
    except OSError:
        return None


# Secret, no default in production; a debug run without it keeps a generated key in .local_token_key.
TOKEN_ENCRYPTION_KEY = env_str("TOKEN_ENCRYPTION_KEY") or (_local_token_key() if DEBUG else None)
# Accepted `iss` values of CCP's access-token JWTs.
EVE_SSO_ISSUERS = env_list("EVE_SSO_ISSUERS", ["login.eveonline.com", "https://login.eveonline.com"])
EVE_SSO_TIMEOUT_SECONDS = env_float("EVE_SSO_TIMEOUT_SECONDS", 10.0)
EVE_SSO_RETRIES = env_int("EVE_SSO_RETRIES", 2)
EVE_SSO_RETRY_DELAY_SECONDS = env_float("EVE_SSO_RETRY_DELAY_SECONDS", 1.0)
EVE_SSO_JWKS_CACHE_SECONDS = env_float("EVE_SSO_JWKS_CACHE_SECONDS", 3600.0)
EVE_SSO_JWT_LEEWAY_SECONDS = env_float("EVE_SSO_JWT_LEEWAY_SECONDS", 5.0)
EVE_TOKEN_REFRESH_MARGIN_SECONDS = env_float("EVE_TOKEN_REFRESH_MARGIN_SECONDS", 60.0)
AUTHENTICATION_BACKENDS = ["accounts.backends.EveOnlineSsoV2", "django.contrib.auth.backends.ModelBackend"]
SOCIAL_AUTH_PIPELINE = (
    "social_core.pipeline.social_auth.social_details",
    "social_core.pipeline.social_auth.social_names",
    "social_core.pipeline.social_auth.social_uid",
    "social_core.pipeline.social_auth.auth_allowed",
    # A new owner hash: the character leaves its previous user (tokens, association, sessions) for a fresh one.
    "accounts.pipeline.character_transfer_detach",
    "social_core.pipeline.social_auth.social_user",
    "social_core.pipeline.user.get_username",
    "social_core.pipeline.user.create_user",
    "social_core.pipeline.social_auth.associate_user",
    "social_core.pipeline.social_auth.load_extra_data",
    "social_core.pipeline.user.user_details",
    "accounts.pipeline.character_tokens_store",
    "accounts.pipeline.character_transfer_login",
)
SOCIAL_AUTH_LOGIN_REDIRECT_URL = env_str("EVE_LOGIN_REDIRECT_URL", "/api/me/")
SOCIAL_AUTH_RAISE_EXCEPTIONS = False  # failures render social_django's error page with a 4xx/5xx status
SOCIAL_AUTH_REQUESTS_TIMEOUT = EVE_SSO_TIMEOUT_SECONDS
LOGIN_REDIRECT_URL = SOCIAL_AUTH_LOGIN_REDIRECT_URL
MIDDLEWARE += ["social_django.middleware.SocialAuthExceptionMiddleware"]
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})["RouteModeEnum"] = "accounts.models.RouteMode"  # type: ignore[index]
