"""Market endpoints, the snapshot store, the command and the Celery task, against a fake ESI on loopback."""

from __future__ import annotations

import io
import json
import random
import time
from datetime import timedelta
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from accounts.models import UserSettings
from evesite.admission import expensive_slot_acquire, expensive_slot_release
from evesite.exceptions import InvalidInputError
from evesite.settings import production as site
from evesite.settings.production import CELERY_BEAT_SCHEDULE
from evesite.testing.fakeserver import FakeHttpServer, FakeResponse
from market.models import MarketOrder, MarketSnapshot
from market.selectors import (
    TradeQuery,
    market_hauling_scan,
    market_snapshot_cached_meta_get,
    market_snapshot_cached_orders_get,
    market_station_best_prices,
)
from market.services import market_snapshot_store
from market.tasks import market_refresh_region_task, market_snapshot_regions_task
from market.tests.conftest import (
    LOCATIONS,
    REGION_1,
    REGION_2,
    SECURITY,
    STATION_A,
    STATION_B,
    STATION_C,
    STATION_D,
    STRUCTURE_X,
    TYPE_PACKAGED,
    TYPE_PLAIN,
    TYPE_UNKNOWN,
    VOLUMES,
    SyntheticUniverse,
    pilot_login,
)
from market.tests.reference import Universe, reference_hauling, reference_station

pytestmark = pytest.mark.django_db
UNIVERSE = Universe(volumes=VOLUMES, security=SECURITY)
ORDERS_PATH = f"/markets/{REGION_1}/orders"
PRICE_LEVEL = {STATION_A: 1.0, STATION_B: 1.6, STATION_C: 0.7, STRUCTURE_X: 1.2, STATION_D: 2.0}


def _book(region_id: int, count: int, seed: int) -> list[dict[str, Any]]:
    """Make a deterministic random order book of one region in ESI's format.

    Args:
        region_id: The region.
        count: Orders.
        seed: Random seed.

    Returns:
        ESI market orders.
    """
    rng = random.Random(seed)
    places = [loc for loc, (_, region) in LOCATIONS.items() if region == region_id]
    orders = []
    for i in range(count):
        location = rng.choice(places)
        remain = rng.randint(1, 500)
        is_buy = rng.random() < 0.5
        # At a station buyers bid below what sellers ask; price levels differ between stations (hauls).
        level = PRICE_LEVEL[location]
        price = round(level * (rng.uniform(50, 100) if is_buy else rng.uniform(100, 150)), 2)
        orders.append(
            {
                "duration": 90,
                "is_buy_order": is_buy,
                "issued": "2026-11-28T10:00:00Z",
                "location_id": location,
                "min_volume": rng.choice([1, 1, 1, 5, 50]),
                "order_id": region_id * 10_000 + seed * 1000 + i,
                "price": price,
                "range": "region",
                "system_id": LOCATIONS[location][0],
                "type_id": rng.choice([TYPE_PACKAGED, TYPE_PLAIN, TYPE_UNKNOWN]),
                "volume_remain": remain,
                "volume_total": remain + rng.randint(0, 10),
            }
        )
    return orders


