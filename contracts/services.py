"""Writes of the contracts app: refresh from ESI, item and bid fetches, valuation, purge.

Every ESI call goes through :class:`esi.client.EsiClient` (its delays, lockdown and
budgets). Items of a contract never change, so they are fetched once; a known
fault (403 "not public", 403 "accepted", 404, 204 empty) is remembered in
:class:`~contracts.models.ContractFetchFailure` and checked BEFORE the client is
called, so the same failing call is never made twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from contracts.cache import contract_cache_many, contract_cache_set
from contracts.models import (
    Contract,
    ContractFetchFailure,
    ContractItem,
    ContractType,
    FailureReason,
    FetchKind,
    ItemsStatus,
)
from contracts.prices import PriceLookup, jita_prices_get
from contracts.valuation import PriceTable
from esi.client import EsiClient
from esi.errors import EsiError, EsiHttpError, EsiLockdownError, EsiPayloadError, EsiRateLimitError
from esi.models import ContractItem as EsiContractItem
from esi.models import PublicContract

logger = logging.getLogger(__name__)

# Contract types whose items are fetched (couriers' and loans' items are not public).
ITEM_TYPES = (ContractType.ITEM_EXCHANGE, ContractType.AUCTION)
REGION_LOCK_PREFIX = "contracts:v1:lock:region:"


@dataclass
class RefreshReport:
    """What one region refresh did."""

    region_id: int
    listed: int = 0
    skipped_expired: int = 0
    new: int = 0
    deactivated: int = 0
    items_fetched: int = 0
    items_remembered: int = 0
    items_failed: dict[str, int] = field(default_factory=dict)
    items_pending: int = 0
    bids_fetched: int = 0
    valued: int = 0
    stopped: str | None = None
    skipped_locked: bool = False


# ----------------------------------------------------------------------------- helpers
def _contract_entry(contract: Contract, items: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Build the Redis entry of a contract.

    Args:
        contract: The row.
        items: Its item payloads, or None when not fetched.

    Returns:
        A JSON-friendly dict.
    """
    return {
        "contract": {
            "contract_id": contract.contract_id,
            "region_id": contract.region_id,
            "type": contract.type,
            "issuer_id": contract.issuer_id,
            "issuer_corporation_id": contract.issuer_corporation_id,
            "for_corporation": contract.for_corporation,
            "title": contract.title,
            "date_issued": contract.date_issued.isoformat(),
            "date_expired": contract.date_expired.isoformat(),
            "days_to_complete": contract.days_to_complete,
            "start_location_id": contract.start_location_id,
            "end_location_id": contract.end_location_id,
            "price": contract.price,
            "buyout": contract.buyout,
            "reward": contract.reward,
            "collateral": contract.collateral,
            "volume": contract.volume,
        },
        "items_status": contract.items_status,
        "items": items,
    }


def _item_payload(item: ContractItem) -> dict[str, Any]:
    """Turn an item row back into its ESI shape.

    Args:
        item: The row.

    Returns:
        The payload dict.
    """
    return {
        "record_id": item.record_id,
        "type_id": item.type_id,
        "quantity": item.quantity,
        "is_included": item.is_included,
        "is_blueprint_copy": item.is_blueprint_copy,
        "item_id": item.item_id,
        "material_efficiency": item.material_efficiency,
        "time_efficiency": item.time_efficiency,
        "runs": item.runs,
    }


def contract_cache_warm(*, contracts: Iterable[Contract]) -> int:
    """Put contracts (and their items when fetched) into Redis until they expire.

    Args:
        contracts: Rows to cache.

    Returns:
        How many entries were written.
    """
    rows = list(contracts)
    fetched_ids = [c.contract_id for c in rows if c.items_status == ItemsStatus.FETCHED]
    items_by_contract: dict[int, list[dict[str, Any]]] = {cid: [] for cid in fetched_ids}
    for item in ContractItem.objects.filter(contract_id__in=fetched_ids).order_by("record_id"):
        items_by_contract[item.contract_id].append(_item_payload(item))
    written = 0
    for contract in rows:
        entry = _contract_entry(contract, items_by_contract.get(contract.contract_id))
        if contract_cache_set(contract_id=contract.contract_id, entry=entry, date_expired=contract.date_expired):
            written += 1
    return written


