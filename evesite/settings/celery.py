"""Celery: broker, results, and the beat schedule merged from every app's ``schedule.py``."""

from __future__ import annotations

from importlib import import_module

from evesite.env import (
    env_float,
    env_str,
)
from evesite.settings.base import REDIS_URL

# --------------------------------------------------------------------------- Celery
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
# How long /api/health/ waits for a Celery worker to answer its ping (the answer is cached 10 s).
HEALTH_WORKER_PING_SECONDS = env_float("HEALTH_WORKER_PING_SECONDS", 2.0)


def _beat_schedule() -> dict[str, dict[str, object]]:
    """Merge the ``BEAT_SCHEDULE`` of every app's ``schedule.py``."""
    merged: dict[str, dict[str, object]] = {}
    for app in ("universe", "esi", "market", "routing", "contracts", "imagecache", "accounts", "jobs"):
        merged.update(import_module(f"{app}.schedule").BEAT_SCHEDULE)
    return merged


CELERY_BEAT_SCHEDULE = _beat_schedule()
