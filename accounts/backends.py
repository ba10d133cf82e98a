"""The EVE SSO v2 backend for social-auth (social-core's bundled ``eveonline`` speaks the deprecated v1).

Authorization code flow with PKCE (S256, from social-core's ``BaseOAuth2PKCE``)
and a ``state`` bound to the session; the access token is a JWT validated by
``accounts.sso``. Tokens never reach ``UserSocialAuth.extra_data``: the
pipeline step ``accounts.pipeline.character_tokens_store`` encrypts them into
``EveToken``. While SSO is not configured (``accounts.sso_config``), the login
start and the callback answer 503 ``sso_not_configured`` instead of a round
trip to CCP that could never end.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from social_core.backends.oauth import BaseOAuth2PKCE
from social_core.exceptions import AuthConfigurationError, AuthResponseError

from accounts import sso, sso_jwt
from accounts.sso_config import sso_not_configured_error, sso_not_configured_response

_SECRET_KEYS = ("access_token", "refresh_token", "id_token", "token_type", "expires_in")


class EveOnlineSsoV2(BaseOAuth2PKCE):
    """EVE Online SSO v2 (``/v2/oauth/authorize`` and ``/v2/oauth/token``)."""

    name = "eveonline"
    title = "EVE Online"
    ID_KEY = "character_id"
    REQUIRES_USER_ID = True
    STATE_PARAMETER = True
    REDIRECT_STATE = False  # CCP matches the callback URL exactly
    USE_BASIC_AUTH = True  # client id and secret in the Authorization header, as CCP documents
    SCOPE_SEPARATOR = " "
    EXTRA_DATA = [
        ("character_id", "character_id"),
        ("name", "name"),
        ("owner_hash", "owner_hash"),
        ("scopes", "scopes"),
    ]

    def start(self) -> Any:
        """Redirect to EVE SSO, or answer 503 while SSO is not configured.

        Returns:
            The redirect, or the 503 JSON answer naming the missing variables.
        """
        error = sso_not_configured_error()
        if error is not None:
            return sso_not_configured_response(error=error)
        return super().start()

    def auth_complete(self, *args: Any, **kwargs: Any) -> Any:
        """Complete the login, or answer 503 when SSO is not configured (nothing is exchanged or stored).

        Args:
            *args: social-core's arguments.
            **kwargs: social-core's arguments.

        Returns:
            The user, or the 503 JSON answer naming the missing variables.
        """
        error = sso_not_configured_error()
        if error is not None:
            return sso_not_configured_response(error=error)
        return super().auth_complete(*args, **kwargs)

    def authorization_url(self) -> str:
        """Return the v2 authorize URL from ``EVE_SSO_URL``.

        Returns:
            The URL.
        """
        return sso.authorize_url()

    def access_token_url(self) -> str:
        """Return the v2 token URL from ``EVE_SSO_URL``.

        Returns:
            The URL.
        """
        return sso.token_url()

    def get_key_and_secret(self) -> tuple[str, str]:
        """Return ``EVE_CLIENT_ID`` and ``EVE_CLIENT_SECRET``.

        Returns:
            (client id, client secret).

        Raises:
            AuthConfigurationError: When the secret is not configured.
        """
        if not settings.EVE_CLIENT_SECRET:
            raise AuthConfigurationError(self, code="missing_setting", parameter="EVE_CLIENT_SECRET")
        return str(settings.EVE_CLIENT_ID), str(settings.EVE_CLIENT_SECRET)

    def get_scope(self) -> list[str]:
        """Return the scopes of ``EVE_SSO_SCOPES``.

        Returns:
            The scopes.
        """
        return list(settings.EVE_SSO_SCOPES)

    def get_redirect_uri(self, state: str | None = None) -> str:
        """Return the callback registered with CCP (``EVE_CALLBACK_URL``), unchanged.

        Args:
            state: Unused (the state travels as its own parameter).

        Returns:
            The callback URL.
        """
        return str(settings.EVE_CALLBACK_URL)

    def user_data(self, access_token: str, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        """Validate the access-token JWT and return the character it names.

        Args:
            access_token: The JWT from the token endpoint.
            *args: Unused.
            **kwargs: Unused.

        Returns:
            ``character_id``, ``name``, ``owner_hash``, ``scopes`` and ``expires_at`` (ISO text).

        Raises:
            AuthResponseError: When the token fails validation.
        """
        try:
            claims = sso_jwt.access_token_validate(access_token=access_token)
        except sso.SsoTokenInvalidError as error:
            raise AuthResponseError(
                self, error.message, code=error.reason, claim=error.claim, stage="token_validation"
            ) from None
        except sso.SsoError as error:
            raise AuthResponseError(self, error.message, code="malformed_response", stage="token_validation") from None
        return {
            "character_id": claims.character_id,
            "name": claims.name,
            "owner_hash": claims.owner_hash,
            "scopes": claims.scopes,
            "expires_at": claims.expires_at.isoformat(),
        }

    def get_user_details(self, response: dict[str, Any]) -> dict[str, Any]:
        """Return the user's details: the character's name.

        Args:
            response: Token answer merged with ``user_data``.

        Returns:
            Username and names.
        """
        name = str(response.get("name") or "")
        return {"username": name, "fullname": name, "first_name": name, "last_name": "", "email": ""}

    def extra_data(
        self,
        user: Any,
        uid: str,
        response: dict[str, Any],
        details: dict[str, Any],
        pipeline_kwargs: dict[str, Any],
    ) -> dict[str, Any]:
        """Return what ``UserSocialAuth.extra_data`` keeps: never a token.

        Args:
            user: The user.
            uid: The character id.
            response: Token answer merged with ``user_data``.
            details: User details.
            pipeline_kwargs: Pipeline arguments.

        Returns:
            Character id, name, owner hash, scopes and the login time.
        """
        data = super().extra_data(user, uid, response, details, pipeline_kwargs)
        return {key: value for key, value in data.items() if key not in _SECRET_KEYS}