def _fault_reason(exc: EsiError) -> FailureReason | None:
    """Recognise the known, permanent faults of the per-contract routes.

    Args:
        exc: The client's error.

    Returns:
        The reason to remember, or None for a transient error (5xx, timeout, lockdown...).
    """
    if isinstance(exc, EsiPayloadError) and exc.status == 204:
        return FailureReason.EMPTY
    if isinstance(exc, EsiHttpError):
        if exc.status == 404:
            return FailureReason.NOT_FOUND
        if exc.status == 403:
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


def contract_failure_get(*, contract_id: int, kind: str) -> ContractFetchFailure | None:
    """Look up a remembered failure.

    Args:
        contract_id: The contract.
        kind: ``items`` or ``bids``.

    Returns:
        The failure, or None.
    """
    return ContractFetchFailure.objects.filter(contract_id=contract_id, kind=kind).first()


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
    if contract.items_status == ItemsStatus.FAILED or contract_failure_get(
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
            contract_id=contract.contract_id, entry=_contract_entry(contract, None), date_expired=contract.date_expired
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
        entry=_contract_entry(contract, [_item_payload(r) for r in sorted(rows, key=lambda r: r.record_id)]),
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
    if contract_failure_get(contract_id=contract.contract_id, kind=FetchKind.BIDS):
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


# ----------------------------------------------------------------------------- region refresh
def _contracts_store(*, region_id: int, payloads: list[PublicContract], now: datetime) -> tuple[int, int]:
    """Upsert the listed contracts and deactivate the region's ones that vanished.

    Args:
        region_id: The region.
        payloads: The live (unexpired) contracts ESI listed.
        now: The refresh time.

    Returns:
        (new contracts, deactivated contracts).
    """
    ids = [p.contract_id for p in payloads]
    known = set(Contract.objects.filter(contract_id__in=ids).values_list("contract_id", flat=True))
    rows = [
        Contract(
            contract_id=p.contract_id,
            region_id=region_id,
            type=p.type,
            issuer_id=p.issuer_id,
            issuer_corporation_id=p.issuer_corporation_id,
            for_corporation=bool(p.for_corporation),
            title=(p.title or "")[:255],
            date_issued=p.date_issued,
            date_expired=p.date_expired,
            days_to_complete=p.days_to_complete,
            start_location_id=p.start_location_id,
            end_location_id=p.end_location_id,
            price=float(p.price or 0.0),
            buyout=p.buyout,
            reward=float(p.reward or 0.0),
            collateral=float(p.collateral or 0.0),
            volume=p.volume,
            items_status=ItemsStatus.PENDING if p.type in ITEM_TYPES else ItemsStatus.NONE,
            last_seen_at=now,
            is_active=True,
        )
        for p in payloads
    ]
    with transaction.atomic():
        Contract.objects.bulk_create(
            rows,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["contract_id"],
            update_fields=[
                "region_id",
                "title",
                "date_expired",
                "price",
                "buyout",
                "reward",
                "collateral",
                "volume",
                "last_seen_at",
                "is_active",
            ],
        )
        deactivated = (
            Contract.objects.filter(region_id=region_id, is_active=True)
            .exclude(contract_id__in=ids)
            .update(is_active=False)
        )
    return len(set(ids) - known), deactivated


def _region_lock(region_id: int) -> bool:
    """Take the region's refresh lock (so overlapping runs do not double the ESI calls).

    Args:
        region_id: The region.

    Returns:
        True when taken.
    """
    return bool(cache.add(f"{REGION_LOCK_PREFIX}{region_id}", timezone.now().isoformat(), timeout=3600))


def contracts_region_refresh(
    *,
    region_id: int,
    client: EsiClient | None = None,
    price_lookup: PriceLookup | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RefreshReport:
    """Refresh one region: listing, new contracts' items (once), auction bids, valuation, Redis.

    Idempotent: run again, it only asks ESI for the listing (and what is still missing).

    Args:
        region_id: The region.
        client: The ESI client.
        price_lookup: Price source (defaults to the market snapshots).
        progress: Called with (pages done, total pages) as the listing walk goes (a progress bar).

    Returns:
        What was done.
    """
    report = RefreshReport(region_id=region_id)
    if not _region_lock(region_id):
        report.skipped_locked = True
        logger.info("Contracts of region %s are being refreshed elsewhere: skipped", region_id)
        return report
    try:
        _region_refresh(report=report, client=client or EsiClient(), price_lookup=price_lookup, progress=progress)
    finally:
        cache.delete(f"{REGION_LOCK_PREFIX}{region_id}")
    return report


def _region_refresh(
    *,
    report: RefreshReport,
    client: EsiClient,
    price_lookup: PriceLookup | None,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Do the work of :func:`contracts_region_refresh`.

    Args:
        report: Filled in as the work goes.
        client: The ESI client.
        price_lookup: Price source.
        progress: Called with (pages done, total pages) during the listing walk.
    """
    region_id = report.region_id
    now = timezone.now()
    raw = client.get_all_pages(f"/contracts/public/{region_id}", progress=progress)
    payloads = [PublicContract.model_validate(r) for r in raw]
    report.listed = len(payloads)
    live = [p for p in payloads if p.date_expired > now]
    report.skipped_expired = len(payloads) - len(live)
    report.new, report.deactivated = _contracts_store(region_id=region_id, payloads=live, now=now)

    live_ids = [p.contract_id for p in live]
    cached = contract_cache_many(live_ids)
    contract_cache_warm(contracts=Contract.objects.filter(contract_id__in=set(live_ids) - set(cached)))

    report.stopped = _items_fetch_pending(report=report, live_ids=live_ids, client=client)
    if report.stopped is None:
        report.stopped = _bids_fetch_due(report=report, live_ids=live_ids, client=client)
    report.valued = contracts_valuate(region_id=region_id, price_lookup=price_lookup)
    contracts_courier_routes(region_id=region_id)
    contracts_purge_expired(now=now)
    logger.info("Contracts of region %s refreshed: %s", region_id, report)


def _items_fetch_pending(*, report: RefreshReport, live_ids: list[int], client: EsiClient) -> str | None:
    """Fetch the items of live contracts that have none yet, within the per-run budget.

    Args:
        report: Updated with the counts.
        live_ids: The region's live contracts.
        client: The ESI client.

    Returns:
        Why the fetching stopped early, or None.
    """
    remembered = set(
        ContractFetchFailure.objects.filter(contract_id__in=live_ids, kind=FetchKind.ITEMS).values_list(
            "contract_id", flat=True
        )
    )
    pending = Contract.objects.filter(
        contract_id__in=live_ids, type__in=ITEM_TYPES, items_status=ItemsStatus.PENDING
    ).order_by("date_issued", "contract_id")
    budget = int(settings.CONTRACTS_ITEM_FETCHES_PER_RUN)
    stopped: str | None = None
    todo = [c for c in pending if c.contract_id not in remembered]
    report.items_remembered = len(remembered)
    for index, contract in enumerate(todo):
        if index >= budget:
            stopped = "budget"
            break
        try:
            outcome = contract_items_fetch(contract=contract, client=client)
        except (EsiLockdownError, EsiRateLimitError) as exc:
            stopped = exc.code
            break
        except EsiError as exc:
            logger.warning(
                "Contract %s items: transient ESI failure (%s); stopping this run", contract.contract_id, exc
            )
            stopped = exc.code
            break
        if outcome == "fetched":
            report.items_fetched += 1
        elif outcome.startswith("failed:"):
            reason = outcome.split(":", 1)[1]
            report.items_failed[reason] = report.items_failed.get(reason, 0) + 1
    report.items_pending = Contract.objects.filter(
        contract_id__in=live_ids, type__in=ITEM_TYPES, items_status=ItemsStatus.PENDING
    ).count()
    return stopped


def _bids_fetch_due(*, report: RefreshReport, live_ids: list[int], client: EsiClient) -> str | None:
    """Fetch the bids of live auctions whose bids are older than ``CONTRACTS_BIDS_MAX_AGE_SECONDS``.

    Args:
        report: Updated with the count.
        live_ids: The region's live contracts.
        client: The ESI client.

    Returns:
        Why the fetching stopped early, or None.
    """
    max_age = float(settings.CONTRACTS_BIDS_MAX_AGE_SECONDS)
    if max_age <= 0:
        return None
    stale_before = timezone.now() - timedelta(seconds=max_age)
    remembered = ContractFetchFailure.objects.filter(contract_id__in=live_ids, kind=FetchKind.BIDS).values_list(
        "contract_id", flat=True
    )
    due = (
        Contract.objects.filter(contract_id__in=live_ids, type=ContractType.AUCTION)
        .exclude(contract_id__in=remembered)
        .exclude(bids_fetched_at__gte=stale_before)
        .order_by("contract_id")
    )
    for contract in due:
        try:
            contract_bids_fetch(contract=contract, client=client)
        except EsiError as exc:
            return exc.code
        report.bids_fetched += 1
    return None


# ----------------------------------------------------------------------------- valuation
# The whole valuation in one statement: the price table arrives as three comma-joined texts (cheap to
# send), item lines are joined to it and summed per contract, and every contract in scope is updated.
VALUATE_SQL = """
WITH prices AS (
    SELECT * FROM unnest(
        string_to_array(%(type_ids)s, ',')::int[],
        string_to_array(%(splits)s, ',')::float8[],
        string_to_array(%(one_sided)s, ',')::bool[]
    ) AS p(type_id, split, one_sided)
),
scope AS (
    SELECT c.contract_id, c.price, c.reward,
           CASE WHEN c.type = 'auction' AND c.current_bid IS NOT NULL THEN c.current_bid ELSE c.price END AS paid
    FROM contracts_contract c
    WHERE {where}
),
lines AS (
    SELECT i.contract_id,
           sum(CASE WHEN i.is_included AND NOT i.is_blueprint_copy THEN i.quantity * p.split END) AS included,
           sum(CASE WHEN NOT i.is_included AND NOT i.is_blueprint_copy THEN i.quantity * p.split END) AS requested,
           count(*) AS item_lines,
           count(*) FILTER (WHERE NOT i.is_blueprint_copy AND p.split IS NULL) AS no_price_lines,
           count(*) FILTER (WHERE i.is_blueprint_copy) AS blueprint_copy_lines,
           count(*) FILTER (WHERE NOT i.is_blueprint_copy AND p.one_sided) AS one_sided_lines
    FROM contracts_contractitem i
    JOIN scope s ON s.contract_id = i.contract_id
    LEFT JOIN prices p ON p.type_id = i.type_id
    GROUP BY i.contract_id
),
valued AS (
    SELECT s.contract_id, s.paid, s.reward,
           coalesce(l.included, 0) AS included,
           coalesce(l.requested, 0) AS requested,
           coalesce(l.item_lines, 0) AS item_lines,
           coalesce(l.no_price_lines, 0) AS no_price_lines,
           coalesce(l.blueprint_copy_lines, 0) AS blueprint_copy_lines,
           coalesce(l.one_sided_lines, 0) AS one_sided_lines
    FROM scope s LEFT JOIN lines l ON l.contract_id = s.contract_id
)
UPDATE contracts_contract c SET
    included_value = v.included,
    requested_value = v.requested,
    items_value = v.included - v.requested,
    profit = v.included - v.requested + v.reward - v.paid,
    profit_pct = CASE WHEN v.paid > 0 THEN 100.0 * (v.included - v.requested + v.reward - v.paid) / v.paid END,
    item_lines = v.item_lines,
    no_price_lines = v.no_price_lines,
    blueprint_copy_lines = v.blueprint_copy_lines,
    one_sided_lines = v.one_sided_lines,
    valued_at = %(now)s
FROM valued v
WHERE c.contract_id = v.contract_id
"""


def contracts_valuate(
    *,
    region_id: int | None = None,
    contract_ids: Iterable[int] | None = None,
    price_lookup: PriceLookup | None = None,
) -> int:
    """Value cached contracts against the Jita split and store the results, set-based in PostgreSQL.

    The Jita splits (:class:`contracts.valuation.PriceTable`, the same one the
    breakdown uses) go to PostgreSQL as three texts; one ``UPDATE`` joins every
    item line to them, sums per contract and writes all contracts in scope. The
    definitions are those of :mod:`contracts.valuation` (tests compare both with
    a brute-force reference).

    Args:
        region_id: Only this region's active item exchanges and auctions (all regions when None).
        contract_ids: Only these contracts.
        price_lookup: Price source (defaults to ``CONTRACTS_PRICE_LOOKUP``, the market snapshots).

    Returns:
        How many contracts were valued.
    """
    where = ["c.type IN ('item_exchange', 'auction')", "c.is_active"]
    params: dict[str, Any] = {"now": timezone.now()}
    if region_id is not None:
        where.append("c.region_id = %(region_id)s")
        params["region_id"] = region_id
    if contract_ids is not None:
        where.append("c.contract_id = ANY(string_to_array(%(contract_ids)s, ',')::bigint[])")
        params["contract_ids"] = ",".join(str(int(c)) for c in contract_ids)
    clause = " AND ".join(where)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT i.type_id FROM contracts_contractitem i "  # noqa: S608 (fixed clauses)
            f"JOIN contracts_contract c ON c.contract_id = i.contract_id WHERE {clause}",
            params,
        )
        type_ids = [int(r[0]) for r in cursor.fetchall()]
        table = PriceTable.from_best_prices(jita_prices_get(type_ids=type_ids, price_lookup=price_lookup))
        params["type_ids"] = ",".join(map(str, table.type_ids.tolist()))
        params["splits"] = ",".join(map(repr, table.split.tolist()))
        params["one_sided"] = ",".join("t" if x else "f" for x in table.one_sided.tolist())
        cursor.execute(VALUATE_SQL.format(where=clause), params)
        return int(cursor.rowcount)


# ----------------------------------------------------------------------------- couriers
def contracts_courier_routes(*, region_id: int | None = None) -> int:
    """Work out the gate jumps of active couriers that have none yet (routing engine).

    Locations that are not NPC stations in the SDE (player structures) stay unknown.

    Args:
        region_id: Only this region (all when None).

    Returns:
        How many couriers got their jumps.
    """
    from universe.models import Station

    couriers = Contract.objects.filter(type=ContractType.COURIER, is_active=True, route_jumps__isnull=True)
    if region_id is not None:
        couriers = couriers.filter(region_id=region_id)
    rows = list(couriers.only("contract_id", "start_location_id", "end_location_id"))
    if not rows:
        return 0
    from routing.services import route_find  # Neo4j-backed: loaded only when there are couriers

    station_ids = {i for r in rows for i in (r.start_location_id, r.end_location_id) if i is not None}
    systems = dict(Station.objects.filter(id__in=station_ids).values_list("id", "system_id"))
    jumps_by_pair: dict[tuple[int, int], int | None] = {}
    done = 0
    for contract in rows:
        origin = systems.get(contract.start_location_id or 0)
        destination = systems.get(contract.end_location_id or 0)
        if origin is None or destination is None:
            continue
        pair = (origin, destination)
        if pair not in jumps_by_pair:
            try:
                route = route_find(
                    origin=origin, destination=destination, mode=settings.CONTRACTS_COURIER_ROUTE_MODE, avoid_risk=False
                )
                jumps_by_pair[pair] = int(route.jumps)
            except Exception:
                logger.exception("No route for courier %s (%s -> %s)", contract.contract_id, origin, destination)
                jumps_by_pair[pair] = None
        if jumps_by_pair[pair] is not None:
            Contract.objects.filter(contract_id=contract.contract_id).update(route_jumps=jumps_by_pair[pair])
            done += 1
    return done


# ----------------------------------------------------------------------------- purge
def contracts_purge_expired(*, now: datetime | None = None) -> int:
    """Delete expired contracts (their items go with them) and their remembered failures.

    Args:
        now: The current time.

    Returns:
        How many contracts were deleted.
    """
    now = now or timezone.now()
    ContractFetchFailure.objects.filter(expires_at__lte=now).delete()
    expired = Contract.objects.filter(date_expired__lte=now)
    count = expired.count()
    if count:
        expired.delete()
    return count
