"""The Redis side of the contract cache: one entry per contract, kept until it expires (at most 30 days)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from contracts.models import Contract, ContractItem, ItemsStatus

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


def contract_entry(contract: Contract, items: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Build the Redis entry of a contract.

    Args:
        contract: The row.
        items: Its item payloads, or None when not fetched.

    Returns:
        A JSON-friendly dict.
    """
    return {
        "contract": {
            "contract_id": contract.contract_id,
            "region_id": contract.region_id,
            "type": contract.type,
            "issuer_id": contract.issuer_id,
            "issuer_corporation_id": contract.issuer_corporation_id,
            "for_corporation": contract.for_corporation,
            "title": contract.title,
            "date_issued": contract.date_issued.isoformat(),
            "date_expired": contract.date_expired.isoformat(),
            "days_to_complete": contract.days_to_complete,
            "start_location_id": contract.start_location_id,
            "end_location_id": contract.end_location_id,
            "price": contract.price,
            "buyout": contract.buyout,
            "reward": contract.reward,
            "collateral": contract.collateral,
            "volume": contract.volume,
        },
        "items_status": contract.items_status,
        "items": items,
    }


def contract_item_payload(item: ContractItem) -> dict[str, Any]:
    """Turn an item row back into its ESI shape.

    Args:
        item: The row.

    Returns:
        The payload dict.
    """
    return {
        "record_id": item.record_id,
        "type_id": item.type_id,
        "quantity": item.quantity,
        "is_included": item.is_included,
        "is_blueprint_copy": item.is_blueprint_copy,
        "item_id": item.item_id,
        "material_efficiency": item.material_efficiency,
        "time_efficiency": item.time_efficiency,
        "runs": item.runs,
    }


def contract_cache_warm(*, contracts: Iterable[Contract]) -> int:
    """Put contracts (and their items when fetched) into Redis until they expire.

    Args:
        contracts: Rows to cache.

    Returns:
        How many entries were written.
    """
    rows = list(contracts)
    fetched_ids = [c.contract_id for c in rows if c.items_status == ItemsStatus.FETCHED]
    items_by_contract: dict[int, list[dict[str, Any]]] = {cid: [] for cid in fetched_ids}
    for item in ContractItem.objects.filter(contract_id__in=fetched_ids).order_by("record_id"):
        items_by_contract[item.contract_id].append(contract_item_payload(item))
    written = 0
    for contract in rows:
        entry = contract_entry(contract, items_by_contract.get(contract.contract_id))
        if contract_cache_set(contract_id=contract.contract_id, entry=entry, date_expired=contract.date_expired):
            written += 1
    return written
