"""Benchmark of the market scans: PostgreSQL (the app's own queries) against the same SQL in DuckDB.

Generates 1,000,000 orders over 20,000 types and 200 stations in 5 regions
(one region holds 300,000 orders, one station of it 100,000) with numpy, COPYs
them into a separate PostgreSQL schema ``bench_market`` (tables created LIKE the
app's, dropped afterwards: the user's data in ``public`` is never touched) and
into an in-memory DuckDB. Then it times, in the same run:

- global scan top 50 (hauling over every region's snapshot), target < 2 s;
- a 300,000-order region scan computation (top 50), target < 1 s;
- a station scan (top 30) at the 100,000-order hub, target < 200 ms;

through ``market.selectors`` (``search_path`` points at the bench schema) and
through :func:`market.sql.duckdb_sql` of the very same query text in DuckDB.
Prints seconds (median of the runs) and PostgreSQL/DuckDB ratios, and checks
that both engines return the same rows.

Run: ``make bench`` or ``.venv/bin/python bench/bench_market.py [--orders N] [--runs R]``.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evesite.settings.production")

import django

django.setup()

import duckdb  # noqa: E402
from django.db import connection  # noqa: E402

from market import sql  # noqa: E402
from market.selectors import TradeQuery, market_hauling_scan, market_station_scan  # noqa: E402
from market.services import ORDER_COPY_COLUMNS, SUMMARY_SQL  # noqa: E402

SCHEMA = "bench_market"
BUY_SHARE = 0.45  # buy orders among the orders
BLOCK_SHARE = 0.05  # orders with a min_volume above 1
PACKAGED_SHARE = 0.1  # types with a packaged volume
# Region ids outside CCP's ranges; they only ever exist inside the bench schema anyway.
REGIONS = [91000001, 91000002, 91000003, 91000004, 91000005]
STATION_BASE, SYSTEM_BASE, TYPE_BASE = 69800000, 39800000, 980000000
# Daily volumes for nine types in ten, the same in both engines (integer arithmetic).
HISTORY_SQL = """
INSERT INTO market_markethistorytype (region_id, type_id, fetched_at, expires_at, days, avg_daily_volume)
SELECT region_id, type_id, TIMESTAMP '2026-11-28 12:00:00', TIMESTAMP '2026-11-29 11:05:00', 30,
       ((CAST(type_id AS BIGINT) * 7919 + region_id) % 5000) / 10.0
