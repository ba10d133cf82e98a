"""Independent reference searches for the tests (plain Python over an adjacency list)."""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable, Iterable


def bfs_jumps(
    adjacency: dict[int, list[int]], origin: int, destination: int, allowed: Callable[[int], bool] = lambda _: True
) -> int | None:
    """Breadth-first search: fewest jumps, entering only allowed systems (the destination must be allowed).

    Args:
        adjacency: Outgoing neighbours per system.
        origin: Start.
        destination: Goal.
        allowed: Which systems may be entered.

    Returns:
        The jump count, or None when unreachable.
    """
    if origin == destination:
        return 0
    seen = {origin}
    queue = deque([(origin, 0)])
    while queue:
        node, dist = queue.popleft()
        for nxt in adjacency.get(node, ()):
            if nxt in seen or not (allowed(nxt) or nxt == destination):
                continue
            if nxt == destination:
                return dist + 1
            seen.add(nxt)
            queue.append((nxt, dist + 1))
    return None


def lexicographic_cost(
    adjacency: dict[int, list[int]], origin: int, destination: int, unwanted: Callable[[int], bool]
) -> tuple[int, int] | None:
    """Dijkstra on (unwanted jumps, jumps) pairs compared lexicographically.

    Args:
        adjacency: Outgoing neighbours per system.
        origin: Start.
        destination: Goal.
        unwanted: Which systems cost an "unwanted" jump to enter.

    Returns:
        (unwanted jumps, jumps) of the best route, or None when unreachable.
    """
    best: dict[int, tuple[int, int]] = {origin: (0, 0)}
    heap: list[tuple[int, int, int]] = [(0, 0, origin)]
    while heap:
        bad, jumps, node = heapq.heappop(heap)
        if (bad, jumps) > best.get(node, (bad, jumps)):
            continue
        if node == destination:
            return bad, jumps
        for nxt in adjacency.get(node, ()):
            cost = (bad + (1 if unwanted(nxt) else 0), jumps + 1)
            if cost < best.get(nxt, (10**9, 10**9)):
                best[nxt] = cost
                heapq.heappush(heap, (cost[0], cost[1], nxt))
    return None


def path_is_walk(adjacency: dict[int, list[int]], path: Iterable[int]) -> bool:
    """Check that consecutive systems of a path are joined by gates.

    Args:
        adjacency: Outgoing neighbours per system.
        path: System ids.

    Returns:
        True when every step is a gate.
    """
    nodes = list(path)
    return all(b in adjacency.get(a, ()) for a, b in itertools.pairwise(nodes))
