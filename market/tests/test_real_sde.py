"""Scans over the real SDE (../shared/eve-sde): station, system and type names, security and packaged volumes."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from market.services import market_snapshot_store
from market.testing import esi_order
from universe.models import ItemType, SolarSystem, Station

JITA_4_4, AMARR_8 = 60003760, 60008494
RIFTER, TRITANIUM = 587, 34


@pytest.mark.usefixtures("sde_universe")
def test_global_scan_names_volumes_and_security_from_the_real_sde() -> None:
    """Jita -> Amarr hauls carry the SDE's names, systems, security and packaged volume (Rifter: 2500 m3)."""
    jita, amarr = Station.objects.get(id=JITA_4_4), Station.objects.get(id=AMARR_8)
    assert jita.region_id != amarr.region_id
    market_snapshot_store(
        region_id=jita.region_id,
        orders=[
            esi_order(1, jita, RIFTER, buy=False, price=400_000.0, volume=7),
            esi_order(2, jita, TRITANIUM, buy=False, price=4.0, volume=1_000_000),
        ],
    )
    market_snapshot_store(
        region_id=amarr.region_id,
        orders=[
            esi_order(3, amarr, RIFTER, buy=True, price=500_000.0, volume=5),
            esi_order(4, amarr, TRITANIUM, buy=True, price=4.5, volume=200_000),
        ],
    )
    body = APIClient().get("/api/market/global/scan/", {"sales_tax": 8}).json()
    rows = {r["type_id"]: r for r in body["results"]}
    assert set(rows) == {RIFTER, TRITANIUM}
    rifter = rows[RIFTER]
    assert rifter["type_name"] == ItemType.objects.get(id=RIFTER).name == "Rifter"
    assert rifter["from_station_name"] == "Jita IV - Moon 4 - Caldari Navy Assembly Plant"
    assert rifter["to_station_name"] == amarr.name == "Amarr VIII - Emperor Family Academy"
    assert rifter["from_system_name"] == "Jita"
    assert rifter["to_system_name"] == "Amarr"
    assert rifter["from_security"] == SolarSystem.objects.get(name="Jita").security
    assert rifter["units"] == 5
    assert rifter["volume_m3"] == pytest.approx(5 * 2500.0)  # packaged, not the assembled 27289 m3
    tritanium = rows[TRITANIUM]
    assert tritanium["volume_m3"] == pytest.approx(200_000 * ItemType.objects.get(id=TRITANIUM).shipping_volume)
    assert tritanium["profit_pct"] == pytest.approx(100 * (4.5 * 0.92 - 4.0) / 4.0)
    highsec = APIClient().get("/api/market/global/scan/", {"sales_tax": 8, "min_security": 0.95}).json()
    assert highsec["results"] == []  # Jita is 0.9459...