def _serve_pages(server: FakeHttpServer, path: str, orders: list[dict[str, Any]], pages: int = 2) -> None:
    """Serve orders as ESI does: ``?page=N`` with ``X-Pages`` and one ``Last-Modified``.

    Args:
        server: The fake ESI.
        path: The route.
        orders: All orders.
        pages: Page count.
    """
    size = -(-len(orders) // pages)
    chunks = [orders[i * size : (i + 1) * size] for i in range(pages)]

    def answer(request: Any) -> FakeResponse:
        """Answer one page."""
        page = int(request.query.get("page", ["1"])[0])
        return FakeResponse(
            json=chunks[page - 1],
            headers={
                "X-Pages": str(pages),
                "Last-Modified": "Sat, 28 Nov 2026 22:55:00 GMT",
                "Expires": formatdate(time.time() + 300, usegmt=True),
            },
        )

    server.add("GET", path, answer, repeat_last=True)


def _rows(body: dict[str, Any]) -> list[tuple[int, int, int]]:
    """Key the result rows.

    Args:
        body: A scan answer.

    Returns:
        (type, from, to) per row.
    """
    return [(r["type_id"], r["from_station_id"], r["to_station_id"]) for r in body["results"]]


def _keys(rows: list[dict[str, Any]]) -> list[tuple[int, int, int]]:
    """Key reference rows.

    Args:
        rows: Reference rows.

    Returns:
        (type, from, to) per row.
    """
    return [(r["type_id"], r["from_station_id"], r["to_station_id"]) for r in rows]


# --------------------------------------------------------------------------- store
def test_store_keeps_one_current_snapshot_and_a_redis_copy(synthetic_universe: SyntheticUniverse) -> None:
    """A second store replaces the first (orders pruned); Redis holds the orders for at most 30 minutes."""
    first = market_snapshot_store(region_id=REGION_1, orders=_book(REGION_1, 30, seed=1))
    second_orders = _book(REGION_1, 20, seed=2)
    last_modified = timezone.now() - timedelta(minutes=3)
    second = market_snapshot_store(region_id=REGION_1, orders=second_orders, last_modified=last_modified)
    market_snapshot_store(region_id=REGION_2, orders=_book(REGION_2, 5, seed=3))
    assert list(MarketSnapshot.objects.filter(region_id=REGION_1).values_list("pk", flat=True)) == [second.pk]
    assert not MarketOrder.objects.filter(snapshot_id=first.pk).exists()
    assert MarketOrder.objects.filter(snapshot=second).count() == 20
    assert MarketSnapshot.objects.get(pk=second.pk).last_modified == last_modified
    meta = market_snapshot_cached_meta_get(region_id=REGION_1)
    assert meta is not None
    assert meta["snapshot_id"] == second.pk
    assert meta["order_count"] == 20
    cached = market_snapshot_cached_orders_get(region_id=REGION_1)
    assert cached is not None
    assert sorted(o["order_id"] for o in cached) == sorted(o["order_id"] for o in second_orders)
    ttl = get_redis_connection("default").ttl(f"market:orders:{REGION_1}")
    assert 0 < ttl <= 1800


def test_store_rejects_what_is_not_an_order(synthetic_universe: SyntheticUniverse) -> None:
    """A malformed order is refused and the current snapshot stays."""
    good = market_snapshot_store(region_id=REGION_1, orders=_book(REGION_1, 3, seed=4))
    with pytest.raises(InvalidInputError):
        market_snapshot_store(region_id=REGION_1, orders=[{"order_id": 1, "price": "cheap"}])
    assert list(MarketSnapshot.objects.filter(region_id=REGION_1).values_list("pk", flat=True)) == [good.pk]


def test_load_market_snapshot_command(shared_dir: Path, tmp_path: Path) -> None:
    """The command loads a real-format ESI file as the region's only snapshot; bad files are refused."""
    sample = shared_dir / "samples" / "marketorders" / "market-orders-10000002-1.json"
    orders = json.loads(sample.read_text())
    out = io.StringIO()
    call_command("load_market_snapshot", "--region", "10000002", str(sample), stdout=out)
    call_command("load_market_snapshot", "--region", "10000002", str(sample), stdout=out)
    assert f"with {len(orders)} orders is now current" in out.getvalue()
    snapshots = MarketSnapshot.objects.filter(region_id=10000002)
    assert snapshots.count() == 1
    stored = set(MarketOrder.objects.filter(snapshot=snapshots.get()).values_list("order_id", flat=True))
    assert stored == {o["order_id"] for o in orders}
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "a list"}')
    with pytest.raises(CommandError, match="array"):
        call_command("load_market_snapshot", "--region", "10000002", str(bad))
    with pytest.raises(CommandError, match="does not exist"):
        call_command("load_market_snapshot", "--region", "10000002", str(tmp_path / "missing.json"))


def test_best_prices_for_contracts(synthetic_universe: SyntheticUniverse) -> None:
    """market_station_best_prices gives the highest buy and lowest sell per type at the station."""
    orders = _book(REGION_1, 80, seed=5)
    market_snapshot_store(region_id=REGION_1, orders=orders)
    prices = market_station_best_prices(station_id=STATION_A, region_id=REGION_1)
    for type_id in (TYPE_PACKAGED, TYPE_PLAIN, TYPE_UNKNOWN):
        here = [o for o in orders if o["location_id"] == STATION_A and o["type_id"] == type_id]
        buys = [o["price"] for o in here if o["is_buy_order"]]
        sells = [o["price"] for o in here if not o["is_buy_order"]]
        if not here:
            assert type_id not in prices
            continue
        assert prices[type_id].highest_buy == (max(buys) if buys else None)
        assert prices[type_id].lowest_sell == (min(sells) if sells else None)
    only = market_station_best_prices(station_id=STATION_A, region_id=REGION_1, type_ids=[TYPE_PLAIN])
    assert set(only) <= {TYPE_PLAIN}


