"""``manage.py refresh_contracts`` against a fake ESI serving the real contract payloads."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django.fixtures import Settings as SettingsWrapper

from contracts.models import Contract, ItemsStatus
from contracts.services import REGION_LOCK_PREFIX, contracts_region_refresh
from contracts.tests.conftest import THE_FORGE, serve_items, serve_region, shift_dates
from esi import limits
from evesite.testing.fakeserver import FakeHttpServer, FakeResponse
from evesite.testing.output import TtyStringIO
from universe.models import Constellation, Region, SolarSystem, Station

pytestmark = pytest.mark.django_db

DERELIK = 10000001
UNKNOWN_REGION = 10999999  # in no SDE
WORMHOLE_REGION = 11000001  # an SDE region without NPC stations
# The samples whose items ESI refuses (see test_refresh.FAULTS): left out of the listings served here.
FAULT_IDS = {3000, 4000, 5000, 6000}


@pytest.fixture
def market_regions(db: None) -> None:
    """SDE rows making The Forge and Derelik market regions, and a wormhole region without NPC stations.

    Each market region gets one system and one NPC station; rows already ingested from the real SDE are kept.
    """
    for region_id, name, constellation_id, system_id, system, station_id in (
        (THE_FORGE, "The Forge", 20000020, 30000142, "Jita", 60003760),
        (DERELIK, "Derelik", 20000001, 30000001, "Tanoo", 60012163),
    ):
        region, _ = Region.objects.get_or_create(id=region_id, defaults={"name": name, "x": 0, "y": 0, "z": 0})
        constellation, _ = Constellation.objects.get_or_create(
            id=constellation_id, defaults={"region": region, "name": f"{name} One", "x": 0, "y": 0, "z": 0}
        )
        solar_system, _ = SolarSystem.objects.get_or_create(
            id=system_id,
            defaults={
                "name": system,
                "region": region,
                "constellation": constellation,
                "security": 0.9,
                "x": 0,
                "y": 0,
                "z": 0,
            },
        )
        Station.objects.get_or_create(
            id=station_id,
            defaults={
                "name": f"{system} test station",
                "system": solar_system,
                "region": region,
                "security": 0.9,
                "type_id": 1531,
                "x": 0,
                "y": 0,
                "z": 0,
            },
        )
    Region.objects.get_or_create(id=WORMHOLE_REGION, defaults={"name": "A-R00001", "x": 0, "y": 0, "z": 0})
    assert not Station.objects.filter(region_id__in=[UNKNOWN_REGION, WORMHOLE_REGION]).exists()


def _pages(samples: dict[str, Any], region_id: int) -> list[list[dict[str, Any]]]:
    """A region's two real listing pages without the refused contracts, shifted so every contract is live."""
    page1, page2 = (
        [c for c in samples[f"contracts-{region_id}-{n}"] if c["contract_id"] not in FAULT_IDS] for n in (1, 2)
    )
    shifted = shift_dates(page1 + page2, expire_in=timedelta(days=40))  # every sample live
    return [shifted[: len(page1)], shifted[len(page1) :]]


def _serve(esi: FakeHttpServer, samples: dict[str, Any], region_id: int) -> list[list[dict[str, Any]]]:
    """Script a region's listing, its contracts' items and its auctions' bids (real payloads)."""
    pages = _pages(samples, region_id)
    serve_region(esi, region_id, pages)
    for contract in (c for page in pages for c in page):
        cid = contract["contract_id"]
        if f"items-{cid}" in samples:
            serve_items(esi, cid, FakeResponse(json=samples[f"items-{cid}"], headers={"X-Pages": "1"}))
        if contract["type"] == "auction":
            bids = samples.get(f"bids-{cid}", [])
            esi.add("GET", f"/contracts/public/bids/{cid}", FakeResponse(json=bids, headers={"X-Pages": "1"}))
    return pages


def _ids(pages: list[list[dict[str, Any]]]) -> set[int]:
    """The contract ids of some listing pages."""
    return {c["contract_id"] for page in pages for c in page}


