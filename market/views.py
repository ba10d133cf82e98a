"""API views of market (thin: parsing, defaults and shaping; the work is in services and selectors)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, OpenApiTypes, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.sso import SsoLoginRequiredError
from evesite.admission import ExpensiveAdmissionMixin
from evesite.exceptions import ServiceUnavailableError
from evesite.schemas import schema_dump, schema_parse
from evesite.throttling import ExpensiveRateThrottle, throttles_with
from jobs.selectors import job_data
from market import refresh, selectors, services
from market.haul import HaulQuery, HaulScan, market_haul_scan_or_plain, market_profit_haul
from market.models import MarketSnapshot
from market.profit import market_profit_breakdown
from market.schemas import (
    HaulScanQuery,
    ProfitBreakdown,
    ProfitInput,
    RegionScanQuery,
    ScanPending,
    ScanQuery,
    ScanResponse,
)
from market.structures import market_structure_snapshot_state, structure_id_is
from market.view_params import haul_query_build, trade_filters, trade_query_build
from universe.names import NameRef, universe_name_resolve, universe_names_resolve
from universe.selectors import station_region_get

# The scans count against the expensive rate (and so need a site-wide slot, see ExpensiveAdmissionMixin).
SCAN_THROTTLES = throttles_with(ExpensiveRateThrottle)


def _answer(
    *,
    kind: str,
    scope: str,
    query: selectors.TradeQuery,
    snapshots: list[MarketSnapshot],
    rows: list[Any],
    scan: tuple[HaulQuery, HaulScan, str | None] | None = None,
) -> dict[str, Any]:
    """Shape a scan answer (``scan``: a hauling scan's query, result and route note)."""
    routed = scan is not None and scan[1].view is not None
    return {
        "kind": kind,
        "scope": scope,
        "sales_tax": query.sales_tax,
        "broker_fee": query.broker_fee,
        "route_mode": scan[0].route_mode if scan is not None and routed else None,
        "route_note": scan[2] if scan is not None else None,
        "snapshots": snapshots,
        "count": len(rows),
        "results": rows,
    }


def _region_answer(*, state: refresh.RegionSnapshotState, body: Callable[[MarketSnapshot], dict[str, Any]]) -> Response:
    """Answer a region-scoped scan from the stored snapshot, or 202 with the refresh job when there is none."""
    job = job_data(job=state.job) if state.job is not None else None
    if state.snapshot is None:
        if state.job is None:  # a missing snapshot always queues a job
            raise ServiceUnavailableError("No snapshot and no refresh job; try again.")
        headers = {
            "Location": reverse("job-detail", args=[state.job.pk]),
            "Retry-After": str(refresh.market_refresh_retry_after(job=state.job)),
        }
        return Response(schema_dump(schema=ScanPending, value={"job": job}), status=202, headers=headers)
    answer = body(state.snapshot)
    answer["snapshot"] = {
        "as_of": state.snapshot.fetched_at,
        "age_seconds": state.age_seconds,
        "stale": state.stale,
        "job": job,
    }
    return Response(schema_dump(schema=ScanResponse, value=answer))


_PENDING = {
    202: OpenApiResponse(
        ScanPending.drf_serializer,
        description="No snapshot of the region yet: a refresh job was queued (see Location, Retry-After).",
    ),
    404: OpenApiResponse(description="The station or region is not in the SDE (nothing was asked of ESI)."),
}


_ROUTED = {
    404: OpenApiResponse(description="An unknown origin or avoided system (named), or an unknown station or region."),
    401: OpenApiResponse(description="origin=current or origin=home without a logged-in user."),
    502: OpenApiResponse(description="origin=current: ESI did not tell where the character is."),
}
# Routed scans: 401/502 for origin=current (ESI is asked where the character is), 404 for unknown systems.
ROUTED_STATUSES = (401, 404, 502)


class MarketViewSet(ExpensiveAdmissionMixin, viewsets.ViewSet):
    """Market scans (expensive: throttled and admitted per action) and the profit breakdown of one trade."""

    # Per action through ``@action(error_statuses=...)``; read by evesite.openapi.
    error_statuses: tuple[int, ...] = ()

    @extend_schema(
        operation_id="market_station_scan",
        parameters=[
            OpenApiParameter(
                "station_id",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="An NPC station id or exact name (case-insensitive), a player structure id (logged in, "
                "with docking access), or `current` for the logged-in character's station or structure.",
                pattern=r"\S",
                examples=[OpenApiExample("Jita IV - Moon 4 - Caldari Navy Assembly Plant", value="60003760")],
            ),
            ScanQuery.drf_serializer,
        ],
        responses={200: ScanResponse.drf_serializer, **_PENDING},
    )
    @action(
        detail=False,
        url_path="stations/<str:station_id>/scan",
        url_name="station-scan",
        throttle_classes=SCAN_THROTTLES,
        # ``current`` and structures need a logged-in character (401; 403 without docking access); ``current``
        # asks ESI where it is (502).
        error_statuses=(401, 403, 502),
    )
    def station_scan(self, request: Request, station_id: str) -> Response:
        """Rank station trades (top 30 by default) from the stored snapshot of the station's region.

        A player structure (or ``current`` docked in one) is read from its own snapshot, refreshed with the
        character's token. A missing or stale snapshot queues a refresh job; the request never waits for ESI.

        Args:
            request: The request.
            station_id: A station id or name, a structure id, or ``current``.

        Returns:
            The ranked trades, or 202 with the refresh job.

        Raises:
            SsoLoginRequiredError: For ``current`` or a structure without a logged-in user (HTTP 401).
        """
        params = schema_parse(schema=ScanQuery, data=request.query_params)
        query = trade_query_build(request=request, params=params, default_limit=settings.MARKET_STATION_SCAN_LIMIT)
        system_id = None
        if station_id == "current":
            if not request.user.is_authenticated:
                raise SsoLoginRequiredError("Log in with EVE Online to scan your character's current station.")
            dock = services.market_character_dock_get(user=request.user)
            station, system_id = dock.location_id, dock.system_id
        else:
            station = universe_name_resolve(field="station_id", kind="station", ref=station_id, check_ids=False)
        if structure_id_is(location_id=station):
            state, region_id = market_structure_snapshot_state(
                user=request.user, structure_id=station, system_id=system_id
            )
        else:
            region_id = station_region_get(station_id=station)
            state = refresh.market_region_snapshot_state(region_id=region_id)

        def body(snapshot: MarketSnapshot) -> dict[str, Any]:
            """Scan the station."""
            rows = selectors.market_station_scan(query=query, station_id=station, region_id=region_id)
            return _answer(kind="station", scope=f"station:{station}", query=query, snapshots=[snapshot], rows=rows)

        return _region_answer(state=state, body=body)

    @extend_schema(
        operation_id="market_region_scan",
        parameters=[
            OpenApiParameter(
                "region_id",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="A region id or exact name (case-insensitive).",
                pattern=r"\S",
                examples=[OpenApiExample("The Forge", value="10000002")],
            ),
            RegionScanQuery.drf_serializer,
        ],
        responses={
            200: ScanResponse.drf_serializer,
            **_PENDING,
            **_ROUTED,
            403: OpenApiResponse(description="refresh=true by a non-staff user."),
        },
    )
    @action(
        detail=False,
        url_path="regions/<str:region_id>/scan",
        url_name="region-scan",
        throttle_classes=SCAN_THROTTLES,
        error_statuses=ROUTED_STATUSES,
    )
    def region_scan(self, request: Request, region_id: str) -> Response:
        """Rank hauling trades within a region (top 50 by default) from its stored snapshot.

        A missing or stale snapshot queues a refresh job; ``refresh=true`` (staff only) queues one anyway.

        Args:
            request: The request.
            region_id: The region's id or name.

        Returns:
            The ranked trades, or 202 with the refresh job.

        Raises:
            PermissionDenied: For ``refresh=true`` by a non-staff user.
        """
        region = universe_name_resolve(field="region_id", kind="region", ref=region_id, check_ids=False)
        params = schema_parse(schema=RegionScanQuery, data=request.query_params)
        query = trade_query_build(request=request, params=params, default_limit=settings.MARKET_SCAN_LIMIT)
        if params.refresh and not request.user.is_staff:
            raise PermissionDenied("refresh=true is for staff; scans queue a refresh by themselves when stale.")
        haul, graph_state = haul_query_build(request=request, params=params)
        state = refresh.market_region_snapshot_state(region_id=region, force=params.refresh)

        def body(snapshot: MarketSnapshot) -> dict[str, Any]:
            """Scan the region."""
            found, note = market_haul_scan_or_plain(query=query, haul=haul, region_id=region, state=graph_state)
            return _answer(
                kind="hauling",
                scope=f"region:{region}",
                query=query,
                snapshots=[snapshot],
                rows=found.rows,
                scan=(haul, found, note),
            )

        return _region_answer(state=state, body=body)

    @extend_schema(
        operation_id="market_global_scan",
        parameters=[HaulScanQuery.drf_serializer],
        responses={200: ScanResponse.drf_serializer, **_ROUTED},
    )
    @action(
        detail=False,
        url_path="global/scan",
        url_name="global-scan",
        throttle_classes=SCAN_THROTTLES,
        error_statuses=ROUTED_STATUSES,
    )
    def global_scan(self, request: Request) -> Response:
        """Rank hauling trades over every region's current snapshot (top 50 by default).

        Args:
            request: The request.

        Returns:
            The ranked trades.
        """
        params = schema_parse(schema=HaulScanQuery, data=request.query_params)
        query = trade_query_build(request=request, params=params, default_limit=settings.MARKET_SCAN_LIMIT)
        haul, graph_state = haul_query_build(request=request, params=params)
        snapshots = selectors.market_snapshots_current_list()
        found, note = market_haul_scan_or_plain(query=query, haul=haul, state=graph_state)
        body = _answer(
            kind="hauling", scope="global", query=query, snapshots=snapshots, rows=found.rows, scan=(haul, found, note)
        )
        return Response(schema_dump(schema=ScanResponse, value=body))

    @extend_schema(
        operation_id="market_profit",
        request=ProfitInput.drf_serializer,
        responses={200: ProfitBreakdown.drf_serializer, **_ROUTED},
    )
    @action(detail=False, methods=["post"], url_path="profit", url_name="profit", error_statuses=ROUTED_STATUSES)
    def profit(self, request: Request) -> Response:
        """Explain buying ``type_id`` at ``buy_station_id`` and selling it at ``sell_station_id`` (stored snapshots).

        Args:
            request: The request.

        Returns:
            The breakdown.
        """
        values = schema_parse(schema=ProfitInput, data=request.data)
        ids = universe_names_resolve(
            refs={
                "buy_station_id": NameRef(kind="station", ref=values.buy_station_id),
                "sell_station_id": NameRef(kind="station", ref=values.sell_station_id),
                "type_id": NameRef(kind="type", ref=values.type_id),
            },
            check_ids=False,
        )
        sales_tax, broker_fee = selectors.market_trade_defaults(user=request.user)
        breakdown = market_profit_breakdown(
            buy_station_id=ids["buy_station_id"],
            sell_station_id=ids["sell_station_id"],
            type_id=ids["type_id"],
            sales_tax=sales_tax if values.sales_tax is None else values.sales_tax,
            broker_fee=broker_fee if values.broker_fee is None else values.broker_fee,
            filters=trade_filters(params=values),
        )
        haul, graph_state = haul_query_build(request=request, params=values)
        breakdown = market_profit_haul(breakdown=breakdown, haul=haul, state=graph_state)
        return Response(schema_dump(schema=ProfitBreakdown, value=breakdown))
