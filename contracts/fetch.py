"""Per-contract fetches from ESI: items (once) and auction bids, with known faults remembered.

Items of a contract never change, so they are fetched once; a known fault (403
"not public", 403 "accepted", 404, 204 empty) is remembered in
:class:`~contracts.models.ContractFetchFailure` and checked BEFORE the client is
called, so the same failing call is never made twice.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from django.db import transaction
from django.utils import timezone

from contracts.cache import contract_cache_set, contract_entry, contract_item_payload
from contracts.models import Contract, ContractFetchFailure, ContractItem, FailureReason, FetchKind, ItemsStatus
from contracts.selectors import contract_fetch_failure_find
from esi.client import EsiClient
from esi.errors import EsiError, EsiHttpError, EsiPayloadError
from esi.models import ContractItem as EsiContractItem

logger = logging.getLogger(__name__)


def _fault_reason(exc: EsiError) -> FailureReason | None:
    """Return the permanent fault to remember for a per-contract error, or None when it is transient."""
    if isinstance(exc, EsiPayloadError) and exc.status == HTTPStatus.NO_CONTENT:
        return FailureReason.EMPTY
    if isinstance(exc, EsiHttpError):
        if exc.status == HTTPStatus.NOT_FOUND:
            return FailureReason.NOT_FOUND
        if exc.status == HTTPStatus.FORBIDDEN:
            # The client may pass ESI's error text along (``body``/``detail``); tell the two 403s apart by it.
            text = " ".join(str(getattr(exc, name, "") or "") for name in ("body", "detail", "message")).lower()
            if "accepted" in text:
                return FailureReason.ACCEPTED
            if "not public" in text:
                return FailureReason.NOT_PUBLIC
            return FailureReason.FORBIDDEN
    return None


def contract_failure_remember(
    *, contract: Contract, kind: str, reason: FailureReason, status: int, detail: str = ""
) -> ContractFetchFailure:
    """Remember that a per-contract call failed for good, until the contract expires.

    Args:
        contract: The contract.
        kind: ``items`` or ``bids``.
        reason: Which known fault.
        status: ESI's status.
        detail: What the client said.

    Returns:
        The stored failure.
    """
    failure, _ = ContractFetchFailure.objects.update_or_create(
        contract_id=contract.contract_id,
        kind=kind,
        defaults={
            "reason": reason,
            "status": status,
            "detail": detail[:255],
            "expires_at": contract.date_expired,
        },
    )
    logger.warning("Contract %s: %s fetch failed (%s, %s); remembered", contract.contract_id, kind, reason, status)
    return failure


# ----------------------------------------------------------------------------- items and bids
def contract_items_fetch(*, contract: Contract, client: EsiClient | None = None) -> str:
    """Fetch a contract's items once, remembering known faults.

    Order: items already stored -> no call; failure remembered -> no call; else one page walk.

    Args:
        contract: An item exchange or auction.
        client: The ESI client.

    Returns:
        ``"stored"``, ``"remembered"``, ``"fetched"`` or ``"failed:<reason>"``.

    Raises:
        EsiError: A transient failure (lockdown, 5xx, timeout...): nothing is remembered.
    """
    if contract.items_status == ItemsStatus.FETCHED:
        return "stored"
    if contract.items_status == ItemsStatus.FAILED or contract_fetch_failure_find(
        contract_id=contract.contract_id, kind=FetchKind.ITEMS
    ):
        return "remembered"
    client = client or EsiClient()
    try:
        raw = client.get_all_pages(f"/contracts/public/items/{contract.contract_id}")
    except EsiError as exc:
        reason = _fault_reason(exc)
        if reason is None:
            raise
        with transaction.atomic():
            contract_failure_remember(
                contract=contract, kind=FetchKind.ITEMS, reason=reason, status=exc.status or 0, detail=str(exc)
            )
            contract.items_status = ItemsStatus.FAILED
            contract.items_fetched_at = timezone.now()
            contract.save(update_fields=["items_status", "items_fetched_at"])
        contract_cache_set(
            contract_id=contract.contract_id, entry=contract_entry(contract, None), date_expired=contract.date_expired
        )
        return f"failed:{reason}"
    items = [EsiContractItem.model_validate(r) for r in raw]
    rows = [
        ContractItem(
            record_id=i.record_id,
            contract_id=contract.contract_id,
            type_id=i.type_id,
            quantity=i.quantity,
            is_included=i.is_included,
            is_blueprint_copy=bool(i.is_blueprint_copy),
            item_id=i.item_id,
            material_efficiency=i.material_efficiency,
            time_efficiency=i.time_efficiency,
            runs=i.runs,
        )
        for i in items
    ]
    with transaction.atomic():
        ContractItem.objects.filter(contract_id=contract.contract_id).delete()
        ContractItem.objects.bulk_create(rows)
        contract.items_status = ItemsStatus.FETCHED
        contract.items_fetched_at = timezone.now()
        contract.save(update_fields=["items_status", "items_fetched_at"])
    contract_cache_set(
        contract_id=contract.contract_id,
        entry=contract_entry(contract, [contract_item_payload(r) for r in sorted(rows, key=lambda r: r.record_id)]),
        date_expired=contract.date_expired,
    )
    return "fetched"


def contract_bids_fetch(*, contract: Contract, client: EsiClient | None = None) -> float | None:
    """Fetch an auction's bids and keep the highest as ``current_bid``.

    Args:
        contract: An auction.
        client: The ESI client.

    Returns:
        The current bid (None without bids, or when the call is remembered as failing).

    Raises:
        EsiError: A transient failure.
    """
    if contract_fetch_failure_find(contract_id=contract.contract_id, kind=FetchKind.BIDS):
        return contract.current_bid
    client = client or EsiClient()
    try:
        bids = client.get_all_pages(f"/contracts/public/bids/{contract.contract_id}")
    except EsiError as exc:
        reason = _fault_reason(exc)
        if reason is None:
            raise
        contract_failure_remember(
            contract=contract, kind=FetchKind.BIDS, reason=reason, status=exc.status or 0, detail=str(exc)
        )
        return contract.current_bid
    amounts = [float(b["amount"]) for b in bids if isinstance(b, dict) and "amount" in b]
    contract.current_bid = max(amounts) if amounts else None
    contract.bids_fetched_at = timezone.now()
    contract.save(update_fields=["current_bid", "bids_fetched_at"])
    return contract.current_bid
