"""API views of contracts (thin: selectors do the work; nothing here calls ESI)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from contracts import schemas
from contracts.models import Contract, ContractType
from contracts.selectors import Location, contract_detail_get, contract_list, locations_get
from evesite.exceptions import InvalidInputError
from evesite.pagination import BoundedLimitOffsetPagination
from evesite.schemas import INT64_MAX, schema_dump, schema_parse
from universe.names import universe_name_resolve

# What schemas.Contract shows that is not a field (or annotation) of the row under the same name.
_DERIVED = frozenset({"effective_price", "volume_m3", "start_location", "end_location"})


def _location(locations: dict[int, Location], location_id: int | None) -> Location | None:
    """One named location, or None."""
    return None if location_id is None else locations.get(location_id)


def _contract_data(contract: Contract, locations: dict[int, Location]) -> dict[str, Any]:
    """A contract as :class:`schemas.Contract` shows it: an auction with bids costs its current bid."""
    data = {name: getattr(contract, name) for name in schemas.Contract.model_fields if name not in _DERIVED}
    bid = contract.current_bid if contract.type == ContractType.AUCTION else None
    return {
        **data,
        "effective_price": contract.price if bid is None else bid,
        "volume_m3": contract.volume,
        "start_location": _location(locations, contract.start_location_id),
        "end_location": _location(locations, contract.end_location_id),
    }


class ContractViewSet(viewsets.ViewSet):
    """Public contracts from the cache, valued against the Jita split."""

    lookup_field = "contract_id"
    lookup_value_converter = "int"
    error_statuses: tuple[int, ...] = (404,)  # the list's region_id may name no region
    pagination_class = BoundedLimitOffsetPagination

    @extend_schema(
        # The operation ids of the document before the viewset (clients generated from it use them).
        operation_id="contracts_retrieve",
        parameters=[schemas.ContractQuery.drf_serializer],
        responses={200: schemas.Contract.drf_serializer(many=True)},
        summary="List cached public contracts with profit against the Jita split",
    )
    def list(self, request: Request) -> Response:
        """List contracts (paginated; zero ESI calls: a Celery task per region fills the cache)."""
        query = schema_parse(schema=schemas.ContractQuery, data=request.query_params)
        region_id = None
        if query.region_id is not None:
            region_id = universe_name_resolve(field="region_id", kind="region", ref=query.region_id, check_ids=False)
        contracts = contract_list(
            region_id=region_id,
            contract_type=query.type,
            min_profit=query.min_profit,
            min_profit_pct=query.min_profit_pct,
            ordering=query.ordering,
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(contracts, request, view=self) or []
        locations = locations_get(location_ids=[i for c in page for i in (c.start_location_id, c.end_location_id)])
        rows = [schema_dump(schema=schemas.Contract, value=_contract_data(c, locations)) for c in page]
        return paginator.get_paginated_response(rows)

    @extend_schema(
        operation_id="contracts_retrieve_2",
        responses={200: schemas.ContractDetail.drf_serializer},
        summary="A cached contract's item breakdown",
    )
    def retrieve(self, request: Request, contract_id: int) -> Response:
        """Return a contract's item lines, each valued at the Jita split, and the totals (400 past 64 bits)."""
        if contract_id > INT64_MAX:
            raise InvalidInputError("contract_id is out of range.", field="contract_id")
        detail = contract_detail_get(contract_id=contract_id)
        body = {
            "contract": _contract_data(detail.contract, detail.locations),
            "items": detail.lines,
            "totals": detail.totals,
            "items_source": detail.items_source,
        }
        return Response(schema_dump(schema=schemas.ContractDetail, value=body))
