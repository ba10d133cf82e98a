"""Helpers of ``bench/bench_routing.py``: the load clients, CPU and percentile figures, and the reference routes.

The load runs in a spawned process (:func:`load_run`); :func:`dijkstra` and :func:`bfs` are the references every
answer is checked against.
"""

from __future__ import annotations

import heapq
import http.client
import json
import multiprocessing
import os
import threading
import time
from collections import deque
from http import HTTPStatus
from pathlib import Path
from typing import Any

Answer = tuple[int, float]  # (jumps, total_weight) of a 200


def load_send(port: int, paths: list[str], clients: int, out: Any) -> None:
    """Send the requests with ``clients`` keep-alive connections (runs in its own process) and report.

    Args:
        port: The server's loopback port.
        paths: Request paths with their query strings.
        clients: Concurrent clients.
        out: A queue receiving (latencies in seconds, wall seconds, failures, answers by request index).
    """
    pending = deque(enumerate(paths))
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []
    answers: dict[int, Answer | None] = {}

    def client() -> None:
        """One client: take the next request until none are left."""
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                if not pending:
                    break
                index, path = pending.popleft()
            start = time.perf_counter()
            connection.request("GET", path, headers={"Accept": "application/json"})
            response = connection.getresponse()
            body = response.read()
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                if response.status == HTTPStatus.OK:
                    data = json.loads(body)
                    answers[index] = (int(data["jumps"]), float(data["total_weight"]))
                elif response.status == HTTPStatus.NOT_FOUND:
                    answers[index] = None
                else:
                    failures.append(f"{response.status} {path} {body[:200]!r}")
        connection.close()

    wall = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put((latencies, time.perf_counter() - wall, failures, answers))


def load_run(port: int, paths: list[str], clients: int) -> tuple[list[float], float, list[str], dict]:
    """Run :func:`load_send` in a separate process.

    Args:
        port: Server port.
        paths: The requests.
        clients: Concurrent clients.

    Returns:
        What the load process reported.
    """
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=load_send, args=(port, paths, clients, queue))
    process.start()
    result = queue.get(timeout=1800)
    process.join()
    return result


def pct(values: list[float], q: float) -> float:
    """Return a percentile in milliseconds.

    Args:
        values: Seconds.
        q: Percentile, 0..100.

    Returns:
        Milliseconds.
    """
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] * 1000


def cpu_seconds(pids: set[int] | None = None, group: int | None = None) -> float:
    """Return the CPU seconds (user + system) used so far by some processes, or by a process group.

    Args:
        pids: Process ids.
        group: A process group id (every member counts).

    Returns:
        Seconds (processes that went away count 0).
    """
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if (pids is not None and int(entry) in pids) or (group is not None and int(fields[2]) == group):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def listener_pid(port: int) -> int | None:
    """Find the local process listening on a TCP port (Neo4j's Bolt port), if this user may see it.

    Args:
        port: The port.

    Returns:
        Its pid, or None.
    """
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # LISTEN
                inodes.add(fields[9])
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{entry}/fd"):
                link = os.readlink(f"/proc/{entry}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(entry)
        except OSError:
            continue
    return None


def dijkstra(out: dict[int, list[tuple[int, float]]], origin: int, destination: int, blocked: set[int]) -> float | None:
    """Cheapest route weight over directed weighted gates, never entering ``blocked`` (the reference).

    Args:
        out: Gates per system: (target, weight).
        origin: Start.
        destination: Goal.
        blocked: Systems never entered.

    Returns:
        The weight, or None when unreachable.
    """
    best = {origin: 0.0}
    heap = [(0.0, origin)]
    while heap:
        cost, node = heapq.heappop(heap)
        if node == destination:
            return cost
        if cost > best[node]:
            continue
        for target, weight in out.get(node, ()):
            if target in blocked:
                continue
            new = cost + weight
            if new < best.get(target, float("inf")):
                best[target] = new
                heapq.heappush(heap, (new, target))
    return None


def bfs(out: dict[int, list[tuple[int, float]]], origin: int, destination: int, blocked: set[int]) -> int | None:
    """Fewest jumps (breadth-first search), never entering ``blocked``.

    Args:
        out: Gates per system.
        origin: Start.
        destination: Goal.
        blocked: Systems never entered.

    Returns:
        Jumps, or None.
    """
    seen = {origin}
    queue = deque([(origin, 0)])
    while queue:
        node, dist = queue.popleft()
        if node == destination:
            return dist
        for target, _ in out.get(node, ()):
            if target not in seen and target not in blocked:
                seen.add(target)
                queue.append((target, dist + 1))
    return None
