"""Fixtures of the contracts tests: a fake ESI serving the real contract payloads, and Jita prices."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from contracts.prices import BestPrices, best_prices_from_orders
from esi.testing import esi_settings_for_tests
from evesite.testing.fakeserver import FakeHttpServer, FakeResponse

JITA_STATION = 60003760
THE_FORGE = 10000002

# The orders of the current test's "snapshot" at Jita (ESI market-order shape), read by ``snapshot_best_prices``.
_SNAPSHOT_ORDERS: list[dict[str, Any]] = []


def snapshot_best_prices(*, station_id: int, region_id: int, type_ids: Any = None) -> Mapping[int, BestPrices]:
    """Price lookup with the market interface's signature, reading the test's order snapshot.

    Args:
        station_id: The station.
        region_id: The region (the snapshot is The Forge's).
        type_ids: Only these types.

    Returns:
        Best prices by type id.
    """
    if region_id != THE_FORGE:
        return {}
    return best_prices_from_orders(orders=_SNAPSHOT_ORDERS, station_id=station_id, type_ids=type_ids)


def order(type_id: int, price: float, *, buy: bool, location_id: int = JITA_STATION) -> dict[str, Any]:
    """Build one ESI market order.

    Args:
        type_id: The type.
        price: The price.
        buy: A buy order when True.
        location_id: Where it sits.

    Returns:
        The order dict.
    """
    return {
        "order_id": abs(hash((type_id, price, buy, location_id))) % 10**10,
        "type_id": type_id,
        "location_id": location_id,
        "system_id": 30000142,
        "is_buy_order": buy,
        "price": price,
        "volume_remain": 10,
        "volume_total": 10,
        "min_volume": 1,
        "duration": 90,
        "issued": "2026-11-01T00:00:00Z",
        "range": "station",
    }


@pytest.fixture
def jita_orders(settings: SettingsWrapper) -> Iterator[list[dict[str, Any]]]:
    """The Jita order snapshot used for prices; tests append orders to it.

    Args:
        settings: pytest-django's settings fixture.

    Yields:
        The (mutable) list of orders.
    """
    settings.CONTRACTS_PRICE_LOOKUP = "contracts.tests.conftest.snapshot_best_prices"
    _SNAPSHOT_ORDERS.clear()
    yield _SNAPSHOT_ORDERS
    _SNAPSHOT_ORDERS.clear()


@pytest.fixture
def samples(shared_dir: Path) -> dict[str, Any]:
    """Load every real contract payload of ``samples/contracts``.

    Args:
        shared_dir: The shared data folder.

    Returns:
        Parsed JSON by file stem (``contracts-10000002-1``, ``items-190753200``...).
    """
    folder = shared_dir / "samples" / "contracts"
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def shift_dates(contracts: list[dict[str, Any]], *, expire_in: timedelta) -> list[dict[str, Any]]:
    """Move real contracts in time so the latest one expires ``expire_in`` from now (durations kept).

    Args:
        contracts: Contract payloads.
        expire_in: When the latest-expiring contract should expire.

    Returns:
        Copies with ``date_issued`` and ``date_expired`` shifted by one common delta.
    """

    def parse(value: str) -> datetime:
        """Parse an ESI date."""
        return datetime.fromisoformat(value.replace("Z", "+00:00"))

    latest = max(parse(c["date_expired"]) for c in contracts)
    delta = datetime.now(UTC) + expire_in - latest
    out = []
    for c in contracts:
        copy = dict(c)
        for key in ("date_issued", "date_expired"):
            copy[key] = (parse(c[key]) + delta).isoformat().replace("+00:00", "Z")
        out.append(copy)
    return out


def page_headers(pages: int) -> dict[str, str]:
    """Headers of one page of a listing.

    Args:
        pages: Total pages.

    Returns:
        ``X-Pages`` and a fixed ``Last-Modified`` (all pages of one version share it).
    """
    return {"X-Pages": str(pages), "Last-Modified": format_datetime(datetime(2026, 11, 28, 22, 0, tzinfo=UTC), True)}


@pytest.fixture
def esi(fake_server: FakeHttpServer, settings: SettingsWrapper) -> FakeHttpServer:
    """Point ESI_BASE_URL at a fake ESI with shrunken delays (a lockdown lasts until a test clears it).

    Args:
        fake_server: The scripted loopback server.
        settings: pytest-django's settings fixture.

    Returns:
        The fake server.
    """
    esi_settings_for_tests(settings, fake_server.url, ESI_LOCKDOWN_SECONDS=30.0, ESI_ERROR_SLEEP_SECONDS=0.01)
    return fake_server


def serve_region(server: FakeHttpServer, region_id: int, pages: list[list[dict[str, Any]]]) -> None:
    """Script ``GET /contracts/public/{region_id}`` with one answer per page.

    Args:
        server: The fake ESI.
        region_id: The region.
        pages: The contracts of each page.
    """

    def answer(request: Any) -> FakeResponse:
        """Answer the requested page."""
        page = int(request.query.get("page", ["1"])[0])
        return FakeResponse(json=pages[page - 1], headers=page_headers(len(pages)))

    server.add("GET", f"/contracts/public/{region_id}", answer)


def serve_items(server: FakeHttpServer, contract_id: int, *responses: FakeResponse) -> None:
    """Script ``GET /contracts/public/items/{contract_id}``.

    Args:
        server: The fake ESI.
        contract_id: The contract.
        *responses: The answers, in turn (the last repeats).
    """
    server.add("GET", f"/contracts/public/items/{contract_id}", *responses)
