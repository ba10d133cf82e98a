"""API views of market (thin: parsing, defaults and shaping; the work is in services and selectors)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, OpenApiTypes, extend_schema
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.sso import SsoLoginRequiredError
from evesite.admission import ExpensiveAdmissionMixin
from evesite.exceptions import InvalidInputError, ServiceUnavailableError
from evesite.throttling import ExpensiveRateThrottle, throttles_with
from jobs.selectors import job_data
from market import refresh, selectors, services
from market.models import MarketSnapshot
from market.serializers import (
    ProfitBreakdownSerializer,
    ProfitInputSerializer,
    RegionScanQuerySerializer,
    ScanPendingSerializer,
    ScanQuerySerializer,
    ScanResponseSerializer,
)
from universe.selectors import station_region_get

# Station ids are 64-bit at most (structures); longer digit strings are not ids.
MAX_ID_DIGITS = 19


def _trade_query(request: Request, data: dict[str, Any], *, default_limit: int) -> selectors.TradeQuery:
    """Build the scan query: given rates, else the user's settings, else the site defaults.

    Args:
        request: The request (for the user).
        data: Validated query parameters.
        default_limit: Rows when no ``limit`` is given.

    Returns:
        The query.
    """
    sales_tax, broker_fee = selectors.market_trade_defaults(user=request.user)
    filters = {name: data[name] for name in selectors.sql.FILTERS if data.get(name) is not None}
    return selectors.TradeQuery(
        sales_tax=data.get("sales_tax", sales_tax),
        broker_fee=data.get("broker_fee", broker_fee),
        limit=data.get("limit", default_limit),
        **filters,
    )


def _answer(
    *, kind: str, scope: str, query: selectors.TradeQuery, snapshots: list[MarketSnapshot], rows: list[Any]
) -> dict[str, Any]:
    """Shape a scan answer.

    Args:
        kind: ``station`` or ``hauling``.
        scope: What was scanned.
        query: The query used.
        snapshots: The snapshots read.
        rows: The rows.

    Returns:
        The body.
    """
    return {
        "kind": kind,
        "scope": scope,
        "sales_tax": query.sales_tax,
        "broker_fee": query.broker_fee,
        "snapshots": snapshots,
        "count": len(rows),
        "results": rows,
    }


def _region_answer(*, state: refresh.RegionSnapshotState, body: Callable[[MarketSnapshot], dict[str, Any]]) -> Response:
    """Answer a region-scoped scan from the stored snapshot, or 202 with the refresh job when there is none.

    Args:
        state: The region's snapshot and refresh job.
        body: Builds the scan answer from the snapshot.

    Returns:
        200 with the rows and ``snapshot`` (stale or not, with its job), or 202 pointing at the job.
    """
    job = job_data(job=state.job) if state.job is not None else None
    if state.snapshot is None:
        if state.job is None:  # a missing snapshot always queues a job
            raise ServiceUnavailableError("No snapshot and no refresh job; try again.")
        headers = {
            "Location": reverse("job-detail", args=[state.job.pk]),
            "Retry-After": str(refresh.market_refresh_retry_after(job=state.job)),
        }
        return Response(ScanPendingSerializer({"job": job}).data, status=202, headers=headers)
    answer = body(state.snapshot)
    answer["snapshot"] = {
        "as_of": state.snapshot.fetched_at,
        "age_seconds": state.age_seconds,
        "stale": state.stale,
        "job": job,
    }
    return Response(ScanResponseSerializer(answer).data)


_PENDING = {
    202: OpenApiResponse(
        ScanPendingSerializer,
        description="No snapshot of the region yet: a refresh job was queued (see Location, Retry-After).",
    ),
    404: OpenApiResponse(description="The station or region is not in the SDE (nothing was asked of ESI)."),
}


class StationScanApi(ExpensiveAdmissionMixin, APIView):
    """Station trading (margin trading) at one station."""

    throttle_classes = throttles_with(ExpensiveRateThrottle)
    # ``current`` needs a logged-in character (read by evesite.openapi).
    error_statuses = (401,)

    @extend_schema(
        operation_id="market_station_scan",
        parameters=[
            OpenApiParameter(
                "station_id",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="An NPC station id, or `current` for the logged-in character's station.",
            ),
            ScanQuerySerializer,
        ],
        responses={200: ScanResponseSerializer, **_PENDING},
    )
    def get(self, request: Request, station_id: str) -> Response:
        """Rank station trades (top 30 by default) from the stored snapshot of the station's region.

        A missing or stale snapshot queues a refresh job; the request never waits for ESI.

        Args:
            request: The request.
            station_id: A station id or ``current``.

        Returns:
            The ranked trades, or 202 with the refresh job.

        Raises:
            SsoLoginRequiredError: For ``current`` without a logged-in user (HTTP 401).
            InvalidInputError: For a station id that is not a number.
        """
        params = ScanQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = _trade_query(request, params.validated_data, default_limit=settings.MARKET_STATION_SCAN_LIMIT)
        if station_id == "current":
            if not request.user.is_authenticated:
                raise SsoLoginRequiredError("Log in with EVE Online to scan your character's current station.")
            station = services.market_character_station_get(user=request.user)
        elif station_id.isascii() and station_id.isdigit() and len(station_id) <= MAX_ID_DIGITS:
            station = int(station_id)
        else:
            raise InvalidInputError("station_id must be a station id or 'current'.")
        region_id = station_region_get(station_id=station)
        state = refresh.market_region_snapshot_state(region_id=region_id)

        def body(snapshot: MarketSnapshot) -> dict[str, Any]:
            """Scan the station.

            Args:
                snapshot: The region's snapshot.

            Returns:
                The answer.
            """
            rows = selectors.market_station_scan(query=query, station_id=station, region_id=region_id)
            return _answer(kind="station", scope=f"station:{station}", query=query, snapshots=[snapshot], rows=rows)

        return _region_answer(state=state, body=body)


class RegionScanApi(ExpensiveAdmissionMixin, APIView):
    """Hauling between the stations of one region."""

    throttle_classes = throttles_with(ExpensiveRateThrottle)

    @extend_schema(
        operation_id="market_region_scan",
        parameters=[RegionScanQuerySerializer],
        responses={
            200: ScanResponseSerializer,
            **_PENDING,
            403: OpenApiResponse(description="refresh=true by a non-staff user."),
        },
    )
    def get(self, request: Request, region_id: int) -> Response:
        """Rank hauling trades within a region (top 50 by default) from its stored snapshot.

        A missing or stale snapshot queues a refresh job; ``refresh=true`` (staff only) queues one anyway.

        Args:
            request: The request.
            region_id: The region.

        Returns:
            The ranked trades, or 202 with the refresh job.

        Raises:
            PermissionDenied: For ``refresh=true`` by a non-staff user.
        """
        params = RegionScanQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = _trade_query(request, params.validated_data, default_limit=settings.MARKET_SCAN_LIMIT)
        force = bool(params.validated_data.get("refresh"))
        if force and not request.user.is_staff:
            raise PermissionDenied("refresh=true is for staff; scans queue a refresh by themselves when stale.")
        state = refresh.market_region_snapshot_state(region_id=region_id, force=force)

        def body(snapshot: MarketSnapshot) -> dict[str, Any]:
            """Scan the region.

            Args:
                snapshot: The region's snapshot.

            Returns:
                The answer.
            """
            rows = selectors.market_hauling_scan(query=query, region_id=region_id)
            return _answer(kind="hauling", scope=f"region:{region_id}", query=query, snapshots=[snapshot], rows=rows)

        return _region_answer(state=state, body=body)


class GlobalScanApi(ExpensiveAdmissionMixin, APIView):
    """Hauling between any two stations of every stored snapshot; never calls ESI."""

    throttle_classes = throttles_with(ExpensiveRateThrottle)

    @extend_schema(
        operation_id="market_global_scan", parameters=[ScanQuerySerializer], responses=ScanResponseSerializer
    )
    def get(self, request: Request) -> Response:
        """Rank hauling trades over every region's current snapshot (top 50 by default).

        Args:
            request: The request.

        Returns:
            The ranked trades.
        """
        params = ScanQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = _trade_query(request, params.validated_data, default_limit=settings.MARKET_SCAN_LIMIT)
        snapshots = selectors.market_snapshots_current_list()
        rows = selectors.market_hauling_scan(query=query)
        body = _answer(kind="hauling", scope="global", query=query, snapshots=snapshots, rows=rows)
        return Response(ScanResponseSerializer(body).data)


class ProfitApi(APIView):
    """The full profit breakdown of one item between two stations."""

    @extend_schema(operation_id="market_profit", request=ProfitInputSerializer, responses=ProfitBreakdownSerializer)
    def post(self, request: Request) -> Response:
        """Explain buying ``type_id`` at ``buy_station_id`` and selling it at ``sell_station_id`` (stored snapshots).

        Args:
            request: The request.

        Returns:
            The breakdown.
        """
        data = ProfitInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        sales_tax, broker_fee = selectors.market_trade_defaults(user=request.user)
        breakdown = selectors.market_profit_breakdown(
            buy_station_id=values["buy_station_id"],
            sell_station_id=values["sell_station_id"],
            type_id=values["type_id"],
            sales_tax=values.get("sales_tax", sales_tax),
            broker_fee=values.get("broker_fee", broker_fee),
            filters={name: values[name] for name in selectors.sql.FILTERS if values.get(name) is not None},
        )
        return Response(ProfitBreakdownSerializer(breakdown).data)
