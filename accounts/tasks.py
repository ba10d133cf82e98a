"""Celery tasks of accounts (thin: they call services)."""

from __future__ import annotations

from celery import shared_task

from accounts.services import sso_nonces_purge

# social-core's state lifetime is 30 minutes; keep nonces a day.
NONCE_MAX_AGE_SECONDS = 86400.0


@shared_task(name="accounts.purge_sso_nonces", ignore_result=True)
def purge_sso_nonces() -> int:
    """Delete nonces of abandoned logins (idempotent).

    Returns:
        How many were deleted.
    """
    return sso_nonces_purge(older_than_seconds=NONCE_MAX_AGE_SECONDS)
