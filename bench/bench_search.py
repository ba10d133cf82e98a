"""Benchmark: ``GET /api/universe/search/`` on the full SDE (target: p50 under 5 ms).

Queries are drawn from the real names (types, systems, stations, regions): whole names, prefixes of 2 to 8
characters and names with one letter dropped (fuzzy), each through the API in process (Django test client:
routing, validation, one SQL query, serialisation). When the SDE is not loaded, ``EVE_SHARED_DIR/eve-sde`` is
ingested first.

Run: ``.venv/bin/python bench/bench_search.py`` (``make bench`` runs every benchmark).
Environment: ``BENCH_SEARCH_QUERIES`` (600), ``BENCH_SEED`` (18).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from http import HTTPStatus
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evesite.settings.production")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402

from universe.models import ItemType, Region, SolarSystem, Station  # noqa: E402
from universe.selectors import sde_present  # noqa: E402
from universe.services import sde_ingest  # noqa: E402

QUERIES = int(os.environ.get("BENCH_SEARCH_QUERIES", "600"))
SEED = int(os.environ.get("BENCH_SEED", "18"))
TARGET_P50_MS = 5.0


def _queries(rng: random.Random) -> list[tuple[str, str]]:
    """(label, query) pairs: a third whole names, a third prefixes, a third one-letter typos."""
    names = [
        *ItemType.objects.filter(published=True).values_list("name", flat=True),
        *SolarSystem.objects.values_list("name", flat=True),
        *Station.objects.values_list("name", flat=True),
        *Region.objects.values_list("name", flat=True),
    ]
    picked = []
    for i in range(QUERIES):
        name = rng.choice(names)
        if i % 3 == 0:
            picked.append(("exact", name))
        elif i % 3 == 1:
            picked.append(("prefix", name[: rng.randint(2, 8)]))
        else:
            cut = rng.randrange(len(name))
            picked.append(("fuzzy", (name[:cut] + name[cut + 1 :])[:60] or name))
    return picked


def main() -> int:
    """Run the benchmark; exit status 1 when the target is missed."""
    if not sde_present():
        print(f"No SDE loaded: ingesting {settings.EVE_SHARED_DIR / 'eve-sde'} first")
        sde_ingest(source=Path(settings.EVE_SHARED_DIR) / "eve-sde")
    client = Client(HTTP_HOST="localhost")  # one of the default ALLOWED_HOSTS
    queries = _queries(random.Random(SEED))
    for _, q in queries[:30]:  # warm up connections and caches
        client.get("/api/universe/search/", {"q": q}, secure=True)
    timings: dict[str, list[float]] = {"exact": [], "prefix": [], "fuzzy": []}
    for label, q in queries:
        start = time.perf_counter()
        response = client.get("/api/universe/search/", {"q": q}, secure=True)
        timings[label].append((time.perf_counter() - start) * 1000)
        if response.status_code != HTTPStatus.OK:
            print(f"search {q!r} answered {response.status_code}: {response.content[:200]!r}")
            return 1
    every = sorted(t for values in timings.values() for t in values)
    p50 = statistics.median(every)
    p95 = every[int(len(every) * 0.95) - 1]
    for label, values in timings.items():
        print(f"  {label:6} p50 {statistics.median(values):6.2f} ms  max {max(values):6.2f} ms  ({len(values)})")
    print(f"search over the full SDE: p50 {p50:.2f} ms, p95 {p95:.2f} ms (target p50 < {TARGET_P50_MS:g} ms)")
    return 0 if p50 < TARGET_P50_MS else 1


if __name__ == "__main__":
    sys.exit(main())