def _run(*args: str, stdout: io.StringIO | None = None) -> str:
    """Run the command and return what it wrote to stdout."""
    out = stdout if stdout is not None else io.StringIO()
    call_command("refresh_contracts", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _no_lockdown() -> bool:
    """Tell whether Redis holds no ESI lockdown key."""
    return not limits.redis_connection().exists(limits.LOCKDOWN_KEY)


@pytest.mark.usefixtures("market_regions", "jita_orders")
def test_refresh_one_region_stores_contracts_and_prints_the_summary(
    esi: FakeHttpServer, samples: dict[str, Any]
) -> None:
    """Both listing pages are read, every item route once, and the summary counts what was done."""
    pages = _serve(esi, samples, THE_FORGE)
    ids = _ids(pages)
    assert len(ids) == 4

    out = _run("--region", str(THE_FORGE))

    assert set(Contract.objects.filter(region_id=THE_FORGE).values_list("contract_id", flat=True)) == ids
    assert set(Contract.objects.filter(items_status=ItemsStatus.FETCHED).values_list("contract_id", flat=True)) == ids
    assert esi.count("GET", f"/contracts/public/{THE_FORGE}") == 2
    for cid in ids:
        assert esi.count("GET", f"/contracts/public/items/{cid}") == 1
    assert (
        f"Region {THE_FORGE}: 4 contracts listed (0 expired), 4 new, 0 gone; items fetched for 4 contracts, "
        "0 failed, 0 remembered as failing, 0 still pending; bids read for 0 auctions; 4 contracts valued." in out
    )
    assert "stopped early" not in out
    assert _no_lockdown()

    # Run again: only the listing is asked for, and nothing is new.
    out = _run("--region", str(THE_FORGE), "--region", str(THE_FORGE))  # a repeated region runs once
    assert esi.count("GET", f"/contracts/public/{THE_FORGE}") == 4
    assert "4 contracts listed (0 expired), 0 new, 0 gone; items fetched for 0 contracts" in out
    assert out.count(f"Region {THE_FORGE}:") == 1


@pytest.mark.usefixtures("market_regions", "jita_orders")
def test_several_regions_are_refreshed_in_turn_with_the_region_delay(
    esi: FakeHttpServer, samples: dict[str, Any], settings: SettingsWrapper
) -> None:
    """Each region's line is printed, and the second region's first request waits ESI_REGION_DELAY_SECONDS."""
    settings.ESI_REGION_DELAY_SECONDS = 0.4
    forge = _ids(_serve(esi, samples, THE_FORGE))
    derelik = _ids(_serve(esi, samples, DERELIK))

    out = _run("--region", str(THE_FORGE), "--region", str(DERELIK), "--quiet")
    assert out == ""  # --quiet: no summary
    assert set(Contract.objects.filter(region_id=THE_FORGE).values_list("contract_id", flat=True)) == forge
    assert set(Contract.objects.filter(region_id=DERELIK).values_list("contract_id", flat=True)) == derelik
    paths = [r.path for r in esi.requests]
    first_derelik = paths.index(f"/contracts/public/{DERELIK}")
    assert all(p.startswith("/contracts/public/") for p in paths)
    assert not any(str(DERELIK) in p for p in paths[:first_derelik])  # The Forge is done first
    gap = esi.requests[first_derelik].received_at - esi.requests[first_derelik - 1].received_at
    assert gap >= 0.4 - 0.02

    out = _run("--region", str(DERELIK), "--region", str(THE_FORGE))
    lines = [line for line in out.splitlines() if line.startswith("Region ")]
    assert [line.split(":")[0] for line in lines] == [f"Region {DERELIK}", f"Region {THE_FORGE}"]
    assert f"Region {DERELIK}: {len(derelik)} contracts listed" in out


@pytest.mark.usefixtures("market_regions", "jita_orders")
def test_progress_follows_the_listing_walk(esi: FakeHttpServer, samples: dict[str, Any]) -> None:
    """The service reports (pages done, total) per listing page; on a terminal the command draws the bar."""
    _serve(esi, samples, THE_FORGE)
    calls: list[tuple[int, int]] = []
    contracts_region_refresh(region_id=THE_FORGE, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 2), (2, 2)]

    tty = TtyStringIO()
    out = _run("--region", str(THE_FORGE), stdout=tty)
    assert f"region {THE_FORGE} listing" in out
    assert "2/2" in out
    assert f"Region {THE_FORGE}: 4 contracts listed" in out

    quiet = TtyStringIO()
    assert _run("--region", str(THE_FORGE), "--quiet", stdout=quiet) == ""


