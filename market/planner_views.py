"""API view of the cargo planner (thin: defaults and shaping; reads in planner_selectors, the work in planner)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from evesite.admission import ExpensiveAdmissionMixin
from evesite.schemas import schema_dump, schema_parse
from market import planner_selectors as selectors
from market.planner import Books, Item, haul_plan_solve
from market.planner_schemas import DEFAULT_MAX_ITEMS, HaulPlan, HaulPlanInput
from market.selectors import market_trade_defaults
from market.views import SCAN_THROTTLES
from routing.services import route_find
from routing.summary import route_summarize


def _station(station: selectors.HaulStation) -> dict[str, Any]:
    """Shape a station."""
    return {
        "station_id": station.station_id,
        "station_name": station.station_name,
        "system_id": station.system_id,
        "system_name": station.system_name,
        "security": station.security,
    }


class HaulPlanViewSet(ExpensiveAdmissionMixin, viewsets.ViewSet):
    """``POST /api/market/haul-plan/``: what to carry on one trip (expensive: throttled and admitted like scans)."""

    throttle_classes = SCAN_THROTTLES
    # Read by evesite.openapi: unknown stations or systems to avoid, and no route, are 404.
    error_statuses: tuple[int, ...] = (404,)

    @extend_schema(
        operation_id="market_haul_plan",
        request=HaulPlanInput.drf_serializer,
        responses={
            200: HaulPlan.drf_serializer,
            404: OpenApiResponse(description="An unknown station (named) or avoided system, or no route."),
        },
        examples=[
            OpenApiExample(
                "Jita to Amarr",
                value={
                    "from": 60003760,
                    "to": "Amarr VIII - Emperor Family Academy",
                    "cargo_m3": 60000,
                    "budget_isk": 1_000_000_000,
                },
                request_only=True,
            )
        ],
    )
    def create(self, request: Request) -> Response:
        """Plan one trip from ``from`` to ``to`` within ``cargo_m3`` and ``budget_isk``, from the stored snapshots.

        Args:
            request: The request.

        Returns:
            The plan (empty, with the reason, when nothing can be carried at a profit).
        """
        values = schema_parse(schema=HaulPlanInput, data=request.data)
        ends = values.model_dump(include={"from", "to"})  # ``from`` is a keyword: no attribute access
        origin, destination = selectors.haul_stations_resolve(origin=ends["from"], destination=ends["to"])
        sales_tax, broker_fee = market_trade_defaults(user=request.user)
        sales_tax = sales_tax if values.sales_tax is None else values.sales_tax
        mode, avoid = selectors.haul_route_defaults(user=request.user)
        route = route_find(
            origin=origin.system_id,
            destination=destination.system_id,
            mode=values.route_mode or mode,
            avoid=avoid if values.avoid is None else values.avoid,
            avoid_risk=values.avoid_risk,
        )
        summary = route_summarize(
            mode=route.mode, securities=[s.security for s in route.systems], risks=[s.risk for s in route.systems]
        )
        max_items = DEFAULT_MAX_ITEMS if values.max_items is None else values.max_items
        snapshots, missing = selectors.haul_snapshots_get(region_ids=[origin.region_id, destination.region_id])
        if missing:
            items: Books | list[Item] = []
        else:
            items = selectors.haul_books_read(
                from_id=origin.station_id,
                to_id=destination.station_id,
                snapshot_ids=[s.pk for s in snapshots],
            )
        plan = haul_plan_solve(
            items=items,
            cargo_m3=values.cargo_m3,
            budget_isk=values.budget_isk,
            sales_tax=sales_tax,
            max_items=max_items,
        )
        reason = (
            f"no market snapshot of region {', '.join(map(str, missing))} yet (the scans of a region queue one)"
            if missing
            else plan.reason
        )
        names = selectors.haul_type_names(type_ids=[p.type_id for p in plan.items])
        body = {
            "from_station": _station(origin),
            "to_station": _station(destination),
            "cargo_m3": values.cargo_m3,
            "budget_isk": values.budget_isk,
            "sales_tax": sales_tax,
            "broker_fee": broker_fee if values.broker_fee is None else values.broker_fee,
            "max_items": max_items,
            "snapshots": snapshots,
            "jumps": summary.jumps,
            "route": summary,
            "count": len(plan.items),
            "items": [
                {
                    "type_id": p.type_id,
                    "type_name": names.get(p.type_id),
                    "units": p.units,
                    "unit_volume_m3": p.unit_volume,
                    "bought_from": p.buy_orders,
                    "sold_to": p.sell_orders,
                    "cost": p.cost,
                    "revenue": p.revenue,
                    "taxes": p.taxes,
                    "profit": p.profit,
                    "volume_m3": p.volume_m3,
                }
                for p in plan.items
            ],
            "total_units": sum(p.units for p in plan.items),
            "total_cost": plan.total_cost,
            "total_revenue": plan.total_revenue,
            "total_taxes": plan.total_taxes,
            "total_profit": plan.total_profit,
            "total_volume_m3": plan.total_volume_m3,
            "isk_per_m3": plan.total_profit / plan.total_volume_m3 if plan.total_volume_m3 > 0 else None,
            "profit_per_jump": plan.total_profit / max(summary.jumps, 1),
            "upper_bound": plan.upper_bound,
            "method": plan.method,
            "reason": reason,
        }
        return Response(schema_dump(schema=HaulPlan, value=body))
