"""evesite: a backend for EVE Online traders and haulers."""

from evesite.celery import app as celery_app

__all__ = ["celery_app"]
