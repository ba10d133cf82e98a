"""Benchmark (issue 17, Speed): ``GET /api/routes/`` on the full universe, served the way ``make run`` serves it.

It starts the Procfile's ``web`` line (gunicorn ``evesite.wsgi``, gthread with a health thread,
``WEB_WORKERS`` x ``WEB_THREADS``, 2 x 4 by default as in ``make run``, access log on) on a free loopback
port, and drives ``GET /api/routes/`` from a separate process over keep-alive connections. It measures
exactly the two figures of the issue:

- **1 client**: the p50 latency (target: under 10 ms);
- **4 clients** (``BENCH_ROUTING_CLIENTS``): requests per second (target: at least 150).

Each run sends the same random known-space origin/destination pairs (70 % ``shortest``, 20 % ``secure``,
10 % ``insecure``; 10 % with a two-system ``avoid`` list; half the origins by name) first with one client, then
with four. ``BENCH_ROUTING_RUNS`` runs (3) are made and the medians reported, with the load average and the CPU the
server spent per request (gunicorn's processes, and Neo4j's when its process is found): the machine may be shared.

Every answer is checked: its ``total_weight`` must equal a Dijkstra in this process over the same gate weights read
from Neo4j (avoided systems cut off), and a ``shortest`` route's jumps must equal a breadth-first search.

It only reads: the routes come from the gate graph already in Neo4j; when PostgreSQL or the graph lacks the SDE it
ingests ``EVE_SHARED_DIR/eve-sde`` first (as ``make run`` ingests ``eve_data/``). Avoid queries delete gates only
inside a Neo4j transaction that is rolled back.

Run: ``.venv/bin/python bench/bench_routing.py`` (``make bench`` runs every benchmark; the throttles are lifted).
Environment: ``BENCH_ROUTING_REQUESTS`` (400 per phase), ``BENCH_ROUTING_CLIENTS`` (4), ``BENCH_ROUTING_RUNS`` (3),
``BENCH_SEED`` (7), ``WEB_WORKERS`` / ``WEB_THREADS`` (the Procfile's defaults).
"""

from __future__ import annotations

import http.client
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Nothing here needs Django set up: the spawned load clients import this script too, and only main() sets it up.
import django  # noqa: E402
from django.apps import apps  # noqa: E402
from django.conf import settings  # noqa: E402

from bench.loadtest.stack import procfile_command  # noqa: E402
from bench.routing_support import (  # noqa: E402
    Answer,
    bfs,
    cpu_seconds,
    dijkstra,
    listener_pid,
    load_run,
    pct,
)
from evesite.graph import graph_query  # noqa: E402
from evesite.testing.ports import free_port  # noqa: E402 - after the path
from routing import graph  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evesite.settings.production")
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(40))  # `make bench` sets one; the server gets it too

REQUESTS = int(os.environ.get("BENCH_ROUTING_REQUESTS", "400"))
CLIENTS = int(os.environ.get("BENCH_ROUTING_CLIENTS", "4"))
RUNS = int(os.environ.get("BENCH_ROUTING_RUNS", "3"))
SEED = int(os.environ.get("BENCH_SEED", "7"))
TARGET_P50_MS = 10.0
TARGET_RPS = 150.0
JITA = 30000142
# What `make bench` lifts: a benchmark measures speed, not throttles (its load comes from one address).
LIFTED = {
    "THROTTLE_ANON_RATE": "1000000/min",
    "THROTTLE_ANON_BURST_RATE": "1000000/s",
    "THROTTLE_USER_RATE": "1000000/min",
    "THROTTLE_EXPENSIVE_RATE": "1000000/min",
    "API_EXPENSIVE_CONCURRENCY": "0",
}

Gates = dict[int, list[tuple[int, float]]]  # each system's gates out: (to, weight)

SDE_MIN_SYSTEMS = 5000  # fewer: the SDE is not loaded
KNOWN_SPACE_BELOW = 31_000_000  # system ids of known space (wormhole and other systems above)
BY_NAME_SHARE = 0.5  # origins given by name
AVOID_SHARE = 0.1  # queries with an avoid list
WEIGHT_TOLERANCE = 1e-6  # largest total_weight difference against the reference


def _sde_ensure() -> None:
    """Ingest the shared SDE when PostgreSQL or the gate graph lacks it."""
    in_graph = graph_query("MATCH (n:SolarSystem) RETURN count(n) AS n")[0]["n"]
    if in_graph < SDE_MIN_SYSTEMS or apps.get_model("universe", "SolarSystem").objects.count() < SDE_MIN_SYSTEMS:
        # Needs the app registry, which this script sets up in main() only (see the imports).
        from universe.services import sde_ingest  # noqa: PLC0415

        print(f"The SDE is missing: ingesting {settings.EVE_SHARED_DIR / 'eve-sde'} first")
        sde_ingest(source=Path(settings.EVE_SHARED_DIR) / "eve-sde")


