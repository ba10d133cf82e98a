"""Celery tasks of accounts (thin and idempotent: they call services)."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings

from accounts import services, sso, tokens
from accounts.crypto import TokenDecryptionError

logger = logging.getLogger(__name__)

# social-core's state lifetime is 30 minutes; keep nonces a day.
NONCE_MAX_AGE_SECONDS = 86400.0
# Backoff of the revocation's retries: 10 s, then 20 s, ... (up to EVE_SSO_RETRIES retries).
REVOKE_RETRY_BACKOFF_SECONDS = 10.0


@shared_task(name="accounts.purge_sso_nonces", ignore_result=True)
def purge_sso_nonces() -> int:
    """Delete nonces of abandoned logins (idempotent).

    Returns:
        How many were deleted.
    """
    return services.sso_nonces_purge(older_than_seconds=NONCE_MAX_AGE_SECONDS)


@shared_task(bind=True, name=tokens.REVOKE_REFRESH_TOKEN_TASK, ignore_result=True)
def revoke_refresh_token(self: Any, *, character_id: int, refresh_token_encrypted: str) -> bool:
    """Revoke a logged-out user's refresh token at EVE SSO, best effort (idempotent: revoking twice is harmless).

    Logout deletes the token rows first, so this task gets the token as its
    argument. It gets it still encrypted with ``TOKEN_ENCRYPTION_KEY`` (the
    stored Fernet ciphertext) rather than in clear: the message sits in the
    Redis broker (and is re-queued on retry), where a plain refresh token
    would be usable by anyone reading Redis; the ciphertext needs the key.

    Connection errors and 5xx answers are retried ``EVE_SSO_RETRIES`` times by
    Celery with exponential backoff (no sleeping in the worker); any final
    failure is one warning line and never raises (the user is logged out anyway).

    Args:
        self: The bound task.
        character_id: The character the token belonged to (for the log).
        refresh_token_encrypted: The refresh token, as ``accounts.crypto.token_encrypt`` wrote it.

    Returns:
        True when SSO confirmed the revocation, False when it finally failed.
    """
    try:
        tokens.refresh_token_revoke(refresh_token_encrypted=refresh_token_encrypted, retries=0)
    except sso.SsoUnavailableError as error:
        max_retries = max(0, int(settings.EVE_SSO_RETRIES))
        retries = int(self.request.retries or 0)
        if retries < max_retries and not self.request.called_directly:
            countdown = REVOKE_RETRY_BACKOFF_SECONDS * 2**retries
            logger.info("EVE character %d: revocation retried in %.0f s (%s)", character_id, countdown, error.message)
            raise self.retry(exc=error, countdown=countdown, max_retries=max_retries) from None
        logger.warning("EVE character %d: refresh token revocation failed (%s)", character_id, error.message)
        return False
    except (sso.SsoError, TokenDecryptionError) as error:
        logger.warning("EVE character %d: refresh token revocation failed (%s)", character_id, error)
        return False
    logger.info("EVE character %d: refresh token revoked at EVE SSO", character_id)
    return True
