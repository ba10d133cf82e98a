"""Celery beat entries of accounts, merged into CELERY_BEAT_SCHEDULE by settings.py.

Keep this module free of Django imports: settings.py imports it.
"""

from __future__ import annotations

BEAT_SCHEDULE: dict[str, dict[str, object]] = {}
