"""Benchmark: value 10,000 cached contracts holding 100,000 item lines against the Jita split (target < 2 s).

It creates synthetic contracts in the configured PostgreSQL database under ids
that cannot clash with real ones (contract ids from 9,000,000,000,000 up, a
negative region id, item record ids from 9,000,000,000,000,000 up), times
:func:`contracts.valuation.contracts_valuate` on them (one SELECT of the lines,
numpy valuation, one ``UPDATE ... FROM unnest``), checks a sample against a
plain-Python reference, times the first page of the list query, and deletes
everything it created (also when interrupted). Prices come from a generated
Jita order book through the same lookup signature as the market snapshots.

Run: ``.venv/bin/python bench/bench_contracts.py`` (``make bench`` runs every benchmark).
Environment: ``BENCH_CONTRACTS`` (10000), ``BENCH_CONTRACT_LINES`` (100000), ``BENCH_SEED`` (8).
"""

from __future__ import annotations

import itertools
import os
import random
import sys
import time
from collections.abc import Iterable, Mapping
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evesite.settings.production")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from contracts.models import Contract, ContractItem, ItemsStatus  # noqa: E402
from contracts.prices import BestPrices  # noqa: E402
from contracts.selectors import contract_list  # noqa: E402
from contracts.valuation import contracts_valuate  # noqa: E402

N_CONTRACTS = int(os.environ.get("BENCH_CONTRACTS", "10000"))
N_LINES = int(os.environ.get("BENCH_CONTRACT_LINES", "100000"))
SEED = int(os.environ.get("BENCH_SEED", "8"))
TARGET_SECONDS = 2.0
MAX_ERROR = 1e-9  # largest difference allowed against the reference
# A type's roll below these: priced on both sides, by a sell order only, by a buy order only (above: unpriced).
BOTH_PRICED_BELOW, SELL_ONLY_BELOW, BUY_ONLY_BELOW = 0.7, 0.8, 0.9
LEFT_OUT_SHARE = 0.1  # contract lines not included
COPY_SHARE = 0.05  # blueprint copies among the lines

BENCH_REGION = -8  # no real region has a negative id
CONTRACT_BASE = 9_000_000_000_000  # real contract ids are below 2**31
RECORD_BASE = 9_000_000_000_000_000
N_TYPES = 5000

_PRICES: dict[int, BestPrices] = {}


def bench_best_prices(
    *, station_id: int, region_id: int, type_ids: Iterable[int] | None = None
) -> Mapping[int, BestPrices]:
    """Price lookup with the market interface's signature over the generated order book.

    Args:
        station_id: The station (ignored: the book is Jita's).
        region_id: The region (ignored).
        type_ids: Only these types.

    Returns:
        Best prices by type id.
    """
    if type_ids is None:
        return dict(_PRICES)
    return {t: _PRICES[t] for t in type_ids if t in _PRICES}


def _cleanup() -> int:
    """Delete what the benchmark created (its items go with the contracts).

    Returns:
        How many contracts were deleted.
    """
    mine = Contract.objects.filter(region_id=BENCH_REGION, contract_id__gte=CONTRACT_BASE)
    count = mine.count()
    ContractItem.objects.filter(record_id__gte=RECORD_BASE, contract_id__gte=CONTRACT_BASE).delete()
    mine.delete()
    return count


