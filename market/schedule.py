"""Celery beat entries of market, merged into CELERY_BEAT_SCHEDULE by settings.py.

Keep this module free of Django imports: settings.py imports it.
"""

from __future__ import annotations

BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Every 30 minutes (the snapshot freshness, MARKET_CACHE_SECONDS): snapshot MARKET_SNAPSHOT_REGIONS
    # through esi.client.for_each_region, so the global scan has data.
    "market-snapshot-regions": {"task": "market.snapshot_regions", "schedule": 1800.0},
    # Hourly: queue the history job of each of MARKET_HISTORY_REGIONS (off with MARKET_HISTORY_ENABLED=false).
    # ESI's history expires daily at 11:05 UTC; a job fetches only expired types, so most runs find little.
    "market-history-regions": {"task": "market.history_regions", "schedule": 3600.0},
}
