"""Celery beat entries of routing, merged into CELERY_BEAT_SCHEDULE by settings.py.

Keep this module free of Django imports: settings.py imports it.
"""

from __future__ import annotations

BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # ESI's /universe/system_kills is cached for an hour.
    "routing-system-kills": {"task": "routing.system_kills_refresh", "schedule": 3600.0},
    # zKillboard asks consumers to wait at least 6 s once they reach the end of R2Z2.
    "routing-zkill-feed": {"task": "routing.zkill_feed_poll", "schedule": 15.0},
    # Expire old flags even when no kill arrives.
    "routing-risk-sync": {"task": "routing.risk_graph_sync", "schedule": 60.0},
    "routing-weights": {"task": "routing.route_weights_refresh", "schedule": 24 * 3600.0},
}
