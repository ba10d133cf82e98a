"""Refresh against a fake ESI serving the real payloads: faults remembered, fetched once, expiry-based TTLs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_redis import get_redis_connection

from contracts.cache import contract_cache_get, contract_cache_key
from contracts.fetch import _fault_reason, contract_items_fetch
from contracts.models import Contract, ContractFetchFailure, ContractItem, FailureReason, ItemsStatus
from contracts.services import contracts_region_refresh
from contracts.tests.conftest import THE_FORGE, serve_items, serve_region, shift_dates
from esi import limits
from esi.client import EsiClient
from esi.errors import EsiHttpError, EsiLockdownError, EsiPayloadError, EsiTimeoutError
from evesite.testing.fakeserver import FakeHttpServer, FakeResponse

pytestmark = [pytest.mark.django_db, pytest.mark.waits]  # mostly waits (conftest)

# Synthetic ids of the samples that the fake ESI answers with the known faults.
FAULTS = {
    3000: FakeResponse(status=403, json={"error": "Contract not public"}),
    4000: FakeResponse(status=403, json={"error": "Contract accepted by player, requires authorization"}),
    5000: FakeResponse(status=404, json={"error": "Contract not found!"}),
    6000: FakeResponse(status=204),
}


def _forge_pages(samples: dict[str, Any], expire_in: timedelta = timedelta(days=10)) -> list[list[dict[str, Any]]]:
    """The Forge's two real listing pages, shifted so the contracts are live."""
    page1, page2 = samples["contracts-10000002-1"], samples["contracts-10000002-2"]
    shifted = shift_dates(page1 + page2, expire_in=expire_in)
    return [shifted[: len(page1)], shifted[len(page1) :]]


def _serve_forge(esi: FakeHttpServer, samples: dict[str, Any], pages: list[list[dict[str, Any]]]) -> None:
    """Script the listing, every item route (real payloads or faults) and the auctions' bids."""
    serve_region(esi, THE_FORGE, pages)
    for contract in (c for page in pages for c in page):
        cid = contract["contract_id"]
        if cid in FAULTS:
            serve_items(esi, cid, FAULTS[cid])
        elif f"items-{cid}" in samples:
            serve_items(esi, cid, FakeResponse(json=samples[f"items-{cid}"], headers={"X-Pages": "1"}))
    esi.add("GET", r"/contracts/public/bids/\d+", FakeResponse(json=[], headers={"X-Pages": "1"}), regex=True)


def _lockdown_clear() -> None:
    """End the ESI lockdown a remembered fault has set (as if its minute had passed)."""
    limits.redis_connection().delete(limits.LOCKDOWN_KEY)


def _refresh_until_done(max_runs: int = 10) -> list[Any]:
    """Run the region refresh until no contract waits for its items (each fault locks ESI down once)."""
    reports = []
    for _ in range(max_runs):
        reports.append(contracts_region_refresh(region_id=THE_FORGE))
        _lockdown_clear()
        if reports[-1].items_pending == 0:
            return reports
    raise AssertionError(f"items still pending after {max_runs} runs: {reports[-1]}")


def _items_calls(esi: FakeHttpServer, contract_id: int) -> int:
    """Count the item requests of one contract."""
    return esi.count("GET", f"/contracts/public/items/{contract_id}")