def _server_start(port: int) -> subprocess.Popen[bytes]:
    """Start the Procfile's web line (as ``make run`` does) on a port; its output goes to a log file.

    Args:
        port: The port.

    Returns:
        The gunicorn master (its own process group).
    """
    env = dict(os.environ, DJANGO_DEBUG="false", HOST="127.0.0.1", WEB_PORT=str(port), LOG_LEVEL="WARNING")
    env.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(40))
    for name, value in LIFTED.items():
        env.setdefault(name, value)
    command = procfile_command("web", env)
    log = Path(os.environ.get("BENCH_ROUTING_LOG", ROOT / ".services" / "bench_routing_gunicorn.log"))
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _wait_ready(port: int, server: subprocess.Popen[bytes]) -> bool:
    """Wait up to 60 s until the health endpoint answers.

    Args:
        port: Server port.
        server: The gunicorn master.

    Returns:
        Whether it answered.
    """
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/api/health/")
            if connection.getresponse().status in (200, 503):
                return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


def _universe() -> tuple[dict[int, str], dict[str, Gates], list[int]]:
    """Read the gate graph: names, each weight's gates, and the known-space systems Jita reaches."""
    weights = sorted(set(graph.WEIGHTS.values()))
    rows = graph_query(
        "MATCH (a:SolarSystem) OPTIONAL MATCH (a)-[g:GATE]->(b:SolarSystem) "
        "RETURN a.system_id AS id, a.name AS name, collect([b.system_id] + [w IN $weights | g[w]]) AS out",
        {"weights": weights},
    )
    names = {r["id"]: r["name"] for r in rows}
    gates = {
        w: {r["id"]: [(g[0], g[1 + i]) for g in r["out"] if g[0] is not None] for r in rows}
        for i, w in enumerate(weights)
    }
    shortest = gates[graph.WEIGHTS[("shortest", False)]]
    reach, stack = {JITA}, [JITA]
    while stack:
        for nxt, _ in shortest[stack.pop()]:
            if nxt not in reach:
                reach.add(nxt)
                stack.append(nxt)
    known = sorted(s for s in reach if s < KNOWN_SPACE_BELOW)
    print(
        f"Universe: {len(rows)} systems, {sum(map(len, shortest.values()))} directed gates, "
        f"{len(known)} in the Jita component; Neo4j {settings.NEO4J_BOLT_URL.rsplit('@', 1)[-1]}"
    )
    return names, gates, known


def _queries(names: dict[int, str], known: list[int]) -> list[dict[str, str]]:
    """The random route queries (see the module docstring)."""
    rng = random.Random(SEED)
    queries: list[dict[str, str]] = []
    for _ in range(REQUESTS):
        origin, destination = rng.sample(known, 2)
        mode = rng.choices(["shortest", "secure", "insecure"], weights=[70, 20, 10])[0]
        params = {
            "origin": names[origin] if rng.random() < BY_NAME_SHARE else str(origin),
            "destination": str(destination),
        }
        params["mode"] = mode
        if rng.random() < AVOID_SHARE:
            params["avoid"] = ",".join(str(s) for s in rng.sample(known, 2))
        queries.append(params)
    return queries


def _runs(
    port: int, server: subprocess.Popen[bytes], paths: list[str], neo4j_pid: int | None
) -> tuple[list[dict[str, Any]], list[str], dict[int, Answer | None]]:
    """Warm the server, then time RUNS runs of both phases: the figures, the failures and the answers."""
    results: list[dict[str, Any]] = []
    failures: list[str] = []
    answers: dict[int, Answer | None] = {}
    workers, threads = os.environ.get("WEB_WORKERS", "2"), os.environ.get("WEB_THREADS", "4")
    load_run(port, paths[:40], int(workers) * int(threads))  # warm every worker and Neo4j's JIT
    for _ in range(RUNS):
        run: dict[str, Any] = {"load": os.getloadavg()[0]}
        for phase, clients in (("single", 1), ("multi", CLIENTS)):
            cpu_before = cpu_seconds(group=server.pid), cpu_seconds(pids={neo4j_pid} if neo4j_pid else set())
            latencies, wall, failed, got = load_run(port, paths, clients)
            cpu_after = cpu_seconds(group=server.pid), cpu_seconds(pids={neo4j_pid} if neo4j_pid else set())
            failures += failed
            answers.update(got)
            run[phase] = {
                "p50": pct(latencies, 50),
                "p95": pct(latencies, 95),
                "rps": len(latencies) / wall,
                "web_cpu_ms": (cpu_after[0] - cpu_before[0]) / len(latencies) * 1000,
                "neo4j_cpu_ms": (cpu_after[1] - cpu_before[1]) / len(latencies) * 1000,
            }
        results.append(run)
    return results, failures, answers


