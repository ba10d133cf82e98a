"""The settings ``make run``, gunicorn, Celery and ``manage.py`` use: the base and every integration."""

from evesite.settings.accounts import *  # noqa: F403
from evesite.settings.base import *  # noqa: F403
from evesite.settings.celery import *  # noqa: F403
from evesite.settings.contracts import *  # noqa: F403
from evesite.settings.esi import *  # noqa: F403
from evesite.settings.images import *  # noqa: F403
from evesite.settings.market import *  # noqa: F403
from evesite.settings.routing import *  # noqa: F403
