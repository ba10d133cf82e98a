"""The Redis side of the contract cache: one entry per contract, kept until it expires (at most 30 days)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

KEY_PREFIX = "contracts:v1:contract:"


def contract_cache_key(contract_id: int) -> str:
    """Return the cache key of a contract.

    Args:
        contract_id: The contract.

    Returns:
        The key (Django's cache adds its own prefix).
    """
    return f"{KEY_PREFIX}{contract_id}"


def contract_cache_ttl(*, date_expired: datetime, now: datetime | None = None) -> int:
    """Seconds a contract stays cached: until it expires, never more than ``CONTRACTS_MAX_CACHE_DAYS``.

    Args:
        date_expired: The contract's expiry.
        now: The current time (defaults to now).

    Returns:
        Whole seconds, 0 when already expired.
    """
    now = now or timezone.now()
    left = (date_expired - now).total_seconds()
    cap = float(settings.CONTRACTS_MAX_CACHE_DAYS) * 86400.0
    return max(0, math.ceil(min(left, cap)))


def contract_cache_get(contract_id: int) -> dict[str, Any] | None:
    """Read a cached contract.

    Args:
        contract_id: The contract.

    Returns:
        ``{"contract": {...}, "items": [...] | None, "items_status": str}``, or None.
    """
    entry = cache.get(contract_cache_key(contract_id))
    return entry if isinstance(entry, dict) else None


def contract_cache_many(contract_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Read many cached contracts in one round trip.

    Args:
        contract_ids: The contracts.

    Returns:
        The entries found, by contract id.
    """
    keys = {contract_cache_key(c): c for c in contract_ids}
    found = cache.get_many(list(keys))
    return {keys[k]: v for k, v in found.items() if isinstance(v, dict)}


def contract_cache_set(*, contract_id: int, entry: dict[str, Any], date_expired: datetime) -> int:
    """Store a contract until it expires (nothing is stored for an expired contract).

    Args:
        contract_id: The contract.
        entry: What to store.
        date_expired: The contract's expiry.

    Returns:
        The TTL used, in seconds (0 when nothing was stored).
    """
    ttl = contract_cache_ttl(date_expired=date_expired)
    if ttl > 0:
        cache.set(contract_cache_key(contract_id), entry, timeout=ttl)
    return ttl
