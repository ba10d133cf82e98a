"""Benchmark: storing one batch of market history into a region of The Forge's size, and joining daily volumes.

It fills, in the configured PostgreSQL database, a synthetic region (id 19,600,001, no SDE needed) with
``BENCH_HISTORY_TYPES`` (15,000) types x 90 days of history, then times :func:`market.history.market_history_store`
of one batch of 50 types (a) on a day whose latest date is already stored (only the batch's daily volumes are
computed) and (b) with a new latest date (every type's window moves: all 15,000 volumes recomputed, once a day),
and (c) the scan-side join (:func:`market.sql.daily_volume_join`) of 15,000 rows.
Everything it created is deleted afterwards.

Run: ``.venv/bin/python bench/bench_history.py``. Environment: ``BENCH_HISTORY_TYPES`` (15000), ``BENCH_HISTORY_RUNS``
(5).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evesite.settings.production")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from market.history import EsiHistoryDay, FetchedSeries, market_history_store  # noqa: E402
from market.history_models import MarketHistory, MarketHistoryType  # noqa: E402
from market.sql import daily_volume_join  # noqa: E402

REGION = 19_600_001
N_TYPES = int(os.environ.get("BENCH_HISTORY_TYPES", "15000"))
RUNS = int(os.environ.get("BENCH_HISTORY_RUNS", "5"))
TYPE_BASE = 960_000_001
DAYS = 90
BATCH = 50


def _series(type_id: int, end: datetime, days: int = DAYS) -> FetchedSeries:
    """A full series ending at ``end``'s date."""
    items = [
        EsiHistoryDay(
            date=end.date() - timedelta(days=back),
            average=100.0,
            highest=110.0,
            lowest=90.0,
            order_count=5,
            volume=(type_id * 7 + back) % 1000,
        )
        for back in range(days - 1, -1, -1)
    ]
    return FetchedSeries(type_id=type_id, days=items, expires_at=end + timedelta(days=1), url="bench")


def _clean() -> None:
    """Delete the benchmark's rows."""
    MarketHistory.objects.filter(region_id=REGION).delete()
    MarketHistoryType.objects.filter(region_id=REGION).delete()


def _time(fn: object) -> float:
    """Seconds one call takes."""
    started = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    """Fill, time, report, clean."""
    _clean()
    now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    try:
        started = time.perf_counter()
        for start in range(0, N_TYPES, 500):
            types = range(TYPE_BASE + start, TYPE_BASE + min(N_TYPES, start + 500))
            market_history_store(region_id=REGION, fetched=[_series(t, now) for t in types], now=now)
        print(f"filled {N_TYPES} types x {DAYS} days in {time.perf_counter() - started:.1f} s")
        same_day, new_day = [], []
        for run in range(RUNS):
            batch = range(TYPE_BASE + run * BATCH, TYPE_BASE + (run + 1) * BATCH)
            same_day.append(
                _time(lambda b=batch: market_history_store(region_id=REGION, fetched=[_series(t, now) for t in b]))
            )
            later = now + timedelta(days=run + 1)
            new_day.append(
                _time(
                    lambda b=batch, d=later: market_history_store(
                        region_id=REGION, fetched=[_series(t, d) for t in b], now=d
                    )
                )
            )
        join = daily_volume_join(region_column="x.region_id", type_column="x.type_id")
        sql = (
            "SELECT count(dv.avg_daily_volume), sum(dv.avg_daily_volume) FROM "  # noqa: S608 - fixed text
            f"(SELECT %s AS region_id, generate_series(%s, %s) AS type_id) x {join}"
        )
        reads = []
        for _ in range(RUNS):
            with connection.cursor() as cursor:
                reads.append(_time(lambda c=cursor: c.execute(sql, [REGION, TYPE_BASE, TYPE_BASE + N_TYPES - 1])))
                assert cursor.fetchone()[0] == N_TYPES
        print(f"store of {BATCH} types, same latest date: median {statistics.median(same_day) * 1000:.0f} ms")
        print(f"store of {BATCH} types, new latest date:  median {statistics.median(new_day) * 1000:.0f} ms")
        print(f"join of {N_TYPES} rows to their daily volume: median {statistics.median(reads) * 1000:.1f} ms")
        print(f"runs: {RUNS}; load: {os.getloadavg()}")
    finally:
        _clean()


if __name__ == "__main__":
    main()
