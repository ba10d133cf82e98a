"""Reads of the contracts app: listing and breakdown, served from the cache (never from ESI)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db.models import Case, F, FloatField, QuerySet, Value, When
from django.db.models.functions import Cast, Greatest
from django.utils import timezone

from contracts.cache import contract_cache_get
from contracts.models import Contract, ContractFetchFailure, ContractItem, ContractType, ItemsStatus
from contracts.prices import PriceLookup, jita_prices_get
from contracts.valuation import Lines, PriceTable, contracts_value
from evesite.exceptions import InvalidInputError, NotFoundError
from universe.models import ItemType, Station

# ``ordering`` values the list accepts (a leading ``-`` sorts descending; NULLs always last).
ORDERINGS = ("profit", "profit_pct", "items_value", "price", "date_expired", "date_issued", "reward", "isk_per_jump")


def _contracts_annotated() -> QuerySet[Contract]:
    """Every cached contract, annotated with ``isk_per_jump`` (couriers: reward / max(jumps, 1))."""
    return Contract.objects.annotate(
        isk_per_jump=Case(
            When(
                type=ContractType.COURIER,
                route_jumps__isnull=False,
                then=F("reward") / Cast(Greatest(F("route_jumps"), Value(1)), FloatField()),
            ),
            default=None,
            output_field=FloatField(),
        )
    )


def contract_list(
    *,
    region_id: int | None = None,
    contract_type: str | None = None,
    min_profit: float | None = None,
    min_profit_pct: float | None = None,
    ordering: str = "-profit_pct",
) -> QuerySet[Contract]:
    """List the active, unexpired cached contracts with their valuation.

    Args:
        region_id: Only this region.
        contract_type: Only this type (``item_exchange``, ``auction``, ``courier``...).
        min_profit: Only contracts with at least this profit (ISK).
        min_profit_pct: Only contracts with at least this profit (percent of the price).
        ordering: One of :data:`ORDERINGS`, optionally prefixed with ``-``.

    Returns:
        The contracts, annotated with ``isk_per_jump`` (couriers: reward / jumps).

    Raises:
        InvalidInputError: For an unknown ordering or type.
    """
    field = ordering.lstrip("-")
    if field not in ORDERINGS:
        raise InvalidInputError(f"ordering must be one of {', '.join(ORDERINGS)} (with an optional '-').")
    if contract_type is not None and contract_type not in ContractType.values:
        raise InvalidInputError(f"type must be one of {', '.join(ContractType.values)}.")
    qs = _contracts_annotated().filter(is_active=True, date_expired__gt=timezone.now())
    if region_id is not None:
        qs = qs.filter(region_id=region_id)
    if contract_type is not None:
        qs = qs.filter(type=contract_type)
    if min_profit is not None:
        qs = qs.filter(profit__gte=min_profit)
    if min_profit_pct is not None:
        qs = qs.filter(profit_pct__gte=min_profit_pct)
    order = F(field).desc(nulls_last=True) if ordering.startswith("-") else F(field).asc(nulls_last=True)
    return qs.order_by(order, "contract_id")


@dataclass(frozen=True)
class Location:
    """A station's names and security (None fields for player structures unknown to the SDE)."""

    location_id: int
    name: str | None
    system_id: int | None
    system_name: str | None
    security: float | None
    region_id: int | None


def locations_get(*, location_ids: Iterable[int | None]) -> dict[int, Location]:
    """Name the locations of contracts.

    Args:
        location_ids: Station or structure ids (None is skipped).

    Returns:
        A location for every id given (unknown ones with None fields).
    """
    wanted = {int(i) for i in location_ids if i is not None}
    found = {
        s.id: Location(
            location_id=s.id,
            name=s.name,
            system_id=s.system_id,
            system_name=s.system.name,
            security=round(s.system.security, 3),
            region_id=s.region_id,
        )
        for s in Station.objects.filter(id__in=wanted).select_related("system")
    }
    unknown = {i: Location(i, None, None, None, None, None) for i in wanted - found.keys()}
    return {**unknown, **found}


def type_names_get(*, type_ids: Iterable[int]) -> dict[int, str]:
    """Name item types from the SDE.

    Args:
        type_ids: The types.

    Returns:
        Names by type id (unknown types are absent).
    """
    return dict(ItemType.objects.filter(id__in=set(type_ids)).values_list("id", "name"))


