"""ESI payload models (pydantic, validated on arrival) and the admin's status page model.

Field names and types follow ESI's OpenAPI spec (``../shared/esi/openapi.json``,
compatibility date 2025-08-26); a test compares them with the spec. Unknown
fields are ignored so that a new ESI field does not break the client.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from django.db import models
from pydantic import BaseModel, ConfigDict, TypeAdapter


class EsiPayload(BaseModel):
    """Base of every ESI payload model: immutable, unknown fields ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class StructureMarketOrder(EsiPayload):
    """One order of ``GET /markets/structures/{structure_id}`` (no ``system_id``: the structure has one)."""

    order_id: int
    type_id: int
    location_id: int
    is_buy_order: bool
    price: float
    volume_remain: int
    volume_total: int
    min_volume: int
    duration: int
    issued: datetime
    range: Literal["station", "region", "solarsystem", "1", "2", "3", "4", "5", "10", "20", "30", "40"]


class MarketOrder(StructureMarketOrder):
    """One order of ``GET /markets/{region_id}/orders`` (a structure's order, plus its system)."""

    system_id: int


class PublicContract(EsiPayload):
    """One contract of ``GET /contracts/public/{region_id}``."""

    contract_id: int
    type: Literal["unknown", "item_exchange", "auction", "courier", "loan"]
    issuer_id: int
    issuer_corporation_id: int
    date_issued: datetime
    date_expired: datetime
    buyout: float | None = None
    collateral: float | None = None
    days_to_complete: int | None = None
    end_location_id: int | None = None
    for_corporation: bool | None = None
    price: float | None = None
    reward: float | None = None
    start_location_id: int | None = None
    title: str | None = None
    volume: float | None = None


class ContractItem(EsiPayload):
    """One item of ``GET /contracts/public/items/{contract_id}``."""

    record_id: int
    type_id: int
    quantity: int
    is_included: bool
    is_blueprint_copy: bool | None = None
    item_id: int | None = None
    material_efficiency: int | None = None
    runs: int | None = None
    time_efficiency: int | None = None


class SystemKills(EsiPayload):
    """One system of ``GET /universe/system_kills``."""

    system_id: int
    ship_kills: int
    npc_kills: int
    pod_kills: int


class KillmailSubItem(EsiPayload):
    """An item inside a container of a killmail's victim."""

    flag: int
    item_type_id: int
    singleton: int
    quantity_destroyed: int | None = None
    quantity_dropped: int | None = None


class KillmailItem(EsiPayload):
    """An item of a killmail's victim (containers hold one level of sub-items)."""

    flag: int
    item_type_id: int
    singleton: int
    quantity_destroyed: int | None = None
    quantity_dropped: int | None = None
    items: list[KillmailSubItem] | None = None


class KillmailPosition(EsiPayload):
    """Where the victim died, in metres."""

    x: float
    y: float
    z: float


class KillmailVictim(EsiPayload):
    """The victim of a killmail."""

    ship_type_id: int
    damage_taken: int
    alliance_id: int | None = None
    character_id: int | None = None
    corporation_id: int | None = None
    faction_id: int | None = None
    items: list[KillmailItem] | None = None
    position: KillmailPosition | None = None


class KillmailAttacker(EsiPayload):
    """One attacker of a killmail."""

    damage_done: int
    final_blow: bool
    security_status: float
    alliance_id: int | None = None
    character_id: int | None = None
    corporation_id: int | None = None
    faction_id: int | None = None
    ship_type_id: int | None = None
    weapon_type_id: int | None = None


class Killmail(EsiPayload):
    """``GET /killmails/{killmail_id}/{killmail_hash}``."""

    killmail_id: int
    killmail_time: datetime
    solar_system_id: int
    victim: KillmailVictim
    attackers: list[KillmailAttacker]
    moon_id: int | None = None
    war_id: int | None = None


class CharacterLocation(EsiPayload):
    """``GET /characters/{character_id}/location`` (scope esi-location.read_location.v1)."""

    solar_system_id: int
    station_id: int | None = None
    structure_id: int | None = None


class MarketPrice(EsiPayload):
    """One type of ``GET /markets/prices``."""

    type_id: int
    adjusted_price: float | None = None
    average_price: float | None = None


# The ESI routes the project uses (as in the OpenAPI spec, no /latest/) and what each returns.
ROUTE_MODELS: dict[str, Any] = {
    "/markets/{region_id}/orders": list[MarketOrder],
    "/markets/prices": list[MarketPrice],
    "/markets/structures/{structure_id}": list[StructureMarketOrder],
    "/contracts/public/{region_id}": list[PublicContract],
    "/contracts/public/items/{contract_id}": list[ContractItem],
    "/universe/system_kills": list[SystemKills],
    "/killmails/{killmail_id}/{killmail_hash}": Killmail,
    "/characters/{character_id}/location": CharacterLocation,
}


def _template_regex(template: str) -> re.Pattern[str]:
    """Turn an OpenAPI path template into a full-match regular expression."""
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


_ROUTES: list[tuple[str, re.Pattern[str], TypeAdapter[Any]]] = [
    (template, _template_regex(template), TypeAdapter(model)) for template, model in ROUTE_MODELS.items()
]


def route_template(path: str) -> str | None:
    """Name the known route a concrete path belongs to.

    Args:
        path: A concrete path such as ``/markets/10000002/orders``.

    Returns:
        The spec's template, or None for a route without a payload model.
    """
    for template, pattern, _ in _ROUTES:
        if pattern.fullmatch(path):
            return template
    return None


def payload_validate(*, path: str, data: Any) -> Any:
    """Validate a parsed ESI body against the model of its route.

    Args:
        path: The concrete path requested.
        data: The parsed JSON body.

    Returns:
        The validated model(s), or None when the route has no model.

    Raises:
        pydantic.ValidationError: When the body does not fit the model.
    """
    for _, pattern, adapter in _ROUTES:
        if pattern.fullmatch(path):
            return adapter.validate_python(data)
    return None


class EsiStatus(models.Model):
    """No table: gives the admin a page showing the ESI client's state (lockdown, budgets, last calls)."""

    class Meta:
        managed = False
        verbose_name = "ESI status"
        verbose_name_plural = "ESI status"
        default_permissions = ("view",)

    def __str__(self) -> str:
        """Name the page.

        Returns:
            A constant label.
        """
        return "ESI status"
