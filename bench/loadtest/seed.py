"""Seed the scratch copies (:mod:`bench.loadtest.scratch`): a snapshot per region and routing's Redis keys.

Runs as ``python -m bench.loadtest.seed SPEC`` in a child whose environment points at the copies; it sets
Django up on import, so nothing else imports it.
"""

from __future__ import annotations

import json
import math
import random
import sys
from datetime import UTC, datetime
from typing import Any

import django

django.setup()

from django_redis import get_redis_connection  # noqa: E402

from bench.loadtest.scratch import HOT_TYPES, HUBS, REGIONS, STATIONS_PER_REGION, TRADED_TYPES  # noqa: E402
from market.services import market_snapshot_store  # noqa: E402
from routing import graph  # noqa: E402
from routing.cache import RISK_FRESH_KEY, WEIGHTS_OK_KEY  # noqa: E402
from universe.models import ItemType, Station  # noqa: E402

HUB_SHARE = 0.4  # orders at the region's hub
BUY_SHARE = 0.45  # buy orders


def _orders(
    rng: random.Random,
    region_id: int,
    hub: int,
    *,
    count: int,
    traded: list[int],
    base: dict[int, float],
    first_id: int,
) -> list[dict[str, Any]]:
    """Make a region's synthetic orders (ESI's shape) at real stations, 40% at the hub."""
    stations = list(Station.objects.filter(region_id=region_id).order_by("id").values_list("id", "system_id"))
    if not stations:
        raise LookupError(f"no stations of region {region_id} in the SDE")
    hub_row = next((s for s in stations if s[0] == hub), stations[0])
    others = rng.sample([s for s in stations if s != hub_row], min(STATIONS_PER_REGION - 1, len(stations) - 1))
    issued = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    orders: list[dict[str, Any]] = []
    for n in range(count):
        station_id, system_id = hub_row if rng.random() < HUB_SHARE else rng.choice(others)
        type_id = rng.choice(traded)
        is_buy = rng.random() < BUY_SHARE
        price = base[type_id] * (rng.uniform(0.6, 1.05) if is_buy else rng.uniform(0.9, 1.4))
        orders.append(
            {
                "duration": 90,
                "is_buy_order": is_buy,
                "issued": issued,
                "location_id": station_id,
                "min_volume": 1,
                "order_id": first_id + n,
                "price": round(price, 2),
                "range": "region" if is_buy else "station",
                "system_id": system_id,
                "type_id": type_id,
                "volume_remain": rng.randint(1, 5000),
                "volume_total": 5000,
            }
        )
    return orders


def seed(spec_json: str) -> int:
    """Seed the scratch database and Redis; print a JSON line of what was stored.

    Stores one snapshot per region of ``REGIONS`` with ``market_snapshot_store`` and sets routing's
    "weights checked" and "risk fresh" keys, so route queries only read the shared graph.

    Args:
        spec_json: ``{"orders": per region, "seed": int, "ttl": seconds, "new_types": how many}``.

    Returns:
        0, or 2 when the SDE lacks a region's stations.
    """
    spec = json.loads(spec_json)
    rng = random.Random(spec["seed"])
    redis = get_redis_connection("default")
    redis.flushdb()
    label = graph.graph_label()
    for key in (WEIGHTS_OK_KEY, RISK_FRESH_KEY):
        redis.set(key.format(label=label), "1", ex=int(spec["ttl"]))
    market_types = list(
        ItemType.objects.filter(published=True, market_group__isnull=False, volume__gt=0)
        .order_by("id")
        .values_list("id", flat=True)
    )
    traded = rng.sample(market_types, min(TRADED_TYPES, len(market_types)))
    base = {type_id: math.exp(rng.uniform(math.log(5), math.log(5e7))) for type_id in traded}
    stored: dict[int, int] = {}
    next_id = 6_000_000_001
    for region_id, hub in zip(REGIONS, HUBS, strict=True):
        try:
            orders = _orders(rng, region_id, hub, count=int(spec["orders"]), traded=traded, base=base, first_id=next_id)
        except LookupError as exc:
            print(exc, file=sys.stderr)
            return 2
        next_id += len(orders)
        snapshot = market_snapshot_store(region_id=region_id, orders=orders, last_modified=datetime.now(UTC))
        stored[region_id] = snapshot.order_count
    hot = [t for t in HOT_TYPES if ItemType.objects.filter(id=t).exists()]
    every = list(ItemType.objects.filter(published=True).exclude(id__in=hot).values_list("id", flat=True))
    new = rng.sample(every, min(int(spec["new_types"]), len(every)))
    print(json.dumps({"orders": stored, "hot_types": hot, "new_types": new}))
    return 0


if __name__ == "__main__":
    sys.exit(seed(sys.argv[1]))
