"""The image cache (images.evetech.net): sizes, ages, abuse limits."""

from __future__ import annotations

from evesite.env import (
    env_float,
    env_int,
    env_str,
)

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