FROM market_markettypesummary WHERE type_id % 10 <> 0
"""
TABLES = [
    "market_marketsnapshot",
    "market_marketorder",
    "market_markettypesummary",
    "market_markethistorytype",
    "universe_itemtype",
    "universe_solarsystem",
    "universe_station",
]
ORDER_COLUMNS = list(ORDER_COPY_COLUMNS)


def generate(n_orders: int, n_types: int = 20_000, n_stations: int = 200, seed: int = 42) -> dict[str, Any]:
    """Generate the order book and its small universe with numpy.

    Stations 0-39 are region 1 (300,000 orders, 100,000 of them at station 0, the hub),
    the 160 others share the remaining orders over regions 2-5. Prices: a log-uniform
    base per type, a price level per station (normal around 1, sd 5 %), buys at
    base*level*U(0.80, 1.00) and sells at base*level*U(1.00, 1.20).

    Args:
        n_orders: Orders in all.
        n_types: Types.
        n_stations: Stations.
        seed: Random seed.

    Returns:
        Column arrays of the orders, stations, systems and types.
    """
    rng = np.random.default_rng(seed)
    per_region = n_stations // len(REGIONS)
    n_region_1 = int(n_orders * 0.3)
    n_hub = int(n_orders * 0.1)
    hub = np.zeros(n_hub, dtype=np.int64)
    rest_r1 = rng.integers(1, per_region, n_region_1 - n_hub)
    others = rng.integers(per_region, n_stations, n_orders - n_region_1)
    station_idx = np.concatenate([hub, rest_r1, others])
    station_region = np.repeat(np.arange(len(REGIONS)), per_region)
    station_system = np.arange(n_stations) // 2  # two stations per system
    n_systems = n_stations // 2
    system_security = np.round(rng.uniform(-0.2, 1.0, n_systems), 3)
    level = rng.normal(1.0, 0.05, n_stations)
    base = np.exp(rng.uniform(np.log(1.0), np.log(1e7), n_types))
    type_idx = rng.integers(0, n_types, n_orders)
    is_buy = rng.random(n_orders) < BUY_SHARE
    factor = np.where(is_buy, rng.uniform(0.80, 1.00, n_orders), rng.uniform(1.00, 1.20, n_orders))
    price = np.maximum(np.round(base[type_idx] * level[station_idx] * factor, 2), 0.01)
    volume_remain = np.minimum(rng.geometric(0.002, n_orders), 1_000_000).astype(np.int64)
    min_volume = np.where(rng.random(n_orders) < BLOCK_SHARE, rng.integers(2, 50, n_orders), 1).astype(np.int64)
    volume = np.round(np.exp(rng.uniform(np.log(0.01), np.log(50_000.0), n_types)), 2)
    packaged = np.where(rng.random(n_types) < PACKAGED_SHARE, np.round(volume / 5, 2), np.nan)
    region_of_order = station_region[station_idx]
    return {
        "order_id": np.arange(1, n_orders + 1, dtype=np.int64) + 7_000_000_000,
        "snapshot_id": region_of_order + 1,
        "region_id": np.array(REGIONS, dtype=np.int64)[region_of_order],
        "type_id": type_idx + TYPE_BASE,
        "location_id": station_idx + STATION_BASE,
        "system_id": station_system[station_idx] + SYSTEM_BASE,
        "is_buy_order": is_buy,
        "price": price,
        "volume_remain": volume_remain,
        "volume_total": volume_remain + 10,
        "min_volume": min_volume,
        "duration": np.full(n_orders, 90, dtype=np.int64),
        "stations": {"id": np.arange(n_stations) + STATION_BASE, "system": station_system + SYSTEM_BASE},
        "systems": {"id": np.arange(n_systems) + SYSTEM_BASE, "security": system_security},
        "types": {"id": np.arange(n_types) + TYPE_BASE, "volume": volume, "packaged": packaged},
        "hub_station": STATION_BASE,
    }


def _tsv(columns: list[np.ndarray]) -> str:
    """Join column arrays into COPY text.

    Args:
        columns: Equal-length arrays, already strings.

    Returns:
        Tab-separated lines.
    """
    return "\n".join("\t".join(row) for row in zip(*columns, strict=True)) + "\n"


def load_postgres(data: dict[str, Any]) -> float:
    """Create the bench schema LIKE the app's tables and COPY the data in.

    Args:
        data: Generated data.

    Returns:
        Seconds spent.
    """
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        cursor.execute(f"CREATE SCHEMA {SCHEMA}")
        for table in TABLES:
            cursor.execute(f"CREATE TABLE {SCHEMA}.{table} (LIKE public.{table} INCLUDING ALL)")
        raw = cursor.cursor
        with raw.copy(f"COPY {SCHEMA}.market_marketsnapshot (id, region_id, fetched_at, order_count) FROM STDIN") as cp:
            for i, region in enumerate(REGIONS):
                cp.write_row((i + 1, region, "2026-11-28T23:00:00Z", int((data["region_id"] == region).sum())))
        n = len(data["order_id"])
        cols = [
            data["snapshot_id"].astype(str),
            data["region_id"].astype(str),
            data["order_id"].astype(str),
            data["type_id"].astype(str),
            data["location_id"].astype(str),
            data["system_id"].astype(str),
            np.where(data["is_buy_order"], "t", "f"),
            data["price"].astype(str),
            data["volume_remain"].astype(str),
            data["volume_total"].astype(str),
            data["min_volume"].astype(str),
            np.full(n, "region"),
            np.full(n, "2026-11-28 12:00:00+00"),
            data["duration"].astype(str),
        ]
        text = _tsv(cols)
        with raw.copy(f"COPY {SCHEMA}.market_marketorder ({', '.join(ORDER_COLUMNS)}) FROM STDIN") as cp:
            buffer = io.StringIO(text)
            while chunk := buffer.read(8 << 20):
                cp.write(chunk)
        t, s, st = data["types"], data["systems"], data["stations"]
        with raw.copy(
            f"COPY {SCHEMA}.universe_itemtype (id, group_id, name, description, volume, packaged_volume, published) "
            "FROM STDIN"
        ) as cp:
            for tid, vol, pkg in zip(t["id"].tolist(), t["volume"].tolist(), t["packaged"].tolist(), strict=True):
                cp.write_row((tid, 1, f"Bench Type {tid}", "", vol, None if np.isnan(pkg) else pkg, True))
        with raw.copy(
            f"COPY {SCHEMA}.universe_solarsystem "
            "(id, name, region_id, constellation_id, security, security_class, x, y, z) FROM STDIN"
        ) as cp:
            for sid, sec in zip(s["id"].tolist(), s["security"].tolist(), strict=True):
                cp.write_row((sid, f"Bench System {sid}", REGIONS[0], 1, sec, "", 0, 0, 0))
        with raw.copy(
            f"COPY {SCHEMA}.universe_station (id, name, system_id, region_id, security, type_id, x, y, z) FROM STDIN"
        ) as cp:
            for sid, sys_id in zip(st["id"].tolist(), st["system"].tolist(), strict=True):
                cp.write_row((sid, f"Bench Station {sid}", sys_id, REGIONS[0], 0.5, 1, 0, 0, 0))
        for table in TABLES:
            cursor.execute(f"ANALYZE {SCHEMA}.{table}")
    return time.perf_counter() - start


def summarise_postgres() -> float:
    """Build the per-type summaries exactly as market_snapshot_store does after its COPY.

    Returns:
        Seconds spent (all five regions).
    """
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"SET search_path TO {SCHEMA}, public")
        cursor.execute("SET jit = off")  # as market_snapshot_store does
        for i, region in enumerate(REGIONS):
            cursor.execute(SUMMARY_SQL, {"snapshot_id": i + 1, "region_id": region})
        cursor.execute(f"ANALYZE {SCHEMA}.market_markettypesummary")
        cursor.execute(HISTORY_SQL)
        cursor.execute(f"ANALYZE {SCHEMA}.market_markethistorytype")
        cursor.execute("RESET jit")
        cursor.execute("SET search_path TO public")
    return time.perf_counter() - start


def load_duckdb(data: dict[str, Any]) -> tuple[duckdb.DuckDBPyConnection, float]:
    """Create the same tables in an in-memory DuckDB.

    Args:
        data: Generated data.

    Returns:
        (connection, seconds spent).
    """
    start = time.perf_counter()
    con = duckdb.connect()
    orders = {c: data[c] for c in ORDER_COLUMNS if c not in ("range", "issued")}
    con.register("orders_np", orders)
    con.execute("CREATE TABLE market_marketorder AS SELECT * FROM orders_np")
    snaps = {
        "id": np.arange(1, len(REGIONS) + 1, dtype=np.int64),
        "region_id": np.array(REGIONS, dtype=np.int64),
        "fetched_at": np.full(len(REGIONS), np.datetime64("2026-11-28T23:00:00")),
    }
    con.register("snaps_np", snaps)
    con.execute("CREATE TABLE market_marketsnapshot AS SELECT * FROM snaps_np")
    t, s, st = data["types"], data["systems"], data["stations"]
    con.register(
        "types_np",
        {"id": t["id"], "volume": t["volume"], "packaged_volume": t["packaged"]},
    )
    con.execute(
        "CREATE TABLE universe_itemtype AS SELECT id, 'Bench Type ' || id AS name, volume, "
        "CASE WHEN isnan(packaged_volume) THEN NULL ELSE packaged_volume END AS packaged_volume FROM types_np"
    )
    con.register("systems_np", {"id": s["id"], "security": s["security"]})
    con.execute(
        "CREATE TABLE universe_solarsystem AS SELECT id, 'Bench System ' || id AS name, security FROM systems_np"
    )
    con.register("stations_np", {"id": st["id"]})
    con.execute("CREATE TABLE universe_station AS SELECT id, 'Bench Station ' || id AS name FROM stations_np")
    con.execute(
        "CREATE TABLE market_markettypesummary "
        "(snapshot_id BIGINT, region_id BIGINT, type_id BIGINT, max_bid DOUBLE, min_ask DOUBLE)"
    )
    con.execute(
        "CREATE TABLE market_markethistorytype (region_id BIGINT, type_id BIGINT, fetched_at TIMESTAMP, "
        "expires_at TIMESTAMP, days INTEGER, avg_daily_volume DOUBLE)"
    )
    for i, region in enumerate(REGIONS):
        con.execute(sql.duckdb_sql(SUMMARY_SQL), {"snapshot_id": i + 1, "region_id": region})
    con.execute(HISTORY_SQL)
    return con, time.perf_counter() - start


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Run once to warm up, then ``runs`` times.

    Args:
        fn: The work.
        runs: Timed runs.

    Returns:
        (median seconds, last result).
    """
    result = fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    """Generate, load, time both engines side by side, print figures, drop the bench schema."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="Keep the bench schema (for EXPLAIN); --reuse it later.")
    parser.add_argument("--reuse", action="store_true", help="Reuse a kept bench schema instead of loading again.")
    args = parser.parse_args()

    start = time.perf_counter()
    data = generate(args.orders)
    print(
        f"generated {args.orders:,} orders over 20,000 types / 200 stations / 5 regions "
        f"in {time.perf_counter() - start:.1f} s"
    )
    print(
        f"  region {REGIONS[0]}: {(data['region_id'] == REGIONS[0]).sum():,} orders; "
        f"hub station {data['hub_station']}: {(data['location_id'] == data['hub_station']).sum():,} orders"
    )
    try:
        if not args.reuse:
            print(f"PostgreSQL load (COPY into schema {SCHEMA}, ANALYZE): {load_postgres(data):.1f} s")
            print(f"PostgreSQL per-type summaries (done by market_snapshot_store): {summarise_postgres():.2f} s")
        duck, seconds = load_duckdb(data)
        print(f"DuckDB load (in memory, summaries included): {seconds:.1f} s")
        query = TradeQuery(sales_tax=8.0, broker_fee=3.0, limit=50)
        station_query = TradeQuery(sales_tax=8.0, broker_fee=3.0, limit=30)
        hub = int(data["hub_station"])
        cases: list[tuple[str, float, Callable[[], Any], str, dict[str, Any]]] = [
            (
                "global scan top 50",
                2.0,
                lambda: market_hauling_scan(query=query),
                sql.trade_sql(kind="hauling", region_scoped=False),
                query.params(),
            ),
            (
                f"region scan top 50 ({(data['region_id'] == REGIONS[0]).sum():,} orders)",
                1.0,
                lambda: market_hauling_scan(query=query, region_id=REGIONS[0]),
                sql.trade_sql(kind="hauling", region_scoped=True),
                {**query.params(), "region_id": REGIONS[0]},
            ),
            (
                f"station scan top 30 ({(data['location_id'] == hub).sum():,} orders)",
                0.2,
                lambda: market_station_scan(query=station_query, station_id=hub, region_id=REGIONS[0]),
                sql.trade_sql(kind="station", region_scoped=True),
                {**station_query.params(), "region_id": REGIONS[0], "station_id": hub},
            ),
        ]
        with connection.cursor() as cursor:
            cursor.execute(f"SET search_path TO {SCHEMA}, public")
        print(f"{'case':<44} {'PostgreSQL s':>13} {'DuckDB s':>10} {'PG/DuckDB':>10} {'target s':>9}  ok  same rows")
        for name, target, pg_fn, text, params in cases:
            pg_seconds, pg_rows = timed(pg_fn, args.runs)
            duck_text = sql.duckdb_sql(text)
            used = set(re.findall(r"\$(\w+)", duck_text))
            duck_params = {k: v for k, v in params.items() if k in used}  # DuckDB refuses unused parameters

            def duck_run(text: str = duck_text, values: dict[str, Any] = duck_params) -> list[Any]:
                """Run the query in DuckDB."""
                return duck.execute(text, values).fetchall()

            duck_seconds, duck_rows = timed(duck_run, args.runs)
            same = [(r.type_id, r.from_station_id, r.to_station_id) for r in pg_rows] == [
                (r[1], r[3], r[8]) for r in duck_rows
            ]
            print(
                f"{name:<44} {pg_seconds:>13.3f} {duck_seconds:>10.3f} {pg_seconds / duck_seconds:>10.2f} "
                f"{target:>9.2f}  {'yes' if pg_seconds < target else 'NO ':<3} {same} ({len(pg_rows)} rows)"
            )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET search_path TO public")
            if not args.keep:
                cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        print(f"schema {SCHEMA} {'kept' if args.keep else 'dropped'}")


if __name__ == "__main__":
    main()
