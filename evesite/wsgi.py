"""WSGI entry point (gunicorn evesite.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evesite.settings")
application = get_wsgi_application()

from evesite.warmup import celery_producer_warm  # noqa: E402 - after Django is set up

celery_producer_warm()
