"""Celery beat entries of jobs, merged into CELERY_BEAT_SCHEDULE by settings.py.

Keep this module free of Django imports: settings.py imports it.
"""

from __future__ import annotations

BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Daily: forget jobs that ended more than JOBS_KEEP_DAYS ago.
    "jobs-purge": {"task": "jobs.purge", "schedule": 86400.0},
}
