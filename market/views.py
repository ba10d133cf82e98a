"""API views of market (thin: parsing, defaults and shaping; the work is in services and selectors)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.sso import SsoLoginRequiredError
from evesite.exceptions import InvalidInputError
from market import selectors, services
from market.models import MarketSnapshot
from market.serializers import (
    ProfitBreakdownSerializer,
    ProfitInputSerializer,
    RegionScanQuerySerializer,
    ScanQuerySerializer,
    ScanResponseSerializer,
)


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
) -> Response:
    """Shape a scan answer.

    Args:
        kind: ``station`` or ``hauling``.
        scope: What was scanned.
        query: The query used.
        snapshots: The snapshots read.
        rows: The rows.

    Returns:
        The response.
    """
    body = {
        "kind": kind,
        "scope": scope,
        "sales_tax": query.sales_tax,
        "broker_fee": query.broker_fee,
        "snapshots": snapshots,
        "count": len(rows),
        "results": rows,
    }
    return Response(ScanResponseSerializer(body).data)


class StationScanApi(APIView):
    """Station trading (margin trading) at one station."""

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
        responses=ScanResponseSerializer,
    )
    def get(self, request: Request, station_id: str) -> Response:
        """Rank station trades (top 30 by default); the region's orders are fetched from ESI unless 30 minutes fresh.

        Args:
            request: The request.
            station_id: A station id or ``current``.

        Returns:
            The ranked trades.

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
        elif station_id.isdigit():
            station = int(station_id)
        else:
            raise InvalidInputError("station_id must be a station id or 'current'.")
        region_id = selectors.market_station_region_get(station_id=station)
        snapshot = services.market_region_snapshot_ensure(region_id=region_id)
        rows = selectors.market_station_scan(query=query, station_id=station, region_id=region_id)
        return _answer(kind="station", scope=f"station:{station}", query=query, snapshots=[snapshot], rows=rows)


class RegionScanApi(APIView):
    """Hauling between the stations of one region."""

    @extend_schema(
        operation_id="market_region_scan", parameters=[RegionScanQuerySerializer], responses=ScanResponseSerializer
    )
    def get(self, request: Request, region_id: int) -> Response:
        """Rank hauling trades within a region (top 50 by default), fetching its orders through ESI when stale.

        Args:
            request: The request.
            region_id: The region.

        Returns:
            The ranked trades.
        """
        params = RegionScanQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = _trade_query(request, params.validated_data, default_limit=settings.MARKET_SCAN_LIMIT)
        if params.validated_data.get("refresh"):
            snapshot = services.market_region_fetch(region_id=region_id)
        else:
            snapshot = services.market_region_snapshot_ensure(region_id=region_id)
        rows = selectors.market_hauling_scan(query=query, region_id=region_id)
        return _answer(kind="hauling", scope=f"region:{region_id}", query=query, snapshots=[snapshot], rows=rows)


class GlobalScanApi(APIView):
    """Hauling between any two stations of every stored snapshot; never calls ESI."""

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
        return _answer(kind="hauling", scope="global", query=query, snapshots=snapshots, rows=rows)


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