def test_refresh_stores_contracts_items_and_remembers_each_known_fault(
    esi: FakeHttpServer, samples: dict[str, Any], jita_orders: list[dict[str, Any]]
) -> None:
    """Every item route is called exactly once; faults are remembered with their reason; nothing is repeated."""
    pages = _forge_pages(samples)
    _serve_forge(esi, samples, pages)
    _refresh_until_done()

    ids = [c["contract_id"] for page in pages for c in page]
    assert set(Contract.objects.values_list("contract_id", flat=True)) == set(ids)
    for cid in ids:
        assert _items_calls(esi, cid) == 1, cid
    reasons = dict(ContractFetchFailure.objects.values_list("contract_id", "reason"))
    # The two 403s are told apart only when the client passes ESI's error text along (see _fault_reason).
    assert reasons[3000] in {FailureReason.NOT_PUBLIC, FailureReason.FORBIDDEN}
    assert reasons[4000] in {FailureReason.ACCEPTED, FailureReason.FORBIDDEN}
    assert reasons[5000] == FailureReason.NOT_FOUND
    assert reasons[6000] == FailureReason.EMPTY
    assert set(reasons) == set(FAULTS)
    assert set(Contract.objects.filter(items_status=ItemsStatus.FAILED).values_list("contract_id", flat=True)) == set(
        FAULTS
    )
    fetched = Contract.objects.get(contract_id=190124106)
    assert fetched.items_status == ItemsStatus.FETCHED
    assert sorted(ContractItem.objects.filter(contract=fetched).values_list("record_id", flat=True)) == [
        2000,
        4023694409,
    ]

    # Refreshing again (many times) only asks for the listing.
    before = {cid: _items_calls(esi, cid) for cid in ids}
    for _ in range(3):
        report = contracts_region_refresh(region_id=THE_FORGE)
        assert report.items_fetched == 0
        assert report.stopped is None
    assert {cid: _items_calls(esi, cid) for cid in ids} == before


def test_fault_reasons_from_the_client_errors() -> None:
    """Known faults map to reasons (403 texts when present); 5xx, timeouts and bad payloads are transient."""
    not_public = EsiHttpError("ESI answered 403.", status=403)
    not_public.body = '{"error": "Contract not public"}'  # type: ignore[attr-defined]
    accepted = EsiHttpError("ESI answered 403.", status=403)
    accepted.body = '{"error": "Contract accepted by player, requires authorization"}'  # type: ignore[attr-defined]
    assert _fault_reason(not_public) == FailureReason.NOT_PUBLIC
    assert _fault_reason(accepted) == FailureReason.ACCEPTED
    assert _fault_reason(EsiHttpError("ESI answered 403.", status=403)) == FailureReason.FORBIDDEN
    assert _fault_reason(EsiHttpError("ESI answered 404.", status=404)) == FailureReason.NOT_FOUND
    assert _fault_reason(EsiPayloadError("empty", status=204)) == FailureReason.EMPTY
    assert _fault_reason(EsiHttpError("ESI answered 500.", status=500)) is None
    assert _fault_reason(EsiHttpError("ESI answered 420.", status=420)) is None
    assert _fault_reason(EsiTimeoutError("timeout")) is None
    assert _fault_reason(EsiPayloadError("bad json", status=200)) is None


def test_remembered_failure_short_circuits_before_the_client(esi: FakeHttpServer, samples: dict[str, Any]) -> None:
    """A remembered fault answers at once, even during an ESI lockdown (the client is never reached)."""
    pages = _forge_pages(samples)
    _serve_forge(esi, samples, pages)
    contracts_region_refresh(region_id=THE_FORGE)
    _lockdown_clear()
    failing = Contract.objects.get(contract_id=3000)
    if failing.items_status != ItemsStatus.FAILED:
        assert contract_items_fetch(contract=failing, client=EsiClient()).startswith("failed:")
    assert _items_calls(esi, 3000) == 1

    limits.lockdown_set(seconds=30, reason="test: ESI is locked down")
    fresh_row = Contract.objects.get(contract_id=3000)
    fresh_row.items_status = ItemsStatus.PENDING  # even if the row forgot, the failure table remembers
    assert contract_items_fetch(contract=fresh_row, client=EsiClient()) == "remembered"
    assert _items_calls(esi, 3000) == 1


def test_lockdown_after_a_fault_stops_the_run_and_the_next_run_resumes(
    esi: FakeHttpServer, samples: dict[str, Any]
) -> None:
    """A fault locks ESI down: the run stops fetching items (no request while locked) and the next one resumes."""
    pages = _forge_pages(samples)
    _serve_forge(esi, samples, pages)
    first = contracts_region_refresh(region_id=THE_FORGE)
    assert first.stopped == "esi_lockdown"
    assert first.items_pending > 0
    calls = esi.count()
    with pytest.raises(EsiLockdownError):  # the listing itself is refused while locked: nothing leaves
        contracts_region_refresh(region_id=THE_FORGE)
    assert esi.count() == calls
    _lockdown_clear()
    reports = _refresh_until_done()
    assert reports[-1].items_pending == 0


