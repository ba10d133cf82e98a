"""The ESI client: timeouts, delays, error limits, rate-limit budgets, lockdown."""

from __future__ import annotations

from evesite.env import (
    env_float,
    env_int,
    env_str,
)

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