# --------------------------------------------------------------------------- endpoints
def _run_queued_job(response: Any) -> dict[str, Any]:
    """Run the refresh job a 202 (or a stale 200) points at, as a worker would, and return it.

    Args:
        response: A scan answer.

    Returns:
        The job's API answer after the run.
    """
    body = response.json()
    job = body["job"] if "job" in body else body["snapshot"]["job"]
    market_refresh_region_task(job["id"])
    answer = APIClient().get(f"/api/jobs/{job['id']}/")
    assert answer.status_code == 200
    return answer.json()


def test_region_scan_walks_every_page_and_stores_the_snapshot(
    synthetic_universe: SyntheticUniverse, esi_server: FakeHttpServer
) -> None:
    """The first scan queues a job (202, no ESI call); the job walks both pages; the next scan ranks the rows."""
    orders = _book(REGION_1, 120, seed=6)
    _serve_pages(esi_server, ORDERS_PATH, orders)
    pending = APIClient().get(f"/api/market/regions/{REGION_1}/scan/", {"sales_tax": 3.6, "limit": 7})
    assert pending.status_code == 202, pending.content
    job_id = pending.json()["job"]["id"]
    assert pending["Location"] == f"/api/jobs/{job_id}/"
    assert int(pending["Retry-After"]) >= 1
    assert pending.json()["job"]["state"] == "queued"
    assert esi_server.count() == 0
    job = _run_queued_job(pending)
    assert job["state"] == "done"
    assert job["progress"] == {"done": 2, "total": 2, "unit": "pages"}
    response = APIClient().get(f"/api/market/regions/{REGION_1}/scan/", {"sales_tax": 3.6, "limit": 7})
    assert response.status_code == 200, response.content
    body = response.json()
    pages = esi_server.matching("GET", ORDERS_PATH)
    assert sorted(r.query["page"][0] for r in pages[:2]) == ["1", "2"]
    assert pages[1].received_at - pages[0].received_at >= 0.05 * 0.9
    expected = reference_hauling(orders, sales_tax=3.6, universe=UNIVERSE, filters={}, limit=7)
    assert expected, "the book should hold profitable hauls"
    assert _rows(body) == _keys(expected)
    assert body["results"][0]["profit_pct"] == pytest.approx(expected[0]["profit_pct"], rel=1e-9)
    assert body["snapshots"][0]["order_count"] == 120
    assert body["snapshots"][0]["last_modified"].startswith("2026-11-28T22:55:00")
    assert body["snapshot"]["stale"] is False
    assert body["snapshot"]["job"] is None
    assert 0 <= body["snapshot"]["age_seconds"] < 60
    stored = MarketSnapshot.objects.get(region_id=REGION_1)
    assert stored.order_count == 120
    # Fresh for 30 minutes: a second scan does not call ESI again.
    before = esi_server.count()
    again = APIClient().get(f"/api/market/regions/{REGION_1}/scan/", {"sales_tax": 3.6, "limit": 7})
    assert again.status_code == 200
    assert esi_server.count() == before
    assert _rows(again.json()) == _rows(body)


def test_region_scan_defaults_and_filters(synthetic_universe: SyntheticUniverse) -> None:
    """Defaults: top 50 with the site's 8 % / 3 %; filters are applied like the reference's."""
    orders = _book(REGION_1, 300, seed=7)
    market_snapshot_store(region_id=REGION_1, orders=orders)
    body = APIClient().get(f"/api/market/regions/{REGION_1}/scan/").json()
    assert body["sales_tax"] == 8.0
    assert body["broker_fee"] == 3.0
    expected = reference_hauling(orders, sales_tax=8.0, universe=UNIVERSE, filters={}, limit=50)
    assert _rows(body) == _keys(expected)
    filters = {"min_security": 0.5, "min_units": 20, "max_volume_m3": 100000.0}
    filtered = APIClient().get(f"/api/market/regions/{REGION_1}/scan/", filters).json()
    expected = reference_hauling(orders, sales_tax=8.0, universe=UNIVERSE, filters=filters, limit=50)
    assert _rows(filtered) == _keys(expected)
    assert all(r["from_security"] >= 0.5 and r["to_security"] >= 0.5 for r in filtered["results"])
    row = filtered["results"][0]
    assert row["type_name"].startswith("Synth Type")
    assert row["from_station_name"].startswith("Synth Station")
    assert row["from_system_name"].startswith("Synth System")
    bad = APIClient().get(f"/api/market/regions/{REGION_1}/scan/", {"limit": 0, "sales_tax": -1})
    assert bad.status_code == 400


