"""Writes of accounts around SSO tokens: store them at login (encrypted), keep them fresh, revoke them at logout.

A character's access token is refreshed under a row lock when it is about to
expire (:func:`character_access_token_fresh`); logout deletes the rows at once
and queues the revocation at EVE SSO (``accounts.revoke_refresh_token``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from accounts import sso, sso_jwt
from accounts.crypto import TokenDecryptionError, token_decrypt, token_encrypt
from accounts.models import EveCharacter, EveToken
from esi.client import EsiClient, EsiResponse

logger = logging.getLogger(__name__)

# The Celery task that revokes a refresh token after logout (sent by name: tasks import this module).
REVOKE_REFRESH_TOKEN_TASK = "accounts.revoke_refresh_token"  # noqa: S105 (a task name, not a secret)


def eve_character_login_store(
    *,
    user: Any,
    character_id: int,
    name: str,
    owner_hash: str,
    scopes: Sequence[str],
    access_token: str,
    access_token_expires_at: datetime,
    refresh_token: str | None,
) -> EveCharacter:
    """Record the character a user logged in with and its tokens, encrypted.

    A character whose owner hash changed never reaches this point with its
    previous user: ``accounts.transfer`` detached it earlier in the pipeline.

    Args:
        user: The site user social-auth logged in.
        character_id: The character's id.
        name: The character's name.
        owner_hash: CCP's owner hash.
        scopes: Granted scopes.
        access_token: The validated access token.
        access_token_expires_at: Its expiry.
        refresh_token: The refresh token (None when CCP gave none).

    Returns:
        The character.
    """
    with transaction.atomic():
        character = EveCharacter.objects.select_for_update().filter(character_id=character_id).first()
        if character is None:
            EveCharacter.objects.filter(user=user).delete()
            character = EveCharacter(user=user, character_id=character_id)
        character.name = name
        character.owner_hash = owner_hash
        character.save()
        if refresh_token:
            EveToken.objects.update_or_create(
                character=character,
                defaults={
                    "scopes": list(scopes),
                    "access_token_encrypted": token_encrypt(plaintext=access_token),
                    "access_token_expires_at": access_token_expires_at,
                    "refresh_token_encrypted": token_encrypt(plaintext=refresh_token),
                },
            )
        else:
            EveToken.objects.filter(character=character).delete()
    logger.info("EVE character %d logged in (user %s)", character_id, user.pk)
    return character


def _fresh(token: EveToken) -> bool:
    """Tell whether a stored access token stays valid beyond the refresh margin."""
    margin = timedelta(seconds=settings.EVE_TOKEN_REFRESH_MARGIN_SECONDS)
    return token.access_token_expires_at - margin > timezone.now()


def _token_refresh(token: EveToken) -> str | None:
    """Refresh a locked token row in place; None (row deleted) when SSO rejected it or the owner changed."""
    try:
        refresh_token = token_decrypt(ciphertext=token.refresh_token_encrypted)
        answer = sso.token_refresh(refresh_token=refresh_token)
    except (sso.SsoGrantRejectedError, TokenDecryptionError) as error:
        logger.warning("EVE character %d: stored refresh token unusable (%s)", token.character.character_id, error)
        token.delete()
        return None
    claims = sso_jwt.access_token_validate(access_token=answer.access_token)
    if claims.character_id != token.character.character_id:
        raise sso.SsoError("EVE SSO refreshed a token for another character")
    if claims.owner_hash and token.character.owner_hash not in ("", claims.owner_hash):
        logger.warning("EVE character %d changed owner: its stored token is dropped", token.character.character_id)
        token.delete()  # the character is someone else's now: only their own login may bring it back
        return None
    token.access_token_encrypted = token_encrypt(plaintext=answer.access_token)
    token.access_token_expires_at = claims.expires_at
    if answer.refresh_token:
        token.refresh_token_encrypted = token_encrypt(plaintext=answer.refresh_token)
    token.scopes = claims.scopes
    token.save()
    logger.info("EVE character %d: access token refreshed", token.character.character_id)
    return answer.access_token


def character_access_token_fresh(*, user: Any) -> tuple[int, str]:
    """Return a user's character id and a valid access token, refreshing it when it is about to expire.

    The refresh runs under a row lock, so concurrent callers refresh once
    and every caller sees the newest refresh token.

    Args:
        user: A logged-in user.

    Returns:
        (character id, access token).

    Raises:
        SsoLoginRequiredError: When the user has no usable token (never logged in, logged out, revoked).
        SsoError: When SSO fails.
    """
    token = EveToken.objects.select_related("character").filter(character__user=user).first()
    if token is None:
        raise sso.SsoLoginRequiredError("Log in with EVE Online to use this feature.")
    if _fresh(token):
        try:
            return token.character.character_id, token_decrypt(ciphertext=token.access_token_encrypted)
        except TokenDecryptionError:
            logger.warning("EVE character %d: stored access token unreadable", token.character.character_id)
    with transaction.atomic():
        locked = EveToken.objects.select_for_update().select_related("character").filter(pk=token.pk).first()
        access_token: str | None = None
        if locked is not None and _fresh(locked):
            try:
                access_token = token_decrypt(ciphertext=locked.access_token_encrypted)
            except TokenDecryptionError:
                access_token = None
        if locked is not None and access_token is None:
            access_token = _token_refresh(locked)
    if access_token is None:
        raise sso.SsoLoginRequiredError("The EVE SSO login expired or was revoked: log in again.")
    return token.character.character_id, access_token


def character_esi_get(*, user: Any, path: str, params: dict[str, Any] | None = None) -> EsiResponse:
    """Call an authenticated ESI route for a user's character, with a fresh access token.

    Args:
        user: A logged-in user.
        path: ESI path; ``{character_id}`` is filled in (e.g. ``/characters/{character_id}/location``).
        params: Query parameters.

    Returns:
        The ESI answer.
    """
    character_id, access_token = character_access_token_fresh(user=user)
    return EsiClient().get(path.format(character_id=character_id), params=params, token=access_token)


@dataclass(frozen=True)
class RefreshTokenRevocation:
    """A refresh token to revoke at EVE SSO after logout, still encrypted (its row is already deleted)."""

    character_id: int
    refresh_token_encrypted: str = field(repr=False)

    def task_kwargs(self) -> dict[str, Any]:
        """Return the keyword arguments of ``accounts.revoke_refresh_token``.

        Returns:
            ``{"character_id": ..., "refresh_token_encrypted": ...}``.
        """
        return {"character_id": self.character_id, "refresh_token_encrypted": self.refresh_token_encrypted}


def character_tokens_delete(*, user: Any) -> list[RefreshTokenRevocation]:
    """Delete a user's stored SSO tokens (logout) and hand back what revoking them at SSO needs.

    Nothing here talks to EVE SSO. The rows are read under a row lock, so a
    refresh running at the same time finishes first and the newest refresh
    token is the one returned; a refresh starting afterwards finds no row.

    Args:
        user: The user logging out.

    Returns:
        One revocation per deleted token (empty when the user had none), the
        refresh token still Fernet-encrypted as it was stored.
    """
    with transaction.atomic():
        tokens = list(EveToken.objects.select_for_update().select_related("character").filter(character__user=user))
        EveToken.objects.filter(pk__in=[t.pk for t in tokens]).delete()
    for token in tokens:
        logger.info("EVE character %d: tokens deleted on logout", token.character.character_id)
    return [
        RefreshTokenRevocation(
            character_id=token.character.character_id, refresh_token_encrypted=token.refresh_token_encrypted
        )
        for token in tokens
    ]


def _refresh_token_revocation_send(revocation: RefreshTokenRevocation) -> None:
    """Put one revocation on the Celery broker; a broker failure is one warning line (logout already happened)."""
    try:
        current_app.send_task(
            REVOKE_REFRESH_TOKEN_TASK,
            kwargs=revocation.task_kwargs(),
            kwargsrepr=repr({"character_id": revocation.character_id, "refresh_token_encrypted": "<hidden>"}),
        )
    except (OperationalError, OSError) as error:
        logger.warning(
            "EVE character %d: could not queue the refresh token's revocation (%s)",
            revocation.character_id,
            type(error).__name__,
        )
    else:
        logger.info("EVE character %d: refresh token revocation queued", revocation.character_id)


def refresh_token_revocation_queue(*, revocation: RefreshTokenRevocation) -> None:
    """Queue ``accounts.revoke_refresh_token`` for a deleted token, once the current transaction commits.

    The message carries the refresh token encrypted with ``TOKEN_ENCRYPTION_KEY``
    (the ciphertext that was stored), so neither the broker nor Celery's logs
    ever hold a usable token.

    Args:
        revocation: What ``character_tokens_delete`` returned.
    """
    transaction.on_commit(partial(_refresh_token_revocation_send, revocation))


def refresh_token_revoke(*, refresh_token_encrypted: str, retries: int | None = None) -> None:
    """Revoke a refresh token at EVE SSO (the background half of logout; no database access).

    Revoking a token twice is harmless, so callers may retry.

    Args:
        refresh_token_encrypted: The refresh token, encrypted by ``accounts.crypto.token_encrypt``.
        retries: In-process attempts after the first on connection errors and 5xx (None: the setting).

    Raises:
        TokenDecryptionError: When ``TOKEN_ENCRYPTION_KEY`` changed since the token was stored.
        SsoUnavailableError: When SSO cannot be reached or answers 5xx (worth trying again).
        SsoError: When SSO refuses the revocation.
    """
    sso.token_revoke(refresh_token=token_decrypt(ciphertext=refresh_token_encrypted), retries=retries)