def _generate(rng: random.Random) -> tuple[list[Contract], list[ContractItem]]:
    """Make the contracts, their lines and the Jita order book.

    Args:
        rng: The random source.

    Returns:
        (contracts, lines).
    """
    for type_id in range(1, N_TYPES + 1):
        roll = rng.random()
        mid = rng.uniform(1, 1e8)
        if roll < BOTH_PRICED_BELOW:
            _PRICES[type_id] = BestPrices(mid * 0.95, mid * 1.05)
        elif roll < SELL_ONLY_BELOW:
            _PRICES[type_id] = BestPrices(mid, None)
        elif roll < BUY_ONLY_BELOW:
            _PRICES[type_id] = BestPrices(None, mid)
    now = timezone.now()
    contracts = [
        Contract(
            contract_id=CONTRACT_BASE + i,
            region_id=BENCH_REGION,
            type="auction" if i % 5 == 0 else "item_exchange",
            issuer_id=1,
            issuer_corporation_id=1,
            date_issued=now,
            date_expired=now + timedelta(days=7),
            price=rng.uniform(1e5, 1e9),
            current_bid=rng.uniform(1e5, 1e9) if i % 10 == 0 else None,
            items_status=ItemsStatus.FETCHED,
            last_seen_at=now,
            start_location_id=60003760,
            end_location_id=60003760,
        )
        for i in range(N_CONTRACTS)
    ]
    lines = [
        ContractItem(
            record_id=RECORD_BASE + j,
            contract_id=CONTRACT_BASE + (j if j < N_CONTRACTS else rng.randrange(N_CONTRACTS)),
            type_id=rng.randint(1, N_TYPES),
            quantity=rng.randint(1, 1000),
            is_included=rng.random() > LEFT_OUT_SHARE,
            is_blueprint_copy=rng.random() < COPY_SHARE,
        )
        for j in range(N_LINES)
    ]
    return contracts, lines


def _reference(contract_id: int) -> float | None:
    """Profit of one contract computed line by line in plain Python from the rows.

    Args:
        contract_id: The contract.

    Returns:
        The profit.
    """
    contract = Contract.objects.get(contract_id=contract_id)
    value = 0.0
    for item in ContractItem.objects.filter(contract_id=contract_id):
        p = _PRICES.get(item.type_id)
        if item.is_blueprint_copy or p is None:
            continue
        if p.highest_buy is not None and p.lowest_sell is not None:
            split = (p.highest_buy + p.lowest_sell) / 2
        else:
            split = p.highest_buy if p.highest_buy is not None else p.lowest_sell  # type: ignore[assignment]
        value += (1 if item.is_included else -1) * item.quantity * float(split or 0)
    paid = contract.current_bid if contract.type == "auction" and contract.current_bid is not None else contract.price
    return value + contract.reward - paid


def main() -> int:
    """Run the benchmark and print its figures.

    Returns:
        The exit status (1 when the target is missed or a check fails).
    """
    rng = random.Random(SEED)
    left = _cleanup()
    if left:
        print(f"removed {left} contracts left by an interrupted run")
    started = time.perf_counter()
    contracts, lines = _generate(rng)
    try:
        Contract.objects.bulk_create(contracts, batch_size=5000)
        ContractItem.objects.bulk_create(lines, batch_size=10000)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE contracts_contract")
            cursor.execute("ANALYZE contracts_contractitem")
        print(f"setup: {N_CONTRACTS:,} contracts, {N_LINES:,} lines in {time.perf_counter() - started:.1f} s")

        timings = []
        for _ in range(3):
            t0 = time.perf_counter()
            valued = contracts_valuate(region_id=BENCH_REGION, price_lookup=bench_best_prices)
            timings.append(time.perf_counter() - t0)
        assert valued == N_CONTRACTS, valued
        best = min(timings)
        print(
            f"valuation of {valued:,} contracts / {N_LINES:,} lines: best {best:.3f} s, "
            f"runs {', '.join(f'{t:.3f}' for t in timings)} s (target: every run < {TARGET_SECONDS} s)"
        )

        t0 = time.perf_counter()
        page = list(contract_list(region_id=BENCH_REGION, contract_type="item_exchange", min_profit=0)[:50])
        print(f"list query (min_profit=0, -profit_pct, first 50 rows): {1000 * (time.perf_counter() - t0):.1f} ms")
        assert all((a.profit_pct or 0.0) >= (b.profit_pct or 0.0) for a, b in itertools.pairwise(page))

        worst = 0.0
        for contract_id in rng.sample(range(CONTRACT_BASE, CONTRACT_BASE + N_CONTRACTS), 50):
            stored = Contract.objects.get(contract_id=contract_id).profit
            expected = _reference(contract_id)
            assert stored is not None
            assert expected is not None
            worst = max(worst, abs(stored - expected) / max(1.0, abs(expected)))
        print(f"check against a line-by-line reference on 50 contracts: worst relative difference {worst:.2e}")
        ok = max(timings) < TARGET_SECONDS and worst < MAX_ERROR
    finally:
        removed = _cleanup()
        print(f"cleanup: removed {removed:,} benchmark contracts and their lines")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