@pytest.mark.usefixtures("market_regions")
@pytest.mark.parametrize("bad_region", [UNKNOWN_REGION, WORMHOLE_REGION])
def test_a_region_without_npc_stations_fails_before_any_request(esi_server: FakeHttpServer, bad_region: int) -> None:
    """An unknown region (or one without NPC stations) fails with one line, before any request.

    ESI is not asked even for the valid region given before it, and no lockdown is set.
    """
    serve_region(esi_server, THE_FORGE, [[]])
    with pytest.raises(CommandError) as caught:
        _run("--region", str(THE_FORGE), "--region", str(bad_region))
    message = str(caught.value)
    assert str(bad_region) in message
    assert "\n" not in message
    assert caught.value.returncode != 0
    assert esi_server.count() == 0
    assert _no_lockdown()
    assert not Contract.objects.exists()


def test_the_region_option_is_required(esi_server: FakeHttpServer) -> None:
    """Without --region the command refuses to run."""
    with pytest.raises(CommandError, match="--region"):
        _run()
    assert esi_server.count() == 0


@pytest.mark.usefixtures("market_regions", "jita_orders")
def test_an_esi_failure_is_one_line_and_stops_the_run(esi: FakeHttpServer, samples: dict[str, Any]) -> None:
    """A 500 on the listing ends the command with one line naming the region; the next region is not asked."""
    esi.add("GET", f"/contracts/public/{THE_FORGE}", FakeResponse(status=500, json={"error": "Internal error"}))
    _serve(esi, samples, DERELIK)
    with pytest.raises(CommandError) as caught:
        _run("--region", str(THE_FORGE), "--region", str(DERELIK))
    message = str(caught.value)
    assert message.startswith(f"Region {THE_FORGE}: ")
    assert "500" in message
    assert "\n" not in message
    assert esi.count("GET", f"/contracts/public/{THE_FORGE}") == 1
    assert esi.count("GET", f"/contracts/public/{DERELIK}") == 0
    assert not Contract.objects.exists()


@pytest.mark.usefixtures("market_regions", "jita_orders")
def test_a_lockdown_already_set_fails_without_a_request(esi: FakeHttpServer, samples: dict[str, Any]) -> None:
    """While ESI_GLOBAL_LOCKDOWN exists the command fails with one line and sends nothing."""
    _serve(esi, samples, THE_FORGE)
    limits.lockdown_set(seconds=30, reason="test: locked down")
    with pytest.raises(CommandError) as caught:
        _run("--region", str(THE_FORGE))
    assert "\n" not in str(caught.value)
    assert esi.count() == 0


@pytest.mark.usefixtures("market_regions", "jita_orders")
def test_a_region_being_refreshed_elsewhere_is_reported_and_fails(esi: FakeHttpServer, samples: dict[str, Any]) -> None:
    """When another run holds the region's lock, the summary says so and the command exits non-zero."""
    _serve(esi, samples, THE_FORGE)
    assert cache.add(f"{REGION_LOCK_PREFIX}{THE_FORGE}", "elsewhere", timeout=60)
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        _run("--region", str(THE_FORGE), stdout=out)
    assert str(THE_FORGE) in str(caught.value)
    assert "\n" not in str(caught.value)
    assert f"Region {THE_FORGE}: skipped, another refresh of it is running." in out.getvalue()
    assert esi.count() == 0