def test_global_scan_never_calls_esi(synthetic_universe: SyntheticUniverse, esi_server: FakeHttpServer) -> None:
    """The global scan reads stored snapshots only: zero requests reach the fake ESI."""
    orders_1, orders_2 = _book(REGION_1, 100, seed=8), _book(REGION_2, 40, seed=9)
    market_snapshot_store(region_id=REGION_1, orders=orders_1)
    market_snapshot_store(region_id=REGION_2, orders=orders_2)
    get_redis_connection("default").flushdb()  # even with the Redis copy gone
    response = APIClient().get("/api/market/global/scan/", {"sales_tax": 2.25})
    assert response.status_code == 200, response.content
    assert esi_server.count() == 0
    body = response.json()
    expected = reference_hauling(orders_1 + orders_2, sales_tax=2.25, universe=UNIVERSE, filters={}, limit=50)
    assert len(body["results"]) == min(50, len(expected)) > 0
    assert _rows(body) == _keys(expected)
    assert {s["region_id"] for s in body["snapshots"]} == {REGION_1, REGION_2}
    cross = [r for r in body["results"] if (r["from_station_id"] == STATION_D) != (r["to_station_id"] == STATION_D)]
    assert cross == [r for r in body["results"] if STATION_D in (r["from_station_id"], r["to_station_id"])]


def test_station_scan_top_30_cached_30_minutes(
    synthetic_universe: SyntheticUniverse, esi_server: FakeHttpServer
) -> None:
    """The station scan reads its region's snapshot for 30 minutes; a stale one answers and queues a refresh."""
    orders = _book(REGION_1, 400, seed=10)
    _serve_pages(esi_server, ORDERS_PATH, orders)
    pending = APIClient().get(f"/api/market/stations/{STATION_A}/scan/", {"sales_tax": 1, "broker_fee": 0})
    assert pending.status_code == 202, pending.content
    assert _run_queued_job(pending)["state"] == "done"
    response = APIClient().get(f"/api/market/stations/{STATION_A}/scan/", {"sales_tax": 1, "broker_fee": 0})
    assert response.status_code == 200, response.content
    body = response.json()
    expected = reference_station(
        orders, station_id=STATION_A, sales_tax=1.0, broker_fee=0.0, universe=UNIVERSE, filters={}, limit=30
    )
    assert expected
    assert _rows(body) == _keys(expected)
    assert body["kind"] == "station"
    assert body["scope"] == f"station:{STATION_A}"
    calls = esi_server.count()
    assert calls == 2
    assert APIClient().get(f"/api/market/stations/{STATION_B}/scan/").status_code == 200
    assert esi_server.count() == calls
    # After the 30 minutes the scan still answers from the stale snapshot and queues one refresh job.
    MarketSnapshot.objects.filter(region_id=REGION_1).update(fetched_at=timezone.now() - timedelta(minutes=31))
    stale = APIClient().get(f"/api/market/stations/{STATION_C}/scan/")
    assert stale.status_code == 200
    assert stale.json()["snapshot"]["stale"] is True
    assert stale.json()["snapshot"]["age_seconds"] > 1800
    job = stale.json()["snapshot"]["job"]
    assert job["state"] == "queued"
    assert APIClient().get(f"/api/market/stations/{STATION_A}/scan/").json()["snapshot"]["job"]["id"] == job["id"]
    assert esi_server.count() == calls
    refreshed = _run_queued_job(stale)
    assert refreshed["state"] == "done"
    assert esi_server.count() == calls  # ESI's pages have not expired yet: the client's cache answered
    assert APIClient().get(f"/api/market/stations/{STATION_C}/scan/").json()["snapshot"]["stale"] is False


def test_station_scan_unknown_station_and_anonymous_current(synthetic_universe: SyntheticUniverse) -> None:
    """An unknown station (id or name) answers 404; ``current`` without a login answers 401; junk answers 400."""
    assert APIClient().get("/api/market/stations/69999999/scan/").status_code == 404
    assert APIClient().get(f"/api/market/stations/{STRUCTURE_X}/scan/").status_code == 401  # a structure: log in
    assert APIClient().get("/api/market/stations/99999999999999999999999/scan/").status_code == 400
    response = APIClient().get("/api/market/stations/current/scan/")
    assert response.status_code == 401
    assert response.json()["error"] == "sso_login_required"
    named = APIClient().get("/api/market/stations/jita/scan/")  # a name, but no station's
    assert named.status_code == 404
    assert named.json()["unknown"][0]["field"] == "station_id"


