"""Django settings for evesite.

The environment is read here and nowhere else. Every variable is documented
in the README. Secrets (``DJANGO_SECRET_KEY`` in production,
``EVE_CLIENT_SECRET``, ``TOKEN_ENCRYPTION_KEY``) have no default.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

from evesite.env import (
    env_bool,
    env_float,
    env_int,
    env_int_list,
    env_list,
    env_required,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------- core
# Off unless asked for: Django's debug page shows settings (passwords in URLs) to anyone who triggers an error.
DEBUG = env_bool("DJANGO_DEBUG", False)


def _local_secret_key() -> str:
    """Return a per-checkout random key for local development, made once.

    Returns:
        The key stored in ``.local_secret_key`` (git-ignored).
    """
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
    "PAGE_SIZE": 50,
    # Counted in Redis (evesite.throttling), shared by every web process. Views with expensive work add
    # ExpensiveRateThrottle; health and image hits have none.
    "DEFAULT_THROTTLE_CLASSES": ["evesite.throttling.AnonRateThrottle", "evesite.throttling.UserRateThrottle"],
    "NUM_PROXIES": API_NUM_PROXIES,
    "DEFAULT_THROTTLE_RATES": {
        # Every API request of an anonymous client (per IP address).
        "anon": env_str("THROTTLE_ANON_RATE", "60/min"),
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

# --------------------------------------------------------------------------- Celery
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"


def _beat_schedule() -> dict[str, dict[str, object]]:
    """Merge the ``BEAT_SCHEDULE`` of every app's ``schedule.py``.

    Returns:
        Celery beat's schedule.
    """
    from importlib import import_module

    merged: dict[str, dict[str, object]] = {}
    for app in ("universe", "esi", "market", "routing", "contracts", "imagecache", "accounts", "jobs"):
        merged.update(import_module(f"{app}.schedule").BEAT_SCHEDULE)
    return merged


CELERY_BEAT_SCHEDULE = _beat_schedule()

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

# --------------------------------------------------------------------------- EVE: SSO and accounts
EVE_CLIENT_ID = env_str("EVE_CLIENT_ID", "5e0952c68665441aae27846cb735138e")
EVE_CLIENT_SECRET = env_str("EVE_CLIENT_SECRET")  # secret: no default
EVE_CALLBACK_URL = env_str("EVE_CALLBACK_URL", "http://localhost:7777/auth/complete/eveonline/")
EVE_SSO_URL = env_str("EVE_SSO_URL", "https://login.eveonline.com")
EVE_SSO_SCOPES = env_list("EVE_SSO_SCOPES", ["esi-location.read_location.v1", "esi-markets.structure_markets.v1"])


def _local_token_key() -> str | None:
    """Return this checkout's own TOKEN_ENCRYPTION_KEY for debug runs, made once (like ``.local_secret_key``).

    Returns:
        The key kept in ``.local_token_key`` (git-ignored, mode 600; ``make run`` uses the same file), or None
        when the file cannot be written (SSO then stays off: ``accounts.W001``).
    """
    path = BASE_DIR / ".local_token_key"
    try:
        if not path.exists() or not path.read_text().strip():
            tmp = path.with_name(f".local_token_key.{secrets.token_hex(4)}.tmp")
            tmp.write_text(secrets.token_urlsafe(50) + "\n")
            tmp.chmod(0o600)
            tmp.replace(path)
        return path.read_text().strip() or None
    except OSError:
        return None


# Secret, no default in production; a debug run without it keeps a generated key in .local_token_key.
TOKEN_ENCRYPTION_KEY = env_str("TOKEN_ENCRYPTION_KEY") or (_local_token_key() if DEBUG else None)
# Accepted `iss` values of CCP's access-token JWTs.
EVE_SSO_ISSUERS = env_list("EVE_SSO_ISSUERS", ["login.eveonline.com", "https://login.eveonline.com"])
EVE_SSO_TIMEOUT_SECONDS = env_float("EVE_SSO_TIMEOUT_SECONDS", 10.0)
EVE_SSO_RETRIES = env_int("EVE_SSO_RETRIES", 2)
EVE_SSO_RETRY_DELAY_SECONDS = env_float("EVE_SSO_RETRY_DELAY_SECONDS", 1.0)
EVE_SSO_JWKS_CACHE_SECONDS = env_float("EVE_SSO_JWKS_CACHE_SECONDS", 3600.0)
EVE_SSO_JWT_LEEWAY_SECONDS = env_float("EVE_SSO_JWT_LEEWAY_SECONDS", 5.0)
EVE_TOKEN_REFRESH_MARGIN_SECONDS = env_float("EVE_TOKEN_REFRESH_MARGIN_SECONDS", 60.0)
AUTHENTICATION_BACKENDS = ["accounts.backends.EveOnlineSsoV2", "django.contrib.auth.backends.ModelBackend"]
SOCIAL_AUTH_PIPELINE = (
    "social_core.pipeline.social_auth.social_details",
    "social_core.pipeline.social_auth.social_names",
    "social_core.pipeline.social_auth.social_uid",
    "social_core.pipeline.social_auth.auth_allowed",
    # A new owner hash: the character leaves its previous user (tokens, association, sessions) for a fresh one.
    "accounts.pipeline.character_transfer_detach",
    "social_core.pipeline.social_auth.social_user",
    "social_core.pipeline.user.get_username",
    "social_core.pipeline.user.create_user",
    "social_core.pipeline.social_auth.associate_user",
    "social_core.pipeline.social_auth.load_extra_data",
    "social_core.pipeline.user.user_details",
    "accounts.pipeline.character_tokens_store",
    "accounts.pipeline.character_transfer_login",
)
SOCIAL_AUTH_LOGIN_REDIRECT_URL = env_str("EVE_LOGIN_REDIRECT_URL", "/api/me/")
SOCIAL_AUTH_RAISE_EXCEPTIONS = False  # failures render social_django's error page with a 4xx/5xx status
SOCIAL_AUTH_REQUESTS_TIMEOUT = EVE_SSO_TIMEOUT_SECONDS
LOGIN_REDIRECT_URL = SOCIAL_AUTH_LOGIN_REDIRECT_URL
MIDDLEWARE += ["social_django.middleware.SocialAuthExceptionMiddleware"]
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})["RouteModeEnum"] = "accounts.models.RouteMode"  # type: ignore[index]

# --------------------------------------------------------------------------- EVE: ESI
ESI_BASE_URL = env_str("ESI_BASE_URL", "https://esi.evetech.net")
ESI_COMPATIBILITY_DATE = env_str("ESI_COMPATIBILITY_DATE", "2025-08-26")
ESI_CONTACT = env_str("ESI_CONTACT", "https://github.com/evesite/evesite")
ESI_USER_AGENT = env_str("ESI_USER_AGENT", f"evesite/0.1 (+{ESI_CONTACT})")
ESI_TIMEOUT_SECONDS = env_float("ESI_TIMEOUT_SECONDS", 10.0)
ESI_PAGE_DELAY_SECONDS = env_float("ESI_PAGE_DELAY_SECONDS", 2.0)
ESI_REGION_DELAY_SECONDS = env_float("ESI_REGION_DELAY_SECONDS", 5.0)
ESI_ERROR_SLEEP_SECONDS = env_float("ESI_ERROR_SLEEP_SECONDS", 30.0)
ESI_LOCKDOWN_SECONDS = env_float("ESI_LOCKDOWN_SECONDS", 60.0)
# Longest lockdown a 429's Retry-After or a 420's X-ESI-Error-Limit-Reset can ask for (longer asks are cut).
ESI_MAX_RETRY_AFTER_SECONDS = env_float("ESI_MAX_RETRY_AFTER_SECONDS", 900.0)
# Stop when X-ESI-Error-Limit-Remain falls to this many errors left, until X-ESI-Error-Limit-Reset.
ESI_ERROR_LIMIT_LOW_WATER = env_int("ESI_ERROR_LIMIT_LOW_WATER", 10)
# Keep this share of a route group's rate-limit tokens (X-Ratelimit-Limit) in reserve.
ESI_RATE_LIMIT_LOW_WATER = env_float("ESI_RATE_LIMIT_LOW_WATER", 0.1)
# Longest in-call wait for a budget to refill; longer waits raise HTTP 429 with Retry-After.
ESI_MAX_WAIT_SECONDS = env_float("ESI_MAX_WAIT_SECONDS", 65.0)
# Per-process token bucket: burst size and refill rate (requests per second).
ESI_BUCKET_CAPACITY = env_float("ESI_BUCKET_CAPACITY", 20.0)
ESI_BUCKET_REFILL_PER_SECOND = env_float("ESI_BUCKET_REFILL_PER_SECOND", 10.0)
# Restarts of a page walk whose Last-Modified changed before giving up.
ESI_PAGE_WALK_RESTARTS = env_int("ESI_PAGE_WALK_RESTARTS", 2)
# How long an expired response is kept for If-None-Match revalidation.
ESI_CACHE_KEEP_SECONDS = env_float("ESI_CACHE_KEEP_SECONDS", 3600.0)
# One page walk at a time across every process; a walk's lock lapses this long after its last page (dead worker).
ESI_WALK_LOCK_SECONDS = env_float("ESI_WALK_LOCK_SECONDS", 120.0)
# Longest a worker waits for its turn to walk before giving up.
ESI_WALK_WAIT_SECONDS = env_float("ESI_WALK_WAIT_SECONDS", 3600.0)

# --------------------------------------------------------------------------- background jobs
# A running job that wrote nothing for this long lost its worker: a redelivered task takes it over.
JOBS_STALE_SECONDS = env_float("JOBS_STALE_SECONDS", 300.0)
# Ended jobs are deleted after this many days.
JOBS_KEEP_DAYS = env_float("JOBS_KEEP_DAYS", 7.0)

# --------------------------------------------------------------------------- EVE: images
IMAGE_SERVER_URL = env_str("IMAGE_SERVER_URL", "https://images.evetech.net")
IMAGE_SERVER_TIMEOUT_SECONDS = env_float("IMAGE_SERVER_TIMEOUT_SECONDS", 10.0)
# Largest upstream body accepted (read with a cap; bigger answers are a 502, nothing stored).
IMAGE_MAX_BYTES = env_int("IMAGE_MAX_BYTES", 1024 * 1024)
# How long an upstream 404 is remembered in Redis (no upstream request for that image meanwhile).
IMAGE_NEGATIVE_CACHE_SECONDS = env_float("IMAGE_NEGATIVE_CACHE_SECONDS", 600.0)
# How old a cached image may get before the refresh job downloads it again, per variant.
IMAGE_MAX_AGE_SECONDS = {
    "icon": env_float("IMAGE_MAX_AGE_ICON_SECONDS", 30 * 86400.0),
    "portrait": env_float("IMAGE_MAX_AGE_PORTRAIT_SECONDS", 86400.0),
    "logo": env_float("IMAGE_MAX_AGE_LOGO_SECONDS", 7 * 86400.0),
}
# Cache-Control max-age sent to clients (they revalidate with If-None-Match afterwards).
IMAGE_CLIENT_MAX_AGE_SECONDS = env_int("IMAGE_CLIENT_MAX_AGE_SECONDS", 86400)
# How long concurrent misses wait for the one request that fetches the same image.
IMAGE_LOCK_WAIT_SECONDS = env_float("IMAGE_LOCK_WAIT_SECONDS", 2 * IMAGE_SERVER_TIMEOUT_SECONDS + 5.0)
# How long an upstream failure (5xx, timeout, bad body) is answered with 502 without asking again.
IMAGE_FAILURE_CACHE_SECONDS = env_float("IMAGE_FAILURE_CACHE_SECONDS", 5.0)
# Pause between two downloads of the stale-image refresh job (politeness).
IMAGE_REFRESH_DELAY_SECONDS = env_float("IMAGE_REFRESH_DELAY_SECONDS", 0.2)
# ---- image cache abuse limits (issue 14)
# Downloads from the image server (cache misses) per minute, per client address (as the throttles see it;
# IPv6 per /64) and in total, counted in Redis by every process; past either a miss is a 429 with
# Retry-After. 0 = no limit.
IMAGE_MISS_PER_IP_PER_MINUTE = env_int("IMAGE_MISS_PER_IP_PER_MINUTE", 30)
IMAGE_MISS_GLOBAL_PER_MINUTE = env_int("IMAGE_MISS_GLOBAL_PER_MINUTE", 300)
# Total bytes of stored images (MiB); past it the least recently served rows are deleted after each download.
IMAGE_CACHE_MAX_MB = env_int("IMAGE_CACHE_MAX_MB", 512)
# A hit records when the image was last served at most this often, so hits rarely write.
IMAGE_LAST_USED_UPDATE_SECONDS = env_int("IMAGE_LAST_USED_UPDATE_SECONDS", 3600)

# --------------------------------------------------------------------------- EVE: market
MARKET_DEFAULT_SALES_TAX = env_float("MARKET_DEFAULT_SALES_TAX", 8.0)
MARKET_DEFAULT_BROKER_FEE = env_float("MARKET_DEFAULT_BROKER_FEE", 3.0)
# The Forge, Domain, Sinq Laison, Metropolis, Heimatar: the main trade hubs' regions.
MARKET_SNAPSHOT_REGIONS = env_int_list("MARKET_SNAPSHOT_REGIONS", [10000002, 10000043, 10000032, 10000042, 10000030])
# How long a region's orders count as fresh (Redis copy TTL; station and region scans refetch after it).
MARKET_CACHE_SECONDS = env_int("MARKET_CACHE_SECONDS", 1800)
# Rows returned by default: station scan, region and global scans; and the largest `limit` accepted.
MARKET_STATION_SCAN_LIMIT = env_int("MARKET_STATION_SCAN_LIMIT", 30)
MARKET_SCAN_LIMIT = env_int("MARKET_SCAN_LIMIT", 50)
MARKET_SCAN_MAX_LIMIT = env_int("MARKET_SCAN_MAX_LIMIT", 500)
# Longest a region refresh job holds its region (a dead worker's hold lapses after it).
MARKET_REFRESH_LOCK_SECONDS = env_int("MARKET_REFRESH_LOCK_SECONDS", 3600)
# After a failed refresh, scans of that region point at the failed job this long instead of queueing another.
MARKET_REFRESH_RETRY_SECONDS = env_int("MARKET_REFRESH_RETRY_SECONDS", 60)
# PostgreSQL work_mem of a scan query (its sorts and hashes stay in memory).
MARKET_SCAN_WORK_MEM = env_str("MARKET_SCAN_WORK_MEM", "64MB")

# --------------------------------------------------------------------------- EVE: routing / kills
ZKILLBOARD_URL = env_str("ZKILLBOARD_URL", "https://zkillboard.com")
ZKILLBOARD_R2Z2_URL = env_str("ZKILLBOARD_R2Z2_URL", "https://r2z2.zkillboard.com")
# zKillboard asks for a real User-Agent, gzip, and at most ~15 requests/s on R2Z2 (we space them much wider).
ZKILLBOARD_USER_AGENT = env_str("ZKILLBOARD_USER_AGENT", ESI_USER_AGENT)
ZKILLBOARD_TIMEOUT_SECONDS = env_float("ZKILLBOARD_TIMEOUT_SECONDS", 10.0)
ZKILLBOARD_REQUEST_DELAY_SECONDS = env_float("ZKILLBOARD_REQUEST_DELAY_SECONDS", 0.2)
ZKILLBOARD_RETRIES = env_int("ZKILLBOARD_RETRIES", 2)
ZKILLBOARD_RETRY_DELAY_SECONDS = env_float("ZKILLBOARD_RETRY_DELAY_SECONDS", 5.0)
# Longest wait before a retry that zKillboard's Retry-After may ask for.
ZKILLBOARD_MAX_RETRY_AFTER_SECONDS = env_float("ZKILLBOARD_MAX_RETRY_AFTER_SECONDS", 120.0)
ZKILLBOARD_MAX_RECORDS_PER_RUN = env_int("ZKILLBOARD_MAX_RECORDS_PER_RUN", 300)
# Neo4j label of the routed systems (tests point it at a scratch label).
ROUTING_GRAPH_LABEL = env_str("ROUTING_GRAPH_LABEL", "SolarSystem")
# Critical: at least N kills within T minutes, or a smartbomb kill within T minutes.
ROUTING_CRITICAL_KILLS = env_int("ROUTING_CRITICAL_KILLS", 5)
ROUTING_CRITICAL_WINDOW_MINUTES = env_float("ROUTING_CRITICAL_WINDOW_MINUTES", 10.0)
# High / elevated: ship + pod kills in the last hour (ESI system_kills or the zKillboard feed).
ROUTING_HIGH_KILLS_PER_HOUR = env_int("ROUTING_HIGH_KILLS_PER_HOUR", 10)
ROUTING_ELEVATED_KILLS_PER_HOUR = env_int("ROUTING_ELEVATED_KILLS_PER_HOUR", 3)
# Extra weight (in jumps) of every gate into a system of that level.
ROUTING_PENALTY_CRITICAL = env_float("ROUTING_PENALTY_CRITICAL", 50.0)
ROUTING_PENALTY_HIGH = env_float("ROUTING_PENALTY_HIGH", 5.0)
ROUTING_PENALTY_ELEVATED = env_float("ROUTING_PENALTY_ELEVATED", 1.0)
# Lexicographic constant of secure/insecure modes: one unwanted jump outweighs any number of others.
ROUTING_SECURITY_PENALTY = env_float("ROUTING_SECURITY_PENALTY", 1_000_000.0)
# A kill this close to a stargate (km) is reported "at" that gate.
ROUTING_GATE_RADIUS_KM = env_float("ROUTING_GATE_RADIUS_KM", 100.0)
# How long zKillboard kills and ESI's hourly counts are kept in Redis.
ROUTING_KILL_TTL_SECONDS = env_int("ROUTING_KILL_TTL_SECONDS", 3600)
ROUTING_SYSTEM_KILLS_TTL_SECONDS = env_int("ROUTING_SYSTEM_KILLS_TTL_SECONDS", 7200)
# How often a route query re-checks that every gate carries its weights.
ROUTING_WEIGHTS_CHECK_SECONDS = env_float("ROUTING_WEIGHTS_CHECK_SECONDS", 60.0)
# Longest time the risk written to the graph is trusted before a route query writes it again.
ROUTING_RISK_RESYNC_SECONDS = env_float("ROUTING_RISK_RESYNC_SECONDS", 300.0)

# --------------------------------------------------------------------------- EVE: contracts
# Regions whose public contracts the Celery beat refreshes (same hubs as the market by default).
CONTRACTS_REGIONS = env_int_list("CONTRACTS_REGIONS", [10000002, 10000043, 10000032, 10000042, 10000030])
# Contracts and items stay cached until the contract expires, never longer than this.
CONTRACTS_MAX_CACHE_DAYS = env_float("CONTRACTS_MAX_CACHE_DAYS", 30.0)
# Item fetches per region run (one ESI call per contract, once ever); the rest waits for the next run.
CONTRACTS_ITEM_FETCHES_PER_RUN = env_int("CONTRACTS_ITEM_FETCHES_PER_RUN", 2000)
# Auctions: fetch the bids (current bid) again when older than this; 0 disables bid fetching.
CONTRACTS_BIDS_MAX_AGE_SECONDS = env_float("CONTRACTS_BIDS_MAX_AGE_SECONDS", 3600.0)
# Where the Jita split comes from: the station's orders in the region's latest market snapshot.
CONTRACTS_PRICE_STATION_ID = env_int("CONTRACTS_PRICE_STATION_ID", 60003760)
CONTRACTS_PRICE_REGION_ID = env_int("CONTRACTS_PRICE_REGION_ID", 10000002)
CONTRACTS_COURIER_ROUTE_MODE = env_str("CONTRACTS_COURIER_ROUTE_MODE", "shortest")
# Dotted path of the price lookup (signature of market.selectors.market_station_best_prices).
CONTRACTS_PRICE_LOOKUP = env_str("CONTRACTS_PRICE_LOOKUP", "market.selectors.market_station_best_prices")

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
# Neo4j transaction timeout of the route queries a web request runs.
NEO4J_QUERY_TIMEOUT_SECONDS = env_float("NEO4J_QUERY_TIMEOUT_SECONDS", 5.0)

# ---- route-aware hauling scans and jump tables (issue 17; routing/jumps*.py, market/haul*.py)
# Most on-the-fly source trees one scan may compute (avoid lists, systems without NPC stations, a jump table
# being rebuilt); beyond it a scan with avoid answers 400, one waiting for a rebuilt table 503.
ROUTING_JUMPS_MAX_TREES = env_int("ROUTING_JUMPS_MAX_TREES", 400)
# How long the graph's fingerprint is trusted in Redis (the ingestion hook and every build refresh it).
ROUTING_JUMPS_STATE_SECONDS = env_int("ROUTING_JUMPS_STATE_SECONDS", 60)
# A plain (avoid_risk=false) table whose risk changed keeps its routes; its max_risk is rebuilt after this long
# (scans recompute max_risk of the rows they answer meanwhile).
ROUTING_JUMPS_RISK_SUMMARY_SECONDS = env_float("ROUTING_JUMPS_RISK_SUMMARY_SECONDS", 900.0)
# Sources per block of the vectorised tree walk (memory: about 40 bytes per source and routed system).
ROUTING_JUMPS_SOURCE_BLOCK = env_int("ROUTING_JUMPS_SOURCE_BLOCK", 512)

# ---- market history and daily volume (issue 18; market/history*.py)
# Fetch ESI's daily market history of the types that have orders in each snapshotted region (beat, hourly).
MARKET_HISTORY_ENABLED = env_bool("MARKET_HISTORY_ENABLED", True)
# Regions whose history the beat keeps fresh (the snapshotted hubs by default; each needs a current snapshot).
MARKET_HISTORY_REGIONS = env_int_list("MARKET_HISTORY_REGIONS", MARKET_SNAPSHOT_REGIONS)
# avg_daily_volume: summed volume of the last N calendar days ending at the region's latest history date, / N.
MARKET_HISTORY_DAYS = env_int("MARKET_HISTORY_DAYS", 30)
# Days of history stored per type (older days of ESI's ~13 months are not kept); at least MARKET_HISTORY_DAYS.
MARKET_HISTORY_KEEP_DAYS = env_int("MARKET_HISTORY_KEEP_DAYS", 90)
# Types fetched per hold of the ESI walk slot (one stored transaction each): order walks get the slot in between.
MARKET_HISTORY_BATCH_TYPES = env_int("MARKET_HISTORY_BATCH_TYPES", 50)
# A region's history job holds it this long past its last batch (a dead worker frees it).
MARKET_HISTORY_LOCK_SECONDS = env_int("MARKET_HISTORY_LOCK_SECONDS", 900)
