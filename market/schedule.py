"""Celery beat entries of market, merged into CELERY_BEAT_SCHEDULE by settings.py.

Keep this module free of Django imports: settings.py imports it.
"""

from __future__ import annotations

BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Every 30 minutes (the snapshot freshness, MARKET_CACHE_SECONDS): snapshot MARKET_SNAPSHOT_REGIONS
    # through esi.client.for_each_region, so the global scan has data.
    "market-snapshot-regions": {"task": "market.snapshot_regions", "schedule": 1800.0},
}
