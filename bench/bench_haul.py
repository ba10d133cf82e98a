"""Benchmark of the route-aware global scan (issue 17): jumps, max_jumps and sort=profit_per_jump.

Generates the 1,000,000 orders of ``bench/bench_market.py`` (20,000 types, 200
stations, 5 regions), with the stations' 100 systems mapped onto 100 real
systems that have NPC stations (so the jump tables of the real graph route
them), loads them into the ``bench_market`` schema (the app's tables in
``public`` are never touched) and times, in the same run:

- the plain global scan, top 50 (no jumps): ``market.selectors.market_hauling_scan``;
- the routed global scan, top 50: secure routes, ``max_jumps``, ``sort=profit_per_jump``
  (``market.haul.market_haul_scan``, the graph state read included, as a request does).

Targets: the routed scan under 1 s and at most 1.5x the plain one. It needs the SDE in PostgreSQL and the
graph in Neo4j (``manage.py ingest_data``); the secure jump table is built first when it does not match.

Run: ``.venv/bin/python bench/bench_haul.py [--orders N] [--runs R] [--max-jumps J]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evesite.settings.production")

from django.db import connection

from bench.bench_market import SCHEMA, SYSTEM_BASE, generate, load_postgres, summarise_postgres
from market.haul import HaulQuery, market_haul_scan
from market.selectors import TradeQuery, market_hauling_scan
from routing.jumps import jump_state_current
from routing.jumps_build import jump_tables_build
from routing.jumps_graph import weighted_graph_read
from universe.models import SolarSystem, Station

TARGET_RATIO = 1.5  # the routed scan's median over the plain one's


def real_systems(count: int) -> list[int]:
    """Pick ``count`` real systems with NPC stations, spread over the id range (reproducible).

    Args:
        count: How many.

    Returns:
        System ids.
    """
    systems = sorted(set(Station.objects.values_list("system_id", flat=True)))
    if len(systems) < count:
        raise SystemExit("The SDE is not loaded: run manage.py ingest_data first.")
    picks = np.linspace(0, len(systems) - 1, count).astype(int)
    return [systems[i] for i in picks]


def remap(data: dict[str, Any], systems: list[int]) -> None:
    """Put the generated stations' systems onto real systems (in place).

    Args:
        data: Generated data (bench_market.generate).
        systems: Real system ids, one per generated system.
    """
    table = np.asarray(systems, dtype=np.int64)
    data["system_id"] = table[data["system_id"] - SYSTEM_BASE]
    data["stations"]["system"] = table[data["stations"]["system"] - SYSTEM_BASE]
    security = dict(SolarSystem.objects.filter(id__in=systems).values_list("id", "security"))
    data["systems"] = {"id": table, "security": np.asarray([security[s] for s in systems])}


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, list[float], Any]:
    """Run once to warm up, then ``runs`` times.

    Args:
        fn: The work.
        runs: Timed runs.

    Returns:
        (median seconds, every run's seconds, last result).
    """
    result = fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def _arguments() -> argparse.Namespace:
    """The command line's options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--max-jumps", type=int, default=25)
    parser.add_argument("--keep", action="store_true", help="keep the bench schema")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept bench schema")
    return parser.parse_args()


def main() -> None:
    """Generate, load, build the table when needed, time both scans alternately, print, drop the schema."""
    args = _arguments()

    print(f"load average before: {os.getloadavg()}")
    systems = real_systems(100)
    data = generate(args.orders)
    remap(data, systems)
    started = time.perf_counter()
    reports = jump_tables_build(modes=("secure",), risks=(False,))
    built = [r for r in reports if r.built]
    print(f"secure jump table: {'built' if built else 'up to date'} in {time.perf_counter() - started:.1f} s")
    g = weighted_graph_read()
    print(f"graph: {len(g.ids)} systems, {len(g.gate_from)} gates")
    try:
        if not args.reuse:
            print(f"PostgreSQL load ({args.orders:,} orders into schema {SCHEMA}): {load_postgres(data):.1f} s")
            print(f"per-type summaries: {summarise_postgres():.2f} s")
        with connection.cursor() as cursor:
            cursor.execute(f"SET search_path TO {SCHEMA}, public")
        query = TradeQuery(sales_tax=8.0, broker_fee=3.0, limit=50)
        haul = HaulQuery(routed=True, route_mode="secure", max_jumps=args.max_jumps, sort="profit_per_jump")

        def plain() -> list[Any]:
            """The plain global scan."""
            return market_hauling_scan(query=query)

        def routed() -> Any:
            """The routed global scan, as a request runs it (graph state read included)."""
            return market_haul_scan(query=query, haul=haul, state=jump_state_current())

        # Alternate the two, so both see the same load.
        plain_times: list[float] = []
        routed_times: list[float] = []
        plain_rows, scan = plain(), routed()
        for _ in range(args.runs):
            plain_times += timed(plain, 1)[1]
            routed_times += timed(routed, 1)[1]
        p, r = statistics.median(plain_times), statistics.median(routed_times)
        view = scan.view
        print(f"routes: stored table {view.table_id}, on-the-fly trees {view.trees}, temp {view.temp}")
        print(f"{'case':<62} {'median s':>9} {'runs (s)':<40}")
        print(f"{'global scan top 50, no jumps':<62} {p:>9.3f} {', '.join(f'{t:.3f}' for t in plain_times)}")
        name = f"global scan top 50, secure jumps, max_jumps={args.max_jumps}, profit_per_jump"
        print(f"{name:<62} {r:>9.3f} {', '.join(f'{t:.3f}' for t in routed_times)}")
        print(
            f"ratio routed/plain {r / p:.2f} (target <= {TARGET_RATIO:g}: {'yes' if r / p <= TARGET_RATIO else 'NO'}); "
            f"routed < 1 s: {'yes' if r < 1.0 else 'NO'}; rows {len(plain_rows)} / {len(scan.rows)}"
        )
        top = scan.rows[0] if scan.rows else None
        if top is not None:
            print(
                f"best row: {top.type_id} {top.from_system_id}->{top.to_system_id} {top.jumps} jumps, "
                f"{top.profit_per_jump:,.0f} ISK/jump"
            )
        print(f"load average after: {os.getloadavg()}")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET search_path TO public")
            if not args.keep:
                cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


if __name__ == "__main__":
    main()
