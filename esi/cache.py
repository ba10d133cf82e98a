"""ESI's response cache in Redis: freshness from ``Expires``/``max-age``, ETags for revalidation.

An entry is kept for its freshness plus ``ESI_CACHE_KEEP_SECONDS``, so that a
stale copy can still be revalidated with ``If-None-Match`` (a 304 costs no body).
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from requests.structures import CaseInsensitiveDict

from esi import limits
from esi.models import payload_validate
from esi.response import EsiResponse, http_date

CACHE_PREFIX = "esi:cache:"


def expires_at(headers: CaseInsensitiveDict[str], now: float) -> float | None:
    """Work out when a response goes stale.

    ``Expires`` wins; else ``Cache-Control: max-age``; ``no-store``/``no-cache`` mean now.

    Args:
        headers: Response headers.
        now: Epoch seconds when the response arrived.

    Returns:
        Epoch seconds, or None when the response carries no freshness.
    """
    control = (headers.get("Cache-Control") or "").lower()
    if "no-store" in control or "no-cache" in control:
        return now
    expires = http_date(headers.get("Expires"))
    if expires is not None:
        return expires.timestamp()
    for part in control.split(","):
        name, _, value = part.strip().partition("=")
        if name == "max-age" and value.strip().isdigit():
            return now + int(value)
    return None


def cache_key(url: str, owner: str) -> str:
    """Return the Redis key of a cached response.

    Args:
        url: Full URL.
        owner: Budget owner (authenticated answers are cached per token).

    Returns:
        The key.
    """
    return CACHE_PREFIX + hashlib.sha256(f"{owner}|{url}".encode()).hexdigest()


def cache_entry_get(key: str) -> dict[str, Any] | None:
    """Read a cached entry.

    Args:
        key: Its Redis key (:func:`cache_key`).

    Returns:
        The entry (body, status, headers, expires_at), or None.
    """
    raw_entry = limits.redis_connection().get(key)
    return json.loads(raw_entry) if raw_entry else None


def cache_entry_store(key: str, entry: dict[str, Any], now: float) -> None:
    """Keep a response for its freshness plus ``ESI_CACHE_KEEP_SECONDS`` (for ETag revalidation).

    Args:
        key: Redis key.
        entry: What to store.
        now: Epoch seconds.
    """
    fresh = max(0.0, (entry.get("expires_at") or now) - now)
    keep = math.ceil(fresh + float(settings.ESI_CACHE_KEEP_SECONDS))
    limits.redis_connection().set(key, json.dumps(entry), ex=max(1, keep))


def response_from_entry(entry: dict[str, Any], url: str, path: str, *, received_at: float | None) -> EsiResponse:
    """Rebuild a response from a cache entry (its models validated again, as on arrival).

    Args:
        entry: The stored entry.
        url: Full URL.
        path: Spec path (picks the payload model).
        received_at: When the 304 arrived, or None for a pure cache hit.

    Returns:
        The response with ``from_cache`` set.
    """
    headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(entry["headers"])
    data = json.loads(entry["body"])
    return EsiResponse(
        data=data,
        status=int(entry["status"]),
        headers=headers,
        expires=datetime.fromtimestamp(entry["expires_at"], tz=UTC) if entry.get("expires_at") else None,
        last_modified=http_date(headers.get("Last-Modified")),
        etag=headers.get("ETag"),
        from_cache=True,
        url=url,
        models=payload_validate(path=path, data=data),
        received_at=received_at,
    )