def test_expired_contracts_are_neither_stored_nor_fetched(esi: FakeHttpServer, samples: dict[str, Any]) -> None:
    """The real (2023) dates are long past: nothing is stored and no item is requested."""
    serve_region(esi, THE_FORGE, [samples["contracts-10000002-1"], samples["contracts-10000002-2"]])
    report = contracts_region_refresh(region_id=THE_FORGE)
    assert report.listed == 8
    assert report.skipped_expired == 8
    assert Contract.objects.count() == 0
    assert esi.count() == 2  # the two listing pages only


def test_redis_ttl_follows_expiry_and_is_capped(esi: FakeHttpServer, samples: dict[str, Any], settings: Any) -> None:
    """Each contract stays in Redis until it expires, never longer than CONTRACTS_MAX_CACHE_DAYS."""
    settings.CONTRACTS_MAX_CACHE_DAYS = 30.0
    pages = _forge_pages(samples, expire_in=timedelta(days=30, hours=12))
    _serve_forge(esi, samples, pages)
    _refresh_until_done()
    redis = get_redis_connection("default")
    now = timezone.now()
    capped = uncapped = 0
    for contract in Contract.objects.all():
        key = next(iter(redis.keys(f"*{contract_cache_key(contract.contract_id)}")))
        ttl = redis.ttl(key)
        expected = min((contract.date_expired - now).total_seconds(), 30 * 86400)
        assert abs(ttl - expected) < 30, (contract.contract_id, ttl, expected)
        capped += expected == 30 * 86400
        uncapped += expected < 30 * 86400
    assert capped  # the samples span both sides of the cap
    assert uncapped
    entry = contract_cache_get(190124106)
    assert entry is not None
    assert [i["record_id"] for i in entry["items"]] == [2000, 4023694409]


def test_restart_with_empty_redis_refetches_nothing(esi: FakeHttpServer, samples: dict[str, Any]) -> None:
    """PostgreSQL keeps everything: with Redis emptied, a refresh asks ESI for the listing only and rewarms Redis."""
    pages = _forge_pages(samples)
    _serve_forge(esi, samples, pages)
    _refresh_until_done()
    get_redis_connection("default").flushdb()
    esi.requests.clear()
    contracts_region_refresh(region_id=THE_FORGE)
    assert {r.path for r in esi.requests} == {f"/contracts/public/{THE_FORGE}"}
    assert contract_cache_get(190124106) is not None


def test_contracts_gone_from_the_listing_are_deactivated(esi: FakeHttpServer, samples: dict[str, Any]) -> None:
    """A contract missing from the latest listing (accepted or deleted) leaves the active set."""
    pages = _forge_pages(samples)
    _serve_forge(esi, samples, pages)
    _refresh_until_done()
    esi.reset()
    _serve_forge(esi, samples, [pages[0]])
    report = contracts_region_refresh(region_id=THE_FORGE)
    assert report.deactivated == len(pages[1])
    assert not Contract.objects.filter(contract_id__in=[c["contract_id"] for c in pages[1]], is_active=True).exists()


def test_transient_errors_are_not_remembered(esi: FakeHttpServer, samples: dict[str, Any]) -> None:
    """A 500 on an item route stops the run but is not remembered: the next run fetches the items."""
    page = shift_dates(samples["contracts-10000002-2"], expire_in=timedelta(days=5))
    serve_region(esi, THE_FORGE, [page])
    serve_items(
        esi,
        190123693,
        FakeResponse(status=500, json={"error": "Internal server error"}),
        FakeResponse(json=samples["items-190123693"], headers={"X-Pages": "1"}),
    )
    serve_items(esi, 190160355, FakeResponse(json=samples["items-190160355"], headers={"X-Pages": "1"}))
    first = contracts_region_refresh(region_id=THE_FORGE)
    assert first.stopped == "esi_http_error"
    assert not ContractFetchFailure.objects.exists()
    assert Contract.objects.get(contract_id=190123693).items_status == ItemsStatus.PENDING
    _lockdown_clear()
    _refresh_until_done()
    assert Contract.objects.get(contract_id=190123693).items_status == ItemsStatus.FETCHED
    assert _items_calls(esi, 190123693) == 2
