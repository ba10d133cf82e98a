"""Django core settings: debug, keys, datastores, security, static files, the API, jobs, the SDE, logging."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

from evesite.env import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_required,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parents[2]

# --------------------------------------------------------------------------- core
# Off unless asked for: Django's debug page shows settings (passwords in URLs) to anyone who triggers an error.
DEBUG = env_bool("DJANGO_DEBUG", False)


def _local_secret_key() -> str:
    """Return a per-checkout random key for local development, made once."""
    path = BASE_DIR / ".local_secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = env_str("DJANGO_SECRET_KEY") or (_local_secret_key() if DEBUG else env_required("DJANGO_SECRET_KEY"))
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", ["http://localhost:7777", "http://127.0.0.1:7777"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "social_django",
    "universe",
    "esi",
    "market",
    "routing",
    "contracts",
    "imagecache",
    "accounts",
    "jobs",
    "appraisal",
]

MIDDLEWARE = [
    # An anonymous address the throttle just refused is refused again here, cheaply, until its Retry-After.
    "evesite.gate.throttle_gate_middleware",
    "django.middleware.security.SecurityMiddleware",
    # Bodies over API_MAX_BODY_BYTES answer 413 before anything reads them (DRF's parsers ignore Django's caps).
    "evesite.middleware.request_body_limit_middleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # ESI calls made while a web request is served never sleep (errors answer at once).
    "esi.middleware.esi_web_request_middleware",
]

ROOT_URLCONF = "evesite.urls"
CSRF_FAILURE_VIEW = "evesite.handlers.csrf_failure"
WSGI_APPLICATION = "evesite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --------------------------------------------------------------------------- datastores
# The local server through Debian's socket directory (about half the CPU of TCP loopback per query).
DATABASE_URL = env_str("DATABASE_URL", "postgres://evesite:evesite@%2Fvar%2Frun%2Fpostgresql:5432/evesite")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
# Django turns psycopg's automatic server-side preparing off (prepare_threshold None), and psycopg then ignores
# prepare=True too. A threshold no query reaches keeps automatic preparing off (its generic plans could misfit
# the market scans) while a call that asks, like the image-cache hit, gets a prepared statement.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 2**31 - 1)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 3,
            "SOCKET_TIMEOUT": 5,
            # JSON, never pickle: whoever can write to Redis must not run code in our processes by planting
            # a value. Every value cached holds plain data (sessions, contract entries, the JWKS, image
            # markers and lock stamps), checked by evesite/tests/test_cache_serializer.py.
            "SERIALIZER": "django_redis.serializers.json.JSONSerializer",
        },
        "KEY_PREFIX": "evesite",
        # 2 since the JSON serializer: the pickled values of version 1 are never read (they expire on their own).
        "VERSION": 2,
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
SESSION_CACHE_ALIAS = "default"

# neomodel form: bolt://user:password@host:7687
NEO4J_BOLT_URL = env_str("NEO4J_BOLT_URL", "bolt://neo4j:password@127.0.0.1:7687")
NEO4J_CONNECTION_TIMEOUT_SECONDS = env_float("NEO4J_CONNECTION_TIMEOUT_SECONDS", 5.0)

# --------------------------------------------------------------------------- security (production)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Reverse proxies in front of the app. 0: X-Forwarded-For and X-Forwarded-Proto come from clients and are
# ignored (a client could forge its address or claim https). Behind one TLS proxy set 1: the throttles count
# the address that proxy saw, and its X-Forwarded-Proto says whether the request came over https.
API_NUM_PROXIES = env_int("API_NUM_PROXIES", 0)
if API_NUM_PROXIES > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --------------------------------------------------------------------------- i18n / static
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT: Path | None = BASE_DIR / "staticfiles"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --------------------------------------------------------------------------- API
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "evesite.exceptions.api_exception_handler",
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PAGINATION_CLASS": "evesite.pagination.BoundedLimitOffsetPagination",
    # JSON bodies only (the schemas' types are JSON's; a form is 415), nested too deeply answered 400 (not 500).
    "DEFAULT_PARSER_CLASSES": ["evesite.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["evesite.renderers.FastJSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"],
    "PAGE_SIZE": 50,
    # Counted in Redis (evesite.throttling), shared by every web process. Views with expensive work add
    # ExpensiveRateThrottle; health and image hits have none.
    "DEFAULT_THROTTLE_CLASSES": [
        "evesite.throttling.AnonRateThrottle",
        "evesite.throttling.AnonBurstRateThrottle",
        "evesite.throttling.UserRateThrottle",
    ],
    "NUM_PROXIES": API_NUM_PROXIES,
    "DEFAULT_THROTTLE_RATES": {
        # Every API request of an anonymous client (per IP address).
        "anon": env_str("THROTTLE_ANON_RATE", "60/min"),
        # The same requests over a short window: an anonymous client cannot spend its minute at once.
        "anon_burst": env_str("THROTTLE_ANON_BURST_RATE", "10/10s"),
        # Every API request of a logged-in user.
        "user": env_str("THROTTLE_USER_RATE", "600/min"),
        # Scans, SVG routes, appraisal, haul plans: per user, or per IP address when anonymous.
        "expensive": env_str("THROTTLE_EXPENSIVE_RATE", "20/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "evesite API",
    "DESCRIPTION": "Backend for EVE Online traders and haulers: market scans, routes, contracts, images.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files come from this site (drf-spectacular-sidecar), not from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation declares the error answers the layers around its view can give (evesite/openapi.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "evesite.openapi.error_responses_postprocess",
    ],
}

# Expensive requests (scans, SVG routes) running at once across every web process; one more answers 429 busy
# (evesite.admission). Half the CPUs by default, so cheap requests and health always find a free one. 0: no cap.
API_EXPENSIVE_CONCURRENCY = env_int("API_EXPENSIVE_CONCURRENCY", max(1, (os.cpu_count() or 2) // 2))
# A slot whose process died lapses after this long.
API_EXPENSIVE_SLOT_SECONDS = env_float("API_EXPENSIVE_SLOT_SECONDS", 60.0)

# --------------------------------------------------------------------------- EVE: static data
EVE_DATA_DIR = Path(env_str("EVE_DATA_DIR", str(BASE_DIR / "eve_data")))
if not EVE_DATA_DIR.is_absolute():
    EVE_DATA_DIR = BASE_DIR / EVE_DATA_DIR
# Real public data used by tests and benchmarks (never copied into the repo).
EVE_SHARED_DIR = Path(env_str("EVE_SHARED_DIR", str(BASE_DIR.parent / "shared")))
FUZZWORK_DUMP_URL = env_str("FUZZWORK_DUMP_URL", "https://www.fuzzwork.co.uk/dump/")
FUZZWORK_TIMEOUT_SECONDS = env_float("FUZZWORK_TIMEOUT_SECONDS", 60.0)
FUZZWORK_RETRIES = env_int("FUZZWORK_RETRIES", 2)
FUZZWORK_RETRY_DELAY_SECONDS = env_float("FUZZWORK_RETRY_DELAY_SECONDS", 5.0)

# --------------------------------------------------------------------------- background jobs
# A running job that wrote nothing for this long lost its worker: a redelivered task takes it over.
JOBS_STALE_SECONDS = env_float("JOBS_STALE_SECONDS", 300.0)
# Ended jobs are deleted after this many days.
JOBS_KEEP_DAYS = env_float("JOBS_KEEP_DAYS", 7.0)

# --------------------------------------------------------------------------- logging
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"neo4j": {"level": "WARNING"}, "neomodel": {"level": "WARNING"}},
}

# ---- request bounds (issue 14)
# Largest `limit` of a paginated list (a larger one is lowered to it).
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 500)
# Largest request body (bytes): a larger Content-Length answers 413 before the body is read.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 65536)
# PostgreSQL statement_timeout of web processes (set by evesite.wsgi; Celery and commands keep none); 0 disables.
DB_WEB_STATEMENT_TIMEOUT_MS = env_int("DB_WEB_STATEMENT_TIMEOUT_MS", 10000)
# Thread switch interval of web processes (set by evesite.wsgi; Python's default is 5 ms): a thread back from
# PostgreSQL, Redis or Neo4j gets the interpreter lock from computing sibling threads within this long.
WEB_GIL_SWITCH_MS = env_float("WEB_GIL_SWITCH_MS", 1.0)
# Neo4j transaction timeout of the route queries a web request runs.
NEO4J_QUERY_TIMEOUT_SECONDS = env_float("NEO4J_QUERY_TIMEOUT_SECONDS", 5.0)