def test_station_scan_current_uses_the_character_location(
    synthetic_universe: SyntheticUniverse, esi_server: FakeHttpServer, settings: Any
) -> None:
    """``current`` reads the character's station through ESI with the character's token."""
    user = pilot_login(settings=settings, username="pilot", character_id=2112000001, access_token="access-token-abc")
    esi_server.add(
        "GET",
        "/characters/2112000001/location",
        FakeResponse(json={"solar_system_id": LOCATIONS[STATION_C][0], "station_id": STATION_C}),
    )
    orders = _book(REGION_1, 200, seed=11)
    _serve_pages(esi_server, ORDERS_PATH, orders)
    client = APIClient()
    client.force_login(user)
    pending = client.get("/api/market/stations/current/scan/")
    assert pending.status_code == 202, pending.content
    assert _run_queued_job(pending)["state"] == "done"
    response = client.get("/api/market/stations/current/scan/")
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == f"station:{STATION_C}"
    location_call = esi_server.matching("GET", "/characters/2112000001/location")[0]
    assert location_call.headers.get("Authorization") == "Bearer access-token-abc"


def test_user_settings_are_the_default_rates(synthetic_universe: SyntheticUniverse) -> None:
    """A logged-in user's saved sales tax and broker fee are the defaults; explicit parameters win."""
    user = get_user_model().objects.create_user(username="trader")
    UserSettings.objects.create(user=user, sales_tax=3.37, broker_fee=1.0, avoid=[])
    market_snapshot_store(region_id=REGION_1, orders=_book(REGION_1, 50, seed=12))
    client = APIClient()
    client.force_login(user)
    body = client.get("/api/market/global/scan/").json()
    assert (body["sales_tax"], body["broker_fee"]) == (3.37, 1.0)
    body = client.get("/api/market/global/scan/", {"sales_tax": 5}).json()
    assert (body["sales_tax"], body["broker_fee"]) == (5.0, 1.0)


