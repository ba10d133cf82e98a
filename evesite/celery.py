"""The Celery application; tasks live in each app's ``tasks.py``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evesite.settings.production")

app = Celery("evesite")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Beat's scheduler: a heartbeat in Redis for /api/health/, and never-run entries due at once
# (the Procfile and docker-compose.yml also name it with --scheduler).
app.conf.beat_scheduler = "evesite.beat:EvesiteScheduler"
app.autodiscover_tasks()
