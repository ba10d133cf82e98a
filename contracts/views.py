"""API views of contracts (thin: selectors do the work; nothing here calls ESI)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contracts.models import Contract, ContractType
from contracts.selectors import ORDERINGS, Location, contract_detail_get, contract_list, locations_get
from evesite.exceptions import InvalidInputError
from evesite.pagination import BoundedLimitOffsetPagination

# Largest id PostgreSQL's bigint holds: larger ones answer 400 instead of reaching a query.
BIGINT_MAX = 2**63 - 1


class LocationSerializer(serializers.Serializer):
    """A contract's start or end location."""

    location_id = serializers.IntegerField()
    name = serializers.CharField(allow_null=True, help_text="Station name; null for a player structure.")
    system_id = serializers.IntegerField(allow_null=True)
    system_name = serializers.CharField(allow_null=True)
    security = serializers.FloatField(allow_null=True)
    region_id = serializers.IntegerField(allow_null=True)


def _location(locations: dict[int, Location], location_id: int | None) -> dict[str, Any] | None:
    """Serialise one location.

    Args:
        locations: Locations by id.
        location_id: The id (None when the contract has none).

    Returns:
        The location's fields, or None.
    """
    if location_id is None or location_id not in locations:
        return None
    return dict(LocationSerializer(locations[location_id]).data)


class ContractSerializer(serializers.ModelSerializer):
    """One contract in the listing, with its valuation (couriers: reward, collateral, jumps, ISK per jump)."""

    effective_price = serializers.SerializerMethodField(help_text="Auctions: current bid, else starting price.")
    isk_per_jump = serializers.FloatField(allow_null=True, read_only=True)
    volume_m3 = serializers.FloatField(source="volume", allow_null=True, read_only=True)
    start_location = serializers.SerializerMethodField()
    end_location = serializers.SerializerMethodField()

    class Meta:
        model = Contract
        fields = [
            "contract_id",
            "region_id",
            "type",
            "title",
            "issuer_id",
            "issuer_corporation_id",
            "for_corporation",
            "date_issued",
            "date_expired",
            "days_to_complete",
            "price",
            "buyout",
            "current_bid",
            "effective_price",
            "reward",
            "collateral",
            "volume_m3",
            "items_status",
            "included_value",
            "requested_value",
            "items_value",
            "profit",
            "profit_pct",
            "item_lines",
            "no_price_lines",
            "blueprint_copy_lines",
            "one_sided_lines",
            "valued_at",
            "route_jumps",
            "isk_per_jump",
            "start_location",
            "end_location",
        ]

    def get_effective_price(self, obj: Contract) -> float:
        """Return what accepting costs.

        Args:
            obj: The contract.

        Returns:
            The current bid of an auction with bids, else the price.
        """
        if obj.type == ContractType.AUCTION and obj.current_bid is not None:
            return obj.current_bid
        return obj.price

    @extend_schema(responses=LocationSerializer(allow_null=True))
    def get_start_location(self, obj: Contract) -> dict[str, Any] | None:
        """Name the start location.

        Args:
            obj: The contract.

        Returns:
            The location, or None.
        """
        return _location(self.context.get("locations", {}), obj.start_location_id)

    @extend_schema(responses=LocationSerializer(allow_null=True))
    def get_end_location(self, obj: Contract) -> dict[str, Any] | None:
        """Name the end location.

        Args:
            obj: The contract.

        Returns:
            The location, or None.
        """
        return _location(self.context.get("locations", {}), obj.end_location_id)


class ContractListApi(APIView):
    """Public contracts from the cache, valued against the Jita split."""

    class FilterSerializer(serializers.Serializer):
        """Query parameters."""

        region_id = serializers.IntegerField(required=False, min_value=1, max_value=BIGINT_MAX)
        type = serializers.ChoiceField(choices=ContractType.values, required=False)
        min_profit = serializers.FloatField(required=False)
        min_profit_pct = serializers.FloatField(required=False)
        ordering = serializers.ChoiceField(
            choices=[*ORDERINGS, *(f"-{o}" for o in ORDERINGS)], required=False, default="-profit_pct"
        )

    @extend_schema(
        parameters=[FilterSerializer, OpenApiParameter("limit", int), OpenApiParameter("offset", int)],
        responses={
            200: inline_serializer(
                "PaginatedContractList",
                fields={
                    "count": serializers.IntegerField(),
                    "next": serializers.URLField(allow_null=True),
                    "previous": serializers.URLField(allow_null=True),
                    "results": ContractSerializer(many=True),
                },
            )
        },
        summary="List cached public contracts with profit against the Jita split",
    )
    def get(self, request: Request) -> Response:
        """List contracts (paginated; zero ESI calls: a Celery task per region fills the cache).

        Args:
            request: The HTTP request.

        Returns:
            A page of contracts.
        """
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        qs = contract_list(
            region_id=data.get("region_id"),
            contract_type=data.get("type"),
            min_profit=data.get("min_profit"),
            min_profit_pct=data.get("min_profit_pct"),
            ordering=data["ordering"],
        )
        paginator = BoundedLimitOffsetPagination()
        page = paginator.paginate_queryset(qs, request, view=self) or []
        locations = locations_get(location_ids=[i for c in page for i in (c.start_location_id, c.end_location_id)])
        body = ContractSerializer(page, many=True, context={"locations": locations}).data
        return paginator.get_paginated_response(body)


class ContractItemLineSerializer(serializers.Serializer):
    """One item line of the breakdown."""

    record_id = serializers.IntegerField()
    type_id = serializers.IntegerField()
    type_name = serializers.CharField(allow_null=True)
    quantity = serializers.IntegerField()
    is_included = serializers.BooleanField(help_text="False: the acceptor must provide it (requested).")
    is_blueprint_copy = serializers.BooleanField(allow_null=True)
    material_efficiency = serializers.IntegerField(allow_null=True, required=False)
    time_efficiency = serializers.IntegerField(allow_null=True, required=False)
    runs = serializers.IntegerField(allow_null=True, required=False)
    jita_split = serializers.FloatField(allow_null=True)
    line_value = serializers.FloatField()
    flags = serializers.ListField(child=serializers.CharField(), help_text="blueprint_copy, no_price, one_sided_price")


class ContractDetailApi(APIView):
    """One cached contract with its full breakdown."""

    class OutputSerializer(serializers.Serializer):
        """The breakdown."""

        contract = ContractSerializer()
        items = ContractItemLineSerializer(many=True)
        totals = serializers.DictField(child=serializers.FloatField(allow_null=True))
        items_source = serializers.CharField(help_text="redis, postgres or none (no items).")

    @extend_schema(responses={200: OutputSerializer}, summary="A cached contract's item breakdown")
    def get(self, request: Request, contract_id: int) -> Response:
        """Return a contract's item lines, each valued at the Jita split, and the totals.

        Args:
            request: The HTTP request.
            contract_id: The contract.

        Returns:
            The breakdown.

        Raises:
            InvalidInputError: For an id past 64 bits.
        """
        if contract_id > BIGINT_MAX:
            raise InvalidInputError("contract_id is out of range.", field="contract_id")
        detail = contract_detail_get(contract_id=contract_id)
        contract = ContractSerializer(detail.contract, context={"locations": detail.locations}).data
        return Response(
            {
                "contract": contract,
                "items": detail.lines,
                "totals": detail.totals,
                "items_source": detail.items_source,
            }
        )
