"""The market admin: read-only snapshots and orders, filtered by typed region, station and type ids."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from market.models import MarketHistory, MarketOrder, MarketSnapshot

pytestmark = pytest.mark.django_db

FORGE, DOMAIN = 10000002, 10000043
JITA_44, AMARR_8 = 60003760, 60008494
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "pw"))
    return client


@pytest.fixture
def orders() -> None:
    for region, station, base in ((FORGE, JITA_44, 1000), (DOMAIN, AMARR_8, 2000)):
        snapshot = MarketSnapshot.objects.create(region_id=region, fetched_at=NOW, order_count=4)
        MarketOrder.objects.bulk_create(
            MarketOrder(
                snapshot=snapshot,
                region_id=region,
                order_id=base + i,
                type_id=type_id,
                location_id=station,
                system_id=1,
                is_buy_order=buy,
                price=5.0 + i,
                volume_remain=10,
                volume_total=10,
                min_volume=1,
                range="region",
                issued=NOW,
                duration=90,
            )
            for i, (type_id, buy) in enumerate(((34, False), (34, True), (35, False), (35, True)))
        )


def _order_ids(html: str) -> set[int]:
    return {int(m) for m in re.findall(r'<th class="field-order_id"><a [^>]*>(\d+)</a>', html)}


def test_orders_filter_by_typed_ids_and_side(staff: Client, orders: None) -> None:
    url = "/admin/market/marketorder/"
    assert _order_ids(staff.get(url).content.decode()) == {1000, 1001, 1002, 1003, 2000, 2001, 2002, 2003}
    assert _order_ids(staff.get(url, {"region_id": FORGE}).content.decode()) == {1000, 1001, 1002, 1003}
    assert _order_ids(staff.get(url, {"station_id": AMARR_8, "type_id": 35}).content.decode()) == {2002, 2003}
    both = staff.get(url, {"type_id": "34", "is_buy_order__exact": "1"}).content.decode()
    assert _order_ids(both) == {1001, 2001}
    # The other filters ride along in each box's form; a value that is no id keeps nothing (never a 500).
    assert 'type="hidden" name="type_id" value="34"' in both
    assert _order_ids(staff.get(url, {"type_id": "tritanium"}).content.decode()) == set()


def test_pages_are_read_only(staff: Client, orders: None) -> None:
    order = MarketOrder.objects.first()
    assert order is not None
    page = staff.get(f"/admin/market/marketorder/{order.pk}/change/").content.decode()
    assert 'name="_save"' not in page
    assert staff.get("/admin/market/marketorder/add/").status_code == 403
    snapshots = staff.get("/admin/market/marketsnapshot/").content.decode()
    assert str(FORGE) in snapshots
    assert str(DOMAIN) in snapshots


def test_history_pages_filter_by_region_and_type(staff: Client) -> None:
    for region, volume in ((FORGE, 111), (DOMAIN, 222)):
        for type_id in (34, 35):
            MarketHistory.objects.create(
                region_id=region,
                type_id=type_id,
                date=NOW.date(),
                average=5.0,
                highest=6.0,
                lowest=4.0,
                order_count=3,
                volume=volume + type_id,
            )
    page = staff.get("/admin/market/markethistory/", {"region_id": str(DOMAIN), "type_id": "35"}).content.decode()
    volumes = set(re.findall(r'<td class="field-volume">(\d+)</td>', page))
    assert volumes == {"257"}
    assert staff.get("/admin/market/markethistorytype/").status_code == 200
