"""Celery task, beat entry, settings defaults and admin pages of contracts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from contracts.models import Contract, ContractFetchFailure, ContractItem, FailureReason, ItemsStatus
from contracts.services import REGION_LOCK_PREFIX
from contracts.tasks import contracts_refresh_region_task, contracts_refresh_regions_task
from contracts.tests.conftest import THE_FORGE, serve_items, serve_region, shift_dates
from evesite.testing.defaults import settings_defaults
from evesite.testing.fakeserver import FakeHttpServer, FakeResponse
from jobs.models import Job


def test_beat_runs_the_regions_refresh_every_half_hour() -> None:
    """The merged beat schedule holds the contracts entry, pointing at a registered task."""
    entry = settings.CELERY_BEAT_SCHEDULE["contracts-refresh-regions"]
    assert entry["task"] == contracts_refresh_regions_task.name
    assert entry["schedule"] == 1800.0
    revalue = settings.CELERY_BEAT_SCHEDULE["contracts-revalue"]
    assert revalue["task"] == "contracts.tasks.contracts_revalue_task"
    assert revalue["schedule"] == 300.0


def test_settings_defaults_without_environment() -> None:
    """With no CONTRACTS_* variable set, the documented defaults apply."""
    assert settings_defaults(
        "CONTRACTS_REGIONS",
        "CONTRACTS_MAX_CACHE_DAYS",
        "CONTRACTS_ITEM_FETCHES_PER_RUN",
        "CONTRACTS_BIDS_MAX_AGE_SECONDS",
        "CONTRACTS_PRICE_STATION_ID",
        "CONTRACTS_PRICE_REGION_ID",
        "CONTRACTS_COURIER_ROUTE_MODE",
        "CONTRACTS_PRICE_LOOKUP",
    ) == [
        [10000002, 10000043, 10000032, 10000042, 10000030],
        30.0,
        2000,
        3600.0,
        60003760,
        10000002,
        "shortest",
        "market.selectors.market_station_best_prices",
    ]


@pytest.mark.django_db
def test_task_is_idempotent_and_skips_while_another_run_holds_the_region(
    esi: FakeHttpServer, samples: dict[str, Any], settings: Any
) -> None:
    """Running the task twice fetches items once; a held region lock skips the run without any ESI call."""
    settings.CONTRACTS_REGIONS = [THE_FORGE]
    page = shift_dates(samples["contracts-10000002-2"], expire_in=timedelta(days=5))
    serve_region(esi, THE_FORGE, [page])
    for contract in page:
        cid = contract["contract_id"]
        serve_items(esi, cid, FakeResponse(json=samples[f"items-{cid}"], headers={"X-Pages": "1"}))
    first = contracts_refresh_regions_task.apply().get()
    assert first[0]["items_fetched"] == 2
    job = Job.objects.get(kind="contracts.refresh_regions")
    assert (job.state, job.progress_done, job.progress_total, job.progress_unit) == ("done", 1, 1, "regions")
    second = contracts_refresh_region_task.apply(args=(THE_FORGE,)).get()
    assert second["items_fetched"] == 0
    assert esi.count("GET", "/contracts/public/items/190123693") == 1

    cache.add(f"{REGION_LOCK_PREFIX}{THE_FORGE}", "busy", timeout=60)
    calls = esi.count()
    skipped = contracts_refresh_region_task.apply(args=(THE_FORGE,)).get()
    assert skipped["skipped_locked"] is True
    assert esi.count() == calls


@pytest.mark.django_db
def test_admin_pages_list_contracts_items_and_failures() -> None:
    """Staff see cached contracts (with items inline), items and remembered failures."""
    now = timezone.now()
    contract = Contract.objects.create(
        contract_id=190123693,
        region_id=THE_FORGE,
        type="item_exchange",
        issuer_id=1,
        issuer_corporation_id=1,
        date_issued=now,
        date_expired=now + timedelta(days=3),
        price=210_000_000,
        items_status=ItemsStatus.FETCHED,
        last_seen_at=now,
    )
    ContractItem.objects.create(record_id=4023681577, contract=contract, type_id=688, quantity=1, is_included=True)
    ContractFetchFailure.objects.create(
        contract_id=3000, reason=FailureReason.NOT_FOUND, status=404, expires_at=now + timedelta(days=1)
    )
    admin = get_user_model().objects.create_superuser("admin", "admin@example.org", "pw-for-tests")
    client = Client()
    client.force_login(admin)
    for url, expected in [
        ("/admin/contracts/contract/", b"190123693"),
        ("/admin/contracts/contract/190123693/change/", b"4023681577"),
        ("/admin/contracts/contractitem/", b"4023681577"),
        ("/admin/contracts/contractfetchfailure/", b"3000"),
    ]:
        page = client.get(url)
        assert page.status_code == 200, url
        assert expected in page.content, url
