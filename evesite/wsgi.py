"""WSGI entry point (gunicorn evesite.wsgi)."""

import os
import sys

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evesite.settings.production")
application = get_wsgi_application()

from evesite.warmup import celery_producer_warm  # noqa: E402 - after Django is set up

celery_producer_warm()

from evesite.middleware import web_statement_timeout_enable  # noqa: E402 - after Django is set up

# Web processes only: a statement running longer than DB_WEB_STATEMENT_TIMEOUT_MS is cancelled (JSON 503).
web_statement_timeout_enable()

from django.conf import settings  # noqa: E402 - after Django is set up

# Web processes only: quick requests (health, refusals) stay quick while sibling threads compute.
sys.setswitchinterval(settings.WEB_GIL_SWITCH_MS / 1000)
