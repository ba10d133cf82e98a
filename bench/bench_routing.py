"""Benchmark: route queries through the API on the full universe vs a breadth-first search in Python (the floor).

It starts gunicorn (``evesite.wsgi``, 2 sync workers) on a free loopback port
and drives ``GET /api/routes/`` from a separate process with a bounded number
of concurrent clients: first one client (latency), then ``BENCH_ROUTING_CLIENTS``
clients (throughput). The same random known-space origin/destination pairs
(mostly ``shortest``, some ``secure``/``insecure``, a few with ``avoid``) are
then answered by a BFS over an in-memory adjacency list in this process. It
prints p50/p95 latency and requests/s side by side (target: API p50 < 30 ms),
with the selector alone (``route_find`` in this process, no HTTP) in between,
and checks that the API's shortest jump counts equal the BFS.

It only reads: the routes come from the gate graph already in Neo4j (when the
graph is empty it ingests ``EVE_SHARED_DIR/eve-sde`` first, as ``make run``
would ingest ``eve_data/``). Avoid queries delete gates only inside a Neo4j
transaction that is rolled back.

Run: ``.venv/bin/python bench/bench_routing.py`` (``make bench`` runs every benchmark).
Environment: ``BENCH_ROUTING_REQUESTS`` (400 per phase), ``BENCH_ROUTING_CLIENTS`` (4), ``BENCH_SEED`` (7).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evesite.testing.ports import free_port  # noqa: E402 - after the path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evesite.settings")

REQUESTS = int(os.environ.get("BENCH_ROUTING_REQUESTS", "400"))
CLIENTS = int(os.environ.get("BENCH_ROUTING_CLIENTS", "4"))
SEED = int(os.environ.get("BENCH_SEED", "7"))
WORKERS = 2
TARGET_P50_MS = 30.0
JITA = 30000142


def _load(base: str, queries: list[dict[str, str]], clients: int, out: Any) -> None:
    """Send the queries with ``clients`` concurrent clients (runs in its own process) and report latencies.

    Args:
        base: The server's base URL.
        queries: Query parameters of each request.
        clients: Concurrent clients.
        out: A queue receiving (latencies in seconds, wall seconds, failures, jump counts by query index).
    """
    import requests

    pending = deque(enumerate(queries))
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []
    jumps: dict[int, int] = {}

    def client() -> None:
        """One client: take the next query until none are left."""
        session = requests.Session()
        session.trust_env = False
        while True:
            with lock:
                if not pending:
                    return
                index, params = pending.popleft()
            start = time.perf_counter()
            response = session.get(f"{base}/api/routes/", params=params, timeout=30)
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                if response.status_code == 200:
                    jumps[index] = response.json()["jumps"]
                elif response.status_code != 404:
                    failures.append(f"{response.status_code} {response.text[:200]}")

    wall = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put((latencies, time.perf_counter() - wall, failures, jumps))


def _run_load(base: str, queries: list[dict[str, str]], clients: int) -> tuple[list[float], float, list[str], dict]:
    """Run :func:`_load` in a separate process.

    Args:
        base: Server URL.
        queries: The requests.
        clients: Concurrent clients.

    Returns:
        What the load process reported.
    """
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=_load, args=(base, queries, clients, queue))
    process.start()
    result = queue.get(timeout=1800)
    process.join()
    return result


def _pct(values: list[float], q: float) -> float:
    """Return a percentile in milliseconds.

    Args:
        values: Seconds.
        q: Percentile, 0..100.

    Returns:
        Milliseconds.
    """
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] * 1000


def _bfs(adjacency: dict[int, list[int]], origin: int, destination: int, blocked: frozenset[int]) -> int | None:
    """Breadth-first search over an in-memory adjacency list (the floor).

    Args:
        adjacency: Neighbours per system.
        origin: Start.
        destination: Goal.
        blocked: Systems never entered.

    Returns:
        Jumps, or None.
    """
    if origin == destination:
        return 0
    seen = {origin}
    queue = deque([(origin, 0)])
    while queue:
        node, dist = queue.popleft()
        for nxt in adjacency[node]:
            if nxt == destination:
                return dist + 1
            if nxt not in seen and nxt not in blocked:
                seen.add(nxt)
                queue.append((nxt, dist + 1))
    return None


def main() -> int:
    """Run the benchmark and print the figures.

    Returns:
        0 when the API's answers match the BFS, else 1.
    """
    import django

    django.setup()
    from django.conf import settings

    from evesite.graph import graph_query

    if graph_query("MATCH (n:SolarSystem) RETURN count(n) AS n")[0]["n"] < 5000:
        from universe.services import sde_ingest

        print(f"The gate graph is empty: ingesting {settings.EVE_SHARED_DIR / 'eve-sde'} first")
        sde_ingest(source=Path(settings.EVE_SHARED_DIR) / "eve-sde")
    rows = graph_query(
        "MATCH (a:SolarSystem) OPTIONAL MATCH (a)-[:GATE]->(b:SolarSystem) "
        "RETURN a.system_id AS id, a.name AS name, a.security AS security, collect(b.system_id) AS out"
    )
    adjacency = {r["id"]: r["out"] for r in rows}
    names = {r["id"]: r["name"] for r in rows}
    reach, stack = {JITA}, [JITA]
    while stack:
        for nxt in adjacency[stack.pop()]:
            if nxt not in reach:
                reach.add(nxt)
                stack.append(nxt)
    known = sorted(s for s in reach if s < 31000000)
    rng = random.Random(SEED)
    queries: list[dict[str, str]] = []
    for _ in range(REQUESTS):
        origin, destination = rng.sample(known, 2)
        mode = rng.choices(["shortest", "secure", "insecure"], weights=[70, 20, 10])[0]
        params = {"origin": names[origin] if rng.random() < 0.5 else str(origin), "destination": str(destination)}
        params["mode"] = mode
        if rng.random() < 0.1:
            params["avoid"] = ",".join(str(s) for s in rng.sample(known, 2))
        queries.append(params)
    print(
        f"Universe: {len(rows)} systems, {sum(map(len, adjacency.values()))} directed gates, "
        f"{len(known)} in the Jita component"
    )

    port = free_port()
    env = dict(os.environ, DJANGO_DEBUG="false", DJANGO_SECRET_KEY=secrets.token_urlsafe(40), LOG_LEVEL="WARNING")
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "evesite.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        import requests

        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/api/health/", timeout=2).status_code in (200, 503):
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                print("gunicorn did not start")
                return 1
            time.sleep(0.3)
        # Warm both workers (name index, weight check, risk sync).
        _run_load(base, queries[:20], WORKERS * 2)
        single = _run_load(base, queries, 1)
        loaded = _run_load(base, queries, CLIENTS)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    from evesite.exceptions import NotFoundError
    from routing.services import route_find

    selector_times: list[float] = []
    selector_start = time.perf_counter()
    for params in queries:
        avoid = [a for a in params.get("avoid", "").split(",") if a]
        start = time.perf_counter()
        with contextlib.suppress(NotFoundError):
            route_find(origin=params["origin"], destination=params["destination"], mode=params["mode"], avoid=avoid)
        selector_times.append(time.perf_counter() - start)
    selector_wall = time.perf_counter() - selector_start

    bfs_times: list[float] = []
    bfs_jumps: dict[int, int | None] = {}
    start_all = time.perf_counter()
    for index, params in enumerate(queries):
        origin = (
            int(params["origin"])
            if params["origin"].isdigit()
            else next(k for k, v in names.items() if v == params["origin"])
        )
        blocked = frozenset(int(a) for a in params.get("avoid", "").split(",") if a) - {
            origin,
            int(params["destination"]),
        }
        start = time.perf_counter()
        bfs_jumps[index] = _bfs(adjacency, origin, int(params["destination"]), blocked)
        bfs_times.append(time.perf_counter() - start)
    bfs_wall = time.perf_counter() - start_all

    failures = single[2] + loaded[2]
    mismatches = [
        i for i, params in enumerate(queries) if params["mode"] == "shortest" and single[3].get(i) != bfs_jumps[i]
    ]
    print(f"\n{len(queries)} route queries per phase (70% shortest, 20% secure, 10% insecure; 10% with avoid)")
    print(f"{'':34}{'p50 ms':>9}{'p95 ms':>9}{'req/s':>9}")
    for label, (latencies, wall, *_rest) in (
        ("API, 1 client (gunicorn x2)", single),
        (f"API, {CLIENTS} clients (gunicorn x2)", loaded),
    ):
        print(f"{label:34}{_pct(latencies, 50):9.2f}{_pct(latencies, 95):9.2f}{len(latencies) / wall:9.1f}")
    print(
        f"{'route_find in-process (no HTTP)':34}{_pct(selector_times, 50):9.2f}{_pct(selector_times, 95):9.2f}"
        f"{len(selector_times) / selector_wall:9.1f}"
    )
    print(
        f"{'BFS in Python (floor, 1 thread)':34}{_pct(bfs_times, 50):9.3f}{_pct(bfs_times, 95):9.3f}"
        f"{len(bfs_times) / bfs_wall:9.1f}"
    )
    p50 = _pct(single[0], 50)
    print(f"\nTarget API p50 < {TARGET_P50_MS:g} ms: {'met' if p50 < TARGET_P50_MS else 'NOT met'} ({p50:.2f} ms)")
    print(f"Load on this machine: {os.getloadavg()[0]:.2f} (1-min load average, {os.cpu_count()} cores)")
    if failures:
        print(f"{len(failures)} failed requests, e.g. {failures[0]}")
    if mismatches:
        print(f"{len(mismatches)} shortest routes differ from the BFS, e.g. query {queries[mismatches[0]]}")
    print(f"mean BFS {statistics.mean(bfs_times) * 1000:.3f} ms")
    return 1 if failures or mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
