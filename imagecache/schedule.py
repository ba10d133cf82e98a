"""Celery beat entries of imagecache, merged into CELERY_BEAT_SCHEDULE by settings.py.

Keep this module free of Django imports: settings.py imports it.
"""

from __future__ import annotations

BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Hourly; each run refreshes at most 500 stale images, IMAGE_REFRESH_DELAY_SECONDS apart.
    "imagecache-refresh-stale-images": {
        "task": "imagecache.refresh_stale_images",
        "schedule": 3600.0,
        "kwargs": {"limit": 500},
    },
}