def test_profit_breakdown_matches_the_scan(synthetic_universe: SyntheticUniverse) -> None:
    """POST /market/profit/ explains a scan row with the same numbers, and explains non-trades too."""
    orders = _book(REGION_1, 200, seed=13)
    market_snapshot_store(region_id=REGION_1, orders=orders)
    row = market_hauling_scan(query=TradeQuery(sales_tax=8, broker_fee=3, limit=1), region_id=REGION_1)[0]
    payload = {
        "buy_station_id": row.from_station_id,
        "sell_station_id": row.to_station_id,
        "type_id": row.type_id,
        "sales_tax": 8,
        "broker_fee": 3,
    }
    response = APIClient().post("/api/market/profit/", payload, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["kind"] == "hauling"
    assert body["profitable"] is True
    for name in ("bid", "ask", "units", "profit_per_unit", "total_profit", "profit_pct", "depth_units", "depth_profit"):
        assert body[name] == pytest.approx(getattr(row, name), rel=1e-9), name
    assert body["ask_order"]["order_id"] == row.ask_order_id
    assert body["bid_order"]["order_id"] == row.bid_order_id
    assert body["sales_tax_per_unit"] == pytest.approx(row.bid * 0.08)
    assert body["revenue_per_unit"] - body["sales_tax_per_unit"] - body["cost_per_unit"] == pytest.approx(
        row.profit_per_unit
    )
    assert body["buy_station"]["station_name"] == f"Synth Station {row.from_station_id}"
    assert body["passes_filters"] is None
    kept = APIClient().post("/api/market/profit/", {**payload, "min_units": row.units}, format="json").json()
    assert kept["passes_filters"] is True
    dropped = APIClient().post("/api/market/profit/", {**payload, "min_units": row.units + 1}, format="json").json()
    assert dropped["passes_filters"] is False
    assert dropped["profitable"] is True
    reverse = {**payload, "buy_station_id": row.to_station_id, "sell_station_id": row.from_station_id}
    back = APIClient().post("/api/market/profit/", reverse, format="json").json()
    assert back["profitable"] is False
    assert back["depth_units"] == 0
    station = (
        APIClient()
        .post("/api/market/profit/", {**payload, "sell_station_id": row.from_station_id}, format="json")
        .json()
    )
    assert station["kind"] == "station"
    missing = APIClient().post("/api/market/profit/", {**payload, "type_id": 34}, format="json").json()
    assert missing["profitable"] is False
    assert "no sell order" in missing["reason"]
    assert APIClient().post("/api/market/profit/", {"type_id": 34}, format="json").status_code == 400


def test_scans_are_expensive_and_the_profit_breakdown_is_not(
    synthetic_universe: SyntheticUniverse, settings: Any
) -> None:
    """Per action: every scan needs a site-wide slot and counts against the expensive rate; profit does neither."""
    scans = [
        f"/api/market/stations/{STATION_A}/scan/",
        f"/api/market/regions/{REGION_1}/scan/",
        "/api/market/global/scan/",
    ]
    settings.API_EXPENSIVE_CONCURRENCY = 1
    held = expensive_slot_acquire()
    assert held is not None
    client = APIClient(REMOTE_ADDR="10.0.0.21")
    for url in scans:
        refused = client.get(url)
        assert refused.status_code == 429, url
        assert refused.json()["error"] == "busy"
    assert client.post("/api/market/profit/", {"type_id": 34}, format="json").status_code == 400
    expensive_slot_release(token=held)
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "100/min", "expensive": "1/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    for address, url in zip(("10.0.0.22", "10.0.0.23", "10.0.0.24"), scans, strict=True):
        client = APIClient(REMOTE_ADDR=address)
        assert client.get(url).status_code in {200, 202}, url
        throttled = client.get(url)
        assert throttled.status_code == 429, url
        assert throttled.json()["error"] == "throttled"
        for _ in range(3):
            assert client.post("/api/market/profit/", {"type_id": 34}, format="json").status_code == 400


def test_openapi_documents_the_market_endpoints() -> None:
    """The schema lists the four endpoints with their parameters."""
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for path in (
        "/api/market/stations/{station_id}/scan/",
        "/api/market/regions/{region_id}/scan/",
        "/api/market/global/scan/",
        "/api/market/profit/",
    ):
        assert path in paths, path
    names = {p["name"] for p in paths["/api/market/global/scan/"]["get"]["parameters"]}
    assert {"sales_tax", "broker_fee", "min_profit", "min_security", "max_volume_m3", "limit"} <= names


# --------------------------------------------------------------------------- Celery
def test_snapshot_task_walks_the_configured_regions(
    synthetic_universe: SyntheticUniverse, esi_server: FakeHttpServer, settings: Any
) -> None:
    """The periodic task snapshots every configured region (region delay between) and is idempotent."""
    settings.MARKET_SNAPSHOT_REGIONS = [REGION_1, REGION_2]
    settings.ESI_REGION_DELAY_SECONDS = 0.2
    _serve_pages(esi_server, ORDERS_PATH, _book(REGION_1, 30, seed=14))
    _serve_pages(esi_server, f"/markets/{REGION_2}/orders", _book(REGION_2, 10, seed=15), pages=1)
    first = market_snapshot_regions_task()
    second = market_snapshot_regions_task()
    assert len(first) == len(second) == 2
    assert MarketSnapshot.objects.filter(region_id__in=[REGION_1, REGION_2]).count() == 2
    assert set(MarketSnapshot.objects.values_list("pk", flat=True)) >= set(second)
    region_2_first = esi_server.matching("GET", f"/markets/{REGION_2}/orders")[0].received_at
    region_1_last = max(
        r.received_at for r in esi_server.matching("GET", ORDERS_PATH) if r.received_at < region_2_first
    )
    assert region_2_first - region_1_last >= 0.2 * 0.9

    assert CELERY_BEAT_SCHEDULE["market-snapshot-regions"]["task"] == "market.snapshot_regions"


def test_defaults_are_pinned() -> None:
    """The documented defaults of the market settings."""
    assert site.MARKET_DEFAULT_SALES_TAX == 8.0
    assert site.MARKET_DEFAULT_BROKER_FEE == 3.0
    assert site.MARKET_CACHE_SECONDS == 1800
    assert (site.MARKET_STATION_SCAN_LIMIT, site.MARKET_SCAN_LIMIT) == (30, 50)
    assert site.MARKET_SNAPSHOT_REGIONS == [10000002, 10000043, 10000032, 10000042, 10000030]