@dataclass(frozen=True)
class ContractDetail:
    """A contract with its full item breakdown."""

    contract: Contract
    lines: list[dict[str, Any]]
    totals: dict[str, Any]
    locations: dict[int, Location]
    items_source: str


def _items_cached(contract: Contract) -> tuple[list[dict[str, Any]], str]:
    """Read a contract's items from Redis, else PostgreSQL."""
    if contract.items_status != ItemsStatus.FETCHED:
        return [], "none"
    entry = contract_cache_get(contract.contract_id)
    if entry is not None and entry.get("items") is not None:
        return list(entry["items"]), "redis"
    items: list[dict[str, Any]] = [
        dict(row)
        for row in ContractItem.objects.filter(contract_id=contract.contract_id)
        .order_by("record_id")
        .values(
            "record_id",
            "type_id",
            "quantity",
            "is_included",
            "is_blueprint_copy",
            "item_id",
            "material_efficiency",
            "time_efficiency",
            "runs",
        )
    ]
    return items, "postgres"


def contract_detail_get(*, contract_id: int, price_lookup: PriceLookup | None = None) -> ContractDetail:
    """Return a cached contract with every item line valued against the Jita split.

    Args:
        contract_id: The contract.
        price_lookup: Price source (defaults to the market snapshots).

    Returns:
        The breakdown.

    Raises:
        NotFoundError: When the contract is not cached.
    """
    contract = _contracts_annotated().filter(contract_id=contract_id).first()
    if contract is None:
        raise NotFoundError(f"Contract {contract_id} is not cached.")
    items, source = _items_cached(contract)
    type_ids = sorted({int(i["type_id"]) for i in items})
    prices = jita_prices_get(type_ids=type_ids, price_lookup=price_lookup)
    lines = Lines(
        contract_index=np.zeros(len(items), dtype=np.int64),
        type_id=np.array([i["type_id"] for i in items], dtype=np.int64),
        quantity=np.array([i["quantity"] for i in items], dtype=np.float64),
        is_included=np.array([bool(i["is_included"]) for i in items], dtype=np.bool_),
        is_blueprint_copy=np.array([bool(i.get("is_blueprint_copy")) for i in items], dtype=np.bool_),
    )
    valued, totals = contracts_value(
        lines=lines,
        table=PriceTable.from_best_prices(prices),
        price=np.array([contract.price], dtype=np.float64),
        reward=np.array([contract.reward], dtype=np.float64),
        current_bid=np.array([np.nan if contract.current_bid is None else contract.current_bid], dtype=np.float64),
        is_auction=np.array([contract.type == ContractType.AUCTION], dtype=np.bool_),
    )
    names = type_names_get(type_ids=type_ids)
    out_lines = []
    for n, item in enumerate(items):
        flags = [
            flag
            for flag, on in (
                ("blueprint_copy", valued.blueprint_copy[n]),
                ("no_price", valued.no_price[n]),
                ("one_sided_price", valued.one_sided[n]),
            )
            if on
        ]
        split = float(valued.split[n])
        out_lines.append(
            {
                **item,
                "type_name": names.get(int(item["type_id"])),
                "jita_split": None if math.isnan(split) else split,
                "line_value": float(valued.value[n]),
                "flags": flags,
            }
        )

    def _num(values: np.ndarray) -> float | None:
        """Read the one contract's value (None for NaN)."""
        v = float(values[0])
        return None if math.isnan(v) else v

    has_items = contract.type in (ContractType.ITEM_EXCHANGE, ContractType.AUCTION)
    total = {
        "included_value": _num(totals.included_value) if has_items else None,
        "requested_value": _num(totals.requested_value) if has_items else None,
        "items_value": _num(totals.items_value) if has_items else None,
        "price": _num(totals.price),
        "profit": _num(totals.profit) if has_items else None,
        "profit_pct": _num(totals.profit_pct) if has_items else None,
    }
    return ContractDetail(
        contract=contract,
        lines=out_lines,
        totals=total,
        locations=locations_get(location_ids=[contract.start_location_id, contract.end_location_id]),
        items_source=source,
    )


def contract_fetch_failure_find(*, contract_id: int, kind: str) -> ContractFetchFailure | None:
    """Find the remembered failure of a contract's items or bids fetch.

    Args:
        contract_id: The contract.
        kind: ``items`` or ``bids``.

    Returns:
        The failure, or None when that fetch never failed for good.
    """
    return ContractFetchFailure.objects.filter(contract_id=contract_id, kind=kind).first()
