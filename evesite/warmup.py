"""Work a web process does once at start, so that no user request pays for it."""

from __future__ import annotations

import logging

# Loaded here, when the web process starts, so that the first task sent pays no import.
import celery.app.events
import celery.canvas
import celery.events.dispatcher
import celery.result  # noqa: F401

from evesite.celery import app

logger = logging.getLogger(__name__)


def celery_producer_warm() -> None:
    """Open the Celery broker connection of this process and load what sending a task needs.

    The first queued job then costs no connect and no imports.
    """
    try:
        app.backend  # noqa: B018 - builds the result backend (and imports it) once
        with app.producer_or_acquire() as producer:
            producer.connection.ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001 - a broker that is down is reported by /api/health/, not here
        logger.warning("Celery broker not reachable at start: %s", exc)
