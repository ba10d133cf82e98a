"""Pydantic schemas of the cargo planner (``POST /api/market/haul-plan/``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

import pydantic
from drf_spectacular.utils import extend_schema_field

from evesite.schemas import ID_OR_NAME, RefField, Schema, id_field, id_or_name_type, percent_field, ref_check
from market.schemas import Snapshot
from routing.schemas import RouteMode, RouteSummary

# Bounds that keep every product and quotient finite (far above any hold or wallet in EVE).
MAX_CARGO_M3 = 1e12
MAX_BUDGET_ISK = 1e16
MAX_ITEMS = 1000
DEFAULT_MAX_ITEMS = 100

_STATION = "A station id, or its name (case-insensitive, exact)."
_AVOID = "System ids or names never entered; default: the user's avoid list."


def _system_refs(value: list[int | str] | None) -> list[int | str] | None:
    """Refuse blank system names and ids outside a bigint."""
    for ref in value or []:
        ref_check(ref)
    return value


@extend_schema_field(
    {"type": "array", "items": {"oneOf": ID_OR_NAME}, "maxItems": 200, "nullable": True, "description": _AVOID}
)
class SystemRefsField(RefField):
    """System ids or names."""


class _HaulPlanOptions(Schema):
    """The limits and options of a trip."""

    cargo_m3: float = pydantic.Field(ge=0, le=MAX_CARGO_M3, allow_inf_nan=False, description="The hold (m3).")
    budget_isk: float = pydantic.Field(ge=0, le=MAX_BUDGET_ISK, allow_inf_nan=False, description="The wallet (ISK).")
    sales_tax: float | None = percent_field(None, description="Percent; default: the user's setting, else the site's.")
    broker_fee: float | None = percent_field(
        None, description="Percent; echoed only: hauling fills existing orders, which pays no broker fee."
    )
    route_mode: RouteMode | None = pydantic.Field(None, description="Default: the user's setting, else secure.")
    avoid: Annotated[
        list[int | str] | None, SystemRefsField(required=False, allow_null=True), pydantic.AfterValidator(_system_refs)
    ] = pydantic.Field(None, max_length=200, description=_AVOID)
    avoid_risk: bool = pydantic.Field(True, description="Add the kill-risk penalties to the route.")
    max_items: int | None = pydantic.Field(
        None, ge=1, le=MAX_ITEMS, description=f"Most distinct items carried (default {DEFAULT_MAX_ITEMS})."
    )


# ``from`` is a Python keyword: the model is made with ``create_model`` (read it with ``getattr(value, "from")``).
HaulPlanInput = pydantic.create_model(
    "HaulPlanInput",
    __base__=_HaulPlanOptions,
    __doc__="One trip: buy at `from`, carry, sell at `to`.",
    **cast(
        dict[str, Any],
        {
            "from": (id_or_name_type(description=_STATION), pydantic.Field(description=_STATION, examples=[60003760])),
            "to": (id_or_name_type(description=_STATION), pydantic.Field(description=_STATION, examples=[60008494])),
        },
    ),
)


class HaulFill(Schema):
    """Units traded with one order."""

    order_id: int
    price: float
    units: int


class HaulItem(Schema):
    """What the plan does with one type."""

    type_id: int
    type_name: str | None
    units: int
    unit_volume_m3: float = pydantic.Field(description="Packaged volume where known, else the volume.")
    bought_from: list[HaulFill] = pydantic.Field(description="Sell orders at `from`, cheapest first.")
    sold_to: list[HaulFill] = pydantic.Field(description="Buy orders at `to`, highest first.")
    cost: float
    revenue: float
    taxes: float = pydantic.Field(description="Sales tax on the revenue.")
    profit: float = pydantic.Field(description="revenue - taxes - cost.")
    volume_m3: float


class HaulStationOut(Schema):
    """A station of the trip."""

    station_id: int = id_field()
    station_name: str
    system_id: int
    system_name: str | None
    security: float | None


class HaulPlan(Schema):
    """A one-trip plan: what to buy at `from` and sell at `to`, and the road between them."""

    from_station: HaulStationOut
    to_station: HaulStationOut
    cargo_m3: float
    budget_isk: float
    sales_tax: float
    broker_fee: float
    max_items: int
    snapshots: list[Snapshot]
    jumps: int = pydantic.Field(ge=0)
    route: RouteSummary
    count: int = pydantic.Field(description="Items in the plan.")
    items: list[HaulItem] = pydantic.Field(description="Most profitable first.")
    total_units: int
    total_cost: float
    total_revenue: float
    total_taxes: float
    total_profit: float
    total_volume_m3: float
    isk_per_m3: float | None = pydantic.Field(description="total_profit / total_volume_m3 (null for no volume).")
    profit_per_jump: float = pydantic.Field(description="total_profit / max(jumps, 1).")
    upper_bound: float = pydantic.Field(description="No plan earns more (the LP relaxation's dual).")
    method: Literal["exact", "heuristic"] = pydantic.Field(
        description="exact: proven optimal; heuristic: the best found (see upper_bound)."
    )
    reason: str = pydantic.Field(description="`planned`, or why the plan is empty.")
