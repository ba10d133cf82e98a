"""The scratch copies: a database made from the development one as template, a Redis database, and their seed.

Seeding runs as ``python -m bench.loadtest.scratch SPEC`` in a child whose environment points at
the copies (the parent's Django stays on the development database).
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REDIS_DB = int(os.environ.get("LOADTEST_REDIS_DB", "13"))
# The Forge and Domain, and their hubs (Jita IV - Moon 4 - Caldari Navy Assembly Plant, Amarr VIII - Emperor
# Family Academy): most orders sit there, as in EVE.
REGIONS = (10000002, 10000043)
HUBS = (60003760, 60008494)
STATIONS_PER_REGION = 40
TRADED_TYPES = 2000
# Minerals and a Rifter: the "hot" icons every client shows (cached before the run: hits).
HOT_TYPES = (34, 35, 36, 37, 38, 39, 40, 587)


@dataclass
class Target:
    """Where the scratch copies live."""

    admin: dict[str, Any] = field(default_factory=dict)  # psycopg connect() keywords (database ``postgres``)
    source_db: str = ""
    scratch_db: str = ""
    scratch_url: str = ""
    redis_url: str = ""


def target() -> Target:
    """Derive the scratch database and Redis URLs from the settings (Django must be set up).

    Returns:
        The target.
    """
    from django.conf import settings

    db = settings.DATABASES["default"]
    source_db = str(db["NAME"])
    scratch_db = f"{source_db}_loadtest"
    # Through the ``postgres`` database: a session on the template would stop CREATE DATABASE ... TEMPLATE.
    admin = {
        "host": db.get("HOST") or None,
        "port": int(db["PORT"]) if db.get("PORT") else None,
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    return Target(
        admin=admin,
        source_db=source_db,
        scratch_db=scratch_db,
        scratch_url=urlunsplit(urlsplit(settings.DATABASE_URL)._replace(path="/" + scratch_db)),
        redis_url=urlunsplit(urlsplit(settings.REDIS_URL)._replace(path=f"/{REDIS_DB}")),
    )


def database_create(target: Target) -> str | None:
    """Copy the development database into the scratch one (after dropping a leftover).

    Args:
        target: The databases.

    Returns:
        None when made, else why not (something is connected to the template).
    """
    import psycopg
    from psycopg import errors, sql

    if not database_drop(target):  # a leftover of an interrupted run
        return f"cannot drop the leftover {target.scratch_db}"
    statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
        sql.Identifier(target.scratch_db), sql.Identifier(target.source_db)
    )
    with psycopg.connect(**target.admin) as conn:
        for attempt in range(2):  # PostgreSQL itself waits 5 s for the template's sessions to leave
            try:
                conn.execute(statement)
                return None
            except errors.ObjectInUse:
                if attempt == 0:
                    time.sleep(1)
                    continue
                rows = conn.execute(
                    "SELECT coalesce(nullif(application_name, ''), '?'), count(*) FROM pg_stat_activity"
                    " WHERE datname = %s GROUP BY 1",
                    [target.source_db],
                ).fetchall()
                who = ", ".join(f"{name} x{count}" for name, count in rows) or "a session that just left"
                return (
                    f"cannot copy database {target.source_db!r}: something is connected to it ({who}); "
                    "stop `make run` (or whatever holds it) and run again"
                )
    return None


def database_drop(target: Target) -> bool:
    """Drop the scratch database, retrying for up to a minute.

    ``WITH (FORCE)`` refuses to end a backend of another role, such as an autovacuum worker that
    just started on the freshly written tables: then it waits and asks again.

    Args:
        target: The databases.

    Returns:
        True when it is gone.
    """
    import psycopg
    from psycopg import errors, sql

    statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target.scratch_db))
    deadline = time.monotonic() + 60
    while True:
        try:
            with psycopg.connect(**target.admin) as conn:
                conn.execute(statement)
            return True
        except (errors.InsufficientPrivilege, errors.ObjectInUse) as exc:
            if time.monotonic() > deadline:
                print(f"could not drop {target.scratch_db}: {exc}; drop it by hand")
                return False
            time.sleep(1)


def redis_flush(url: str) -> None:
    """Empty the scratch Redis database.

    Args:
        url: Its URL.
    """
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def _orders(
    rng: random.Random, region_id: int, hub: int, count: int, traded: list[int], base: dict[int, float], first_id: int
) -> list[dict[str, Any]]:
    """Make a region's synthetic orders (ESI's shape) at real stations, 40% at the hub."""
    from universe.models import Station

    stations = list(Station.objects.filter(region_id=region_id).order_by("id").values_list("id", "system_id"))
    if not stations:
        raise LookupError(f"no stations of region {region_id} in the SDE")
    hub_row = next((s for s in stations if s[0] == hub), stations[0])
    others = rng.sample([s for s in stations if s != hub_row], min(STATIONS_PER_REGION - 1, len(stations) - 1))
    issued = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    orders: list[dict[str, Any]] = []
    for n in range(count):
        station_id, system_id = hub_row if rng.random() < 0.4 else rng.choice(others)
        type_id = rng.choice(traded)
        is_buy = rng.random() < 0.45
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
    import django

    django.setup()
    from django_redis import get_redis_connection

    from market.services import market_snapshot_store
    from routing import graph
    from routing.cache import RISK_FRESH_KEY, WEIGHTS_OK_KEY
    from universe.models import ItemType

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
            orders = _orders(rng, region_id, hub, int(spec["orders"]), traded, base, next_id)
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
