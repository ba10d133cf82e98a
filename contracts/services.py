"""Writes of the contracts app: region refresh from ESI, courier routes, purge.

Every ESI call goes through :class:`esi.client.EsiClient` (its delays, lockdown and
budgets). The per-contract item and bid fetches are in :mod:`contracts.fetch`, the
set-based valuation in :mod:`contracts.valuation`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from contracts.cache import contract_cache_many, contract_cache_warm
from contracts.fetch import contract_bids_fetch, contract_items_fetch
from contracts.models import Contract, ContractFetchFailure, ContractType, FetchKind, ItemsStatus
from contracts.prices import PriceLookup
from contracts.valuation import contracts_valuate
from esi.client import EsiClient
from esi.errors import EsiError, EsiLockdownError, EsiRateLimitError
from esi.models import PublicContract
from routing.services import route_find
from universe.models import Station

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


# ----------------------------------------------------------------------------- region refresh
def _contracts_store(*, region_id: int, payloads: list[PublicContract], now: datetime) -> tuple[int, int]:
    """Upsert the listed contracts and deactivate the region's ones that vanished."""
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
    """Take the region's refresh lock (so overlapping runs do not double the ESI calls)."""
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
    """Do the work of :func:`contracts_region_refresh`."""
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
    """Fetch the items of live contracts that have none yet, within the per-run budget."""
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
    """Fetch the bids of live auctions whose bids are older than ``CONTRACTS_BIDS_MAX_AGE_SECONDS``."""
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


# ----------------------------------------------------------------------------- couriers
def contracts_courier_routes(*, region_id: int | None = None) -> int:
    """Work out the gate jumps of active couriers that have none yet (routing engine).

    Locations that are not NPC stations in the SDE (player structures) stay unknown.

    Args:
        region_id: Only this region (all when None).

    Returns:
        How many couriers got their jumps.
    """
    couriers = Contract.objects.filter(type=ContractType.COURIER, is_active=True, route_jumps__isnull=True)
    if region_id is not None:
        couriers = couriers.filter(region_id=region_id)
    rows = list(couriers.only("contract_id", "start_location_id", "end_location_id"))
    if not rows:
        return 0
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
