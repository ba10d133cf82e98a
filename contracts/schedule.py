"""Celery beat entries of contracts, merged into CELERY_BEAT_SCHEDULE by settings.py.

Keep this module free of Django imports: settings.py imports it.
"""

from __future__ import annotations

BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # ESI caches the public contract listing for 30 minutes; each run walks CONTRACTS_REGIONS
    # with the region delay and fetches only what is missing.
    "contracts-refresh-regions": {
        "task": "contracts.tasks.contracts_refresh_regions_task",
        "schedule": 1800.0,
    },
    # Jita prices move with every market snapshot: value the cached contracts again (SQL only, no ESI).
    "contracts-revalue": {
        "task": "contracts.tasks.contracts_revalue_task",
        "schedule": 300.0,
    },
}
