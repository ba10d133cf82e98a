"""Pydantic schemas of contracts' API (shapes only; no logic)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import pydantic

from contracts.models import ContractType, ItemsStatus
from evesite.schemas import RefField, Schema, optional_ref_check

# contracts.selectors.ORDERINGS, each ascending or (``-``) descending; a test keeps the two equal.
ContractOrdering = Literal[
    "profit",
    "profit_pct",
    "items_value",
    "price",
    "date_expired",
    "date_issued",
    "reward",
    "isk_per_jump",
    "-profit",
    "-profit_pct",
    "-items_value",
    "-price",
    "-date_expired",
    "-date_issued",
    "-reward",
    "-isk_per_jump",
]


class ContractQuery(Schema):
    """Query parameters of the contract list (``limit`` and ``offset`` belong to the pagination)."""

    region_id: Annotated[
        int | str | None, RefField(required=False, allow_null=True), pydantic.AfterValidator(optional_ref_check)
    ] = pydantic.Field(None, description="Only this region: an id or exact name (case-insensitive).")
    type: ContractType | None = None
    min_profit: float | None = None
    min_profit_pct: float | None = None
    ordering: ContractOrdering = "-profit_pct"


class Location(Schema):
    """A contract's start or end location."""

    location_id: int
    name: str | None = pydantic.Field(description="Station name; null for a player structure.")
    system_id: int | None
    system_name: str | None
    security: float | None
    region_id: int | None


class Contract(Schema):
    """One contract in the listing, with its valuation (couriers: reward, collateral, jumps, ISK per jump)."""

    contract_id: int
    region_id: int
    type: ContractType
    title: str
    issuer_id: int
    issuer_corporation_id: int
    for_corporation: bool
    date_issued: datetime
    date_expired: datetime
    days_to_complete: int | None
    price: float
    buyout: float | None
    current_bid: float | None
    effective_price: float = pydantic.Field(description="Auctions: current bid, else starting price.")
    reward: float
    collateral: float
    volume_m3: float | None
    items_status: ItemsStatus
    included_value: float | None
    requested_value: float | None
    items_value: float | None
    profit: float | None
    profit_pct: float | None
    item_lines: int
    no_price_lines: int
    blueprint_copy_lines: int
    one_sided_lines: int
    valued_at: datetime | None
    route_jumps: int | None
    isk_per_jump: float | None
    start_location: Location | None
    end_location: Location | None


class ContractItemLine(Schema):
    """One item line of the breakdown."""

    record_id: int
    type_id: int
    type_name: str | None
    quantity: int
    is_included: bool = pydantic.Field(description="False: the acceptor must provide it (requested).")
    is_blueprint_copy: bool | None
    item_id: int | None
    material_efficiency: int | None
    time_efficiency: int | None
    runs: int | None
    jita_split: float | None
    line_value: float
    flags: list[str] = pydantic.Field(description="blueprint_copy, no_price, one_sided_price")


class ContractDetail(Schema):
    """A contract with its item lines, each valued at the Jita split, and the totals."""

    contract: Contract
    items: list[ContractItemLine]
    totals: dict[str, float | None]
    items_source: str = pydantic.Field(description="redis, postgres or none (no items).")
