"""Celery beat entries of accounts, merged into CELERY_BEAT_SCHEDULE by settings.py.

Keep this module free of Django imports: settings.py imports it.
"""

from __future__ import annotations

BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "accounts-purge-sso-nonces": {"task": "accounts.purge_sso_nonces", "schedule": 6 * 3600.0},
}
