"""Settings for the test suite: the real datastores, shrunken delays.

Delays are shrunk here only when the environment does not set them, so a
test can still start a subprocess with explicit values.
"""

from __future__ import annotations

import os

# Under pytest-xdist each worker gets its own Redis database and Neo4j instances (see evesite/testing/parallel.py).
from evesite.testing.parallel import DEFAULT_URLS, worker_environment_apply

for _name, _value in {
    # Never the Redis database or Neo4j instance that `make run` serves; NEO4J_SDE_BOLT_URL is the instance of the
    # tests that read the real SDE (conftest.py), NEO4J_BOLT_URL that of the others, which ingest small dumps.
    **DEFAULT_URLS,
    "ESI_PAGE_DELAY_SECONDS": "0.05",
    "ESI_REGION_DELAY_SECONDS": "0.05",
    "ESI_ERROR_SLEEP_SECONDS": "0.05",
    "ESI_LOCKDOWN_SECONDS": "2",
    # Health's wait for a Celery ping: most tests (and the servers they start) run no worker.
    "HEALTH_WORKER_PING_SECONDS": "0.3",
    # DEBUG is off by default, so the settings need a key; tests and the servers they start share this one.
    "DJANGO_SECRET_KEY": "test-only-secret-key-not-for-production-0123456789",
    # SSO configured (against the fake SSO servers tests start); the tests of an unconfigured SSO blank these.
    "EVE_CLIENT_SECRET": "test-only-client-secret",
    "TOKEN_ENCRYPTION_KEY": "test-only-token-encryption-key",
    # Tests send many requests from one address; the throttle tests set their own rates.
    "THROTTLE_ANON_RATE": "100000/min",
    "THROTTLE_ANON_BURST_RATE": "100000/s",
    "THROTTLE_USER_RATE": "100000/min",
    "THROTTLE_EXPENSIVE_RATE": "100000/min",
    "API_EXPENSIVE_CONCURRENCY": "1000",
}.items():
    os.environ.setdefault(_name, _value)

worker_environment_apply()

from evesite.settings.production import *  # noqa: E402,F403

NEO4J_SDE_BOLT_URL = os.environ["NEO4J_SDE_BOLT_URL"]
# Its ``flush`` keeps the SDE tables after a transactional test that did not write them (evesite/testing/sde.py).
INSTALLED_APPS = [*INSTALLED_APPS, "evesite.testing"]  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["*"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# Tests never run collectstatic; without a root WhiteNoise has nothing to index.
STATIC_ROOT = None