def _mismatches(
    queries: list[dict[str, str]], names: dict[int, str], gates: dict[str, Gates], answers: dict[int, Answer | None]
) -> list[int]:
    """The queries whose answer differs from the reference Dijkstra (and BFS for ``shortest``)."""
    mismatches = []
    for index, params in enumerate(queries):
        origin = (
            int(params["origin"])
            if params["origin"].isdigit()
            else next(k for k, v in names.items() if v == params["origin"])
        )
        destination = int(params["destination"])
        blocked = {int(a) for a in params.get("avoid", "").split(",") if a} - {origin, destination}
        out = gates[graph.WEIGHTS[(params["mode"], True)]]
        weight = dijkstra(out, origin, destination, blocked)
        answer = answers.get(index)
        expected_jumps = bfs(out, origin, destination, blocked) if params["mode"] == "shortest" else None
        if (answer is None) != (weight is None) or (
            answer is not None
            and weight is not None
            and (
                abs(answer[1] - weight) > WEIGHT_TOLERANCE
                or (expected_jumps is not None and answer[0] != expected_jumps)
            )
        ):
            mismatches.append(index)
    return mismatches


def _print_runs(queries: list[dict[str, str]], results: list[dict[str, Any]], neo4j_pid: int | None) -> None:
    """Print every run's figures."""
    workers, threads = os.environ.get("WEB_WORKERS", "2"), os.environ.get("WEB_THREADS", "4")
    print(
        f"\n{len(queries)} route queries per phase (70% shortest, 20% secure, 10% insecure; 10% with avoid), "
        f"{RUNS} runs; gunicorn {workers} workers x {threads} threads (the Procfile's web line)"
    )
    print(
        f"{'run':>4}{'load':>7}{'1 client p50':>14}{'p95':>8}{'req/s':>8}{f'{CLIENTS} clients req/s':>18}{'p50':>8}"
        f"{'web CPU ms/req':>16}{'neo4j CPU ms/req':>18}"
    )
    for number, run in enumerate(results, 1):
        single, multi = run["single"], run["multi"]
        print(
            f"{number:>4}{run['load']:>7.2f}{single['p50']:>14.2f}{single['p95']:>8.2f}{single['rps']:>8.1f}"
            f"{multi['rps']:>18.1f}{multi['p50']:>8.2f}{multi['web_cpu_ms']:>16.2f}"
            f"{multi['neo4j_cpu_ms'] if neo4j_pid else float('nan'):>18.2f}"
        )


def main() -> int:
    """Run the benchmark and print the figures.

    Returns:
        0 when every answer is right and both targets are met, else 1.
    """
    django.setup()
    _sde_ensure()
    names, gates, known = _universe()
    queries = _queries(names, known)
    paths = [f"/api/routes/?{urlencode(q)}" for q in queries]
    neo4j_pid = listener_pid(int(settings.NEO4J_BOLT_URL.rsplit(":", 1)[1].split("/")[0]))

    port = free_port()
    server = _server_start(port)
    try:
        if not _wait_ready(port, server):
            print("gunicorn did not start")
            return 1
        results, failures, answers = _runs(port, server, paths, neo4j_pid)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    mismatches = _mismatches(queries, names, gates, answers)
    _print_runs(queries, results, neo4j_pid)
    p50 = statistics.median(r["single"]["p50"] for r in results)
    rps = statistics.median(r["multi"]["rps"] for r in results)
    cpu_ms = statistics.median(r["multi"]["web_cpu_ms"] + r["multi"]["neo4j_cpu_ms"] for r in results)
    print(
        f"\nMedian 1-client p50: {p50:.2f} ms "
        f"(target < {TARGET_P50_MS:g} ms: {'met' if p50 < TARGET_P50_MS else 'NOT met'})"
    )
    print(
        f"Median {CLIENTS}-client throughput: {rps:.1f} req/s "
        f"(target >= {TARGET_RPS:g}: {'met' if rps >= TARGET_RPS else 'NOT met'})"
    )
    if neo4j_pid:
        print(
            f"Server CPU per request (gunicorn + Neo4j, {CLIENTS} clients): {cpu_ms:.2f} ms, i.e. "
            f"{1000 / cpu_ms:.0f} requests per server CPU-second ({os.cpu_count()} cores on this machine)"
        )
    print(f"Load now: {os.getloadavg()[0]:.2f} (1-min load average, {os.cpu_count()} cores)")
    if failures:
        print(f"{len(failures)} failed requests, e.g. {failures[0]}")
    if mismatches:
        print(f"{len(mismatches)} answers differ from the reference Dijkstra/BFS, e.g. {queries[mismatches[0]]}")
    met = p50 < TARGET_P50_MS and rps >= TARGET_RPS
    return 1 if failures or mismatches or not met else 0


if __name__ == "__main__":
    sys.exit(main())
