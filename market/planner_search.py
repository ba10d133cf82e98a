"""The cargo planner's bound and exact search (steps 2 and 4 of :mod:`market.planner`); pure, no I/O."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from market.planner import Choice, ItemBook, Limits, Option
    from market.planner_greedy import Relaxed

# Bisection steps on the wallet's multiplier (its range shrinks 2**-STEPS).
DUAL_STEPS = 24


class _OutOfTimeError(Exception):
    """The search ran out of time."""


def _inner(
    u: np.ndarray, p: np.ndarray, v: np.ndarray, c: np.ndarray, cargo: float, budget: float, mu: float
) -> tuple[float, float, float]:
    """For a wallet multiplier ``mu``: the best hold multiplier, the dual value, and the cost the LP then buys."""
    num = p - mu * c
    pos = num > 0
    u, num, v, c = u[pos], num[pos], v[pos], c[pos]
    lam = 0.0
    if len(u):
        free = v <= 0
        ratio = np.where(free, np.inf, num / np.where(free, 1.0, v))
        order = np.argsort(-ratio, kind="stable")
        filled = np.cumsum((u * v)[order])
        cut = int(np.searchsorted(filled, cargo, side="right"))
        if cut < len(order):
            lam = float(ratio[order[cut]]) if np.isfinite(ratio[order[cut]]) else 0.0
    reduced = num - lam * v
    taken = reduced > 0
    value = lam * cargo + mu * budget + float(np.sum(u[taken] * reduced[taken]))
    return lam, value, float(np.sum(u[taken] * c[taken]))


def lp_dual(*, segments: Relaxed, cargo_m3: float, budget_isk: float) -> tuple[float, float, float]:
    """Solve the dual of the LP relaxation: the multipliers of the hold and the wallet, and an upper bound.

    ``D(l, m) = l*V + m*B + sum_s u_s (p_s - l v_s - m c_s)^+`` bounds the optimum from above for every
    ``l, m >= 0``. For each ``m`` the best ``l`` is exact (a weighted quantile); ``m`` is found by bisection on
    the sign of ``B - cost bought``.

    Args:
        segments: The LP relaxation's segments.
        cargo_m3: The hold.
        budget_isk: The wallet.

    Returns:
        ``(l, m, bound)``: ISK of profit per m3 and per ISK spent at the margin, and the smallest ``D`` seen.
    """
    u, p, v, c = segments.units, segments.profit, segments.volume, segments.cost
    if not len(u):
        return 0.0, 0.0, 0.0
    lam, bound, spent = _inner(u, p, v, c, cargo_m3, budget_isk, 0.0)
    if spent <= budget_isk:
        return lam, 0.0, bound
    lo, hi = 0.0, float(np.max(p / np.maximum(c, 1e-300)))
    best = (lam, 0.0)
    found = False
    for _ in range(DUAL_STEPS):
        mid = (lo + hi) / 2
        lam_mid, value, spent = _inner(u, p, v, c, cargo_m3, budget_isk, mid)
        bound = min(bound, value)
        if spent > budget_isk:
            lo = mid
        else:
            hi, best, found = mid, (lam_mid, mid), True
    if not found:
        lam_hi, value, _ = _inner(u, p, v, c, cargo_m3, budget_isk, hi)
        bound, best = min(bound, value), (lam_hi, hi)
    return best[0], best[1], bound


def _lagrangian(book: ItemBook, lam: float, mu: float) -> float:
    """An item's best ``P(n) - lam*v*n - mu*cost(n)`` over its options and not carrying it (0)."""
    best = 0.0
    for option in book.options:
        n = option.best_units(option.cap, lam, mu)
        best = max(best, option.profit(n) - lam * book.volume * n - mu * book.cost(n))
    return best


def core_pick(books: list[ItemBook], choices: list[Choice], multipliers: tuple[float, float], size: int) -> list[int]:
    """The items nearest the margin.

    The carried ones whose last unit earns least per priced resource, and the left-out ones whose first unit
    would earn most.
    """
    if len(books) <= size:
        return list(range(len(books)))
    lam, mu = multipliers
    scale = 1e-12

    def ratio(book: ItemBook, option: Option, n: int) -> float:
        """Density of unit ``n + 1`` of an option."""
        _, bid, ask = option.segment(n)
        return (bid * book.keep - ask) / (lam * book.volume + mu * ask + scale)

    carried, left = [], []
    for i, (book, choice) in enumerate(zip(books, choices, strict=True)):
        if choice.option is not None and choice.units > 0:
            option = choice.option
            n = max(choice.units - 1, option.base)
            carried.append((ratio(book, option, n) if n < option.cap else 0.0, i))
        else:
            first = max(ratio(book, o, o.base) if o.base < o.cap else 0.0 for o in book.options)
            left.append((-first, i))
    carried.sort()
    left.sort()
    half = size // 2
    picked = [i for _, i in carried[:half]] + [i for _, i in left[: size - min(half, len(carried))]]
    return picked[:size]


def core_search(
    *,
    books: list[ItemBook],
    choices: list[Choice],
    limits: Limits,
    multipliers: tuple[float, float],
    deadline: float,
    core_size: int,
) -> bool:
    """Re-optimise the core items exactly (branch and bound), the others fixed; improves ``choices`` in place.

    Args:
        books: The items.
        choices: The current plan (one choice per item), replaced by a better one when found.
        limits: The hold, the wallet and the item count of the whole plan.
        multipliers: The LP's multipliers (for the order of the core and its bounds).
        deadline: ``time.perf_counter()`` value to stop at.
        core_size: Items in the core.

    Returns:
        Whether the search finished (then the core's choices are optimal given the others).
    """
    from market.planner import Choice

    core = core_pick(books, choices, multipliers, core_size)
    in_core = set(core)
    volume, budget, count = limits.volume, limits.budget, limits.items
    for i, choice in enumerate(choices):
        if i not in in_core and choice.option is not None and choice.units > 0:
            volume -= choice.units * books[i].volume
            budget -= books[i].cost(choice.units)
            count -= 1
    sub = [books[i] for i in core]
    # The widest item goes last: the leaf picks its units in closed form.
    order = sorted(
        range(len(sub)),
        key=lambda k: max(min(o.cap, sub[k].units_within(volume, budget)) - o.base for o in sub[k].options),
    )
    sub = [sub[k] for k in order]
    core = [core[k] for k in order]
    from market.planner import Books
    from market.planner_greedy import relaxed_segments

    sub_relaxed = relaxed_segments(books=Books.from_items([b.item for b in sub]), keep=sub[0].keep if sub else 1.0)
    lam_c, mu_c, _ = lp_dual(segments=sub_relaxed, cargo_m3=max(volume, 0.0), budget_isk=max(budget, 0.0))
    pairs = [(0.0, 0.0), multipliers, (lam_c, mu_c)]
    suffix = [[0.0] * len(pairs) for _ in range(len(sub) + 1)]
    for k in range(len(sub) - 1, -1, -1):
        for q, (lam, mu) in enumerate(pairs):
            suffix[k][q] = suffix[k + 1][q] + _lagrangian(sub[k], lam, mu)
    best = [sum(choices[i].profit() for i in core)]
    best_path: list[list[tuple[Option | None, int]]] = [[(choices[i].option, choices[i].units) for i in core]]
    path: list[tuple[Option | None, int]] = []
    nodes = [0]

    def rest_bound(k: int, vol: float, cash: float) -> float:
        """Lagrangian bound of items ``k..`` within ``vol`` and ``cash``."""
        return min(lam * vol + mu * cash + suffix[k][q] for q, (lam, mu) in enumerate(pairs))

    def improve(value: float, tail: list[tuple[Option | None, int]]) -> None:
        """Keep a better assignment."""
        if value > best[0] + 1e-9 * max(1.0, abs(best[0])):
            best[0] = value
            best_path[0] = path + tail

    def dfs(k: int, vol: float, cash: float, left: int, acc: float) -> None:
        """Branch on item ``k``'s option and units."""
        nodes[0] += 1
        if nodes[0] % 256 == 0 and time.perf_counter() > deadline:
            raise _OutOfTimeError
        book = sub[k]
        last = k == len(sub) - 1
        if acc + rest_bound(k, vol, cash) <= best[0] + 1e-9 * max(1.0, abs(best[0])):
            return
        top = book.units_within(vol, cash) if left > 0 else 0
        if last:
            pick: tuple[Option | None, int] = (None, 0)
            value = 0.0
            for option in book.options:
                if top >= option.base:
                    n = option.best_units(top)
                    gain = option.profit(n)
                    if gain > value:
                        value, pick = gain, (option, n)
            improve(acc + value, [pick])
            return
        for option in book.options:
            hi = min(top, option.best_units(option.cap))
            if hi < option.base:
                continue
            peak = min(option.best_units(option.cap, lam, mu) for lam, mu in pairs)
            for n in range(hi, option.base - 1, -1):
                gain, spent, used = option.profit(n), book.cost(n), n * book.volume
                if acc + gain + rest_bound(k + 1, vol - used, cash - spent) <= best[0] + 1e-9 * max(1.0, abs(best[0])):
                    if n <= peak:
                        break
                    continue
                path.append((option, n))
                dfs(k + 1, vol - used, cash - spent, left - 1, acc + gain)
                path.pop()
        path.append((None, 0))
        dfs(k + 1, vol, cash, left, acc)
        path.pop()

    finished = True
    if sub:
        try:
            dfs(0, volume, budget, count, 0.0)
        except _OutOfTimeError:
            finished = False
    for i, (option, n) in zip(core, best_path[0], strict=True):
        choices[i] = Choice(option, n) if option is not None and n > 0 else Choice()
    return finished


def best_alone(book: ItemBook, volume: float, budget: float) -> tuple[Option | None, int, float]:
    """An item's best option and units within ``volume`` and ``budget`` (closed form: each option is concave)."""
    top = book.units_within(volume, budget)
    pick: tuple[Option | None, int, float] = (None, 0, 0.0)
    for option in book.options:
        if top >= option.base:
            n = option.best_units(top)
            gain = option.profit(n)
            if gain > pick[2]:
                pick = (option, n, gain)
    return pick


def local_improve(
    *, books: list[ItemBook], choices: list[Choice], limits: Limits, candidates: list[int], deadline: float
) -> None:
    """Improve a plan in place by moves of one item (re-plan it alone) and swaps of two, until none helps.

    A move frees an item's hold and wallet and picks its best option and units within what is left; a swap
    frees two items and re-plans them one after the other (either order). Only ``candidates`` are moved.

    Args:
        books: The items.
        choices: The plan (one choice per item).
        limits: The hold, the wallet and the item count of the whole plan.
        candidates: Items that may change.
        deadline: ``time.perf_counter()`` value to stop at.
    """
    from market.planner import Choice

    def usage(i: int) -> tuple[float, float, int]:
        """Hold, wallet and item count an item's choice uses."""
        c = choices[i]
        if c.option is None or c.units == 0:
            return 0.0, 0.0, 0
        return c.units * books[i].volume, books[i].cost(c.units), 1

    volume, budget, count = limits.volume, limits.budget, limits.items
    for i in range(len(books)):
        v, b, k = usage(i)
        volume, budget, count = volume - v, budget - b, count - k

    def tol(x: float) -> float:
        """Least gain that counts as better."""
        return 1e-9 * max(1.0, abs(x))

    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        for i in candidates:  # moves of one item
            v, b, k = usage(i)
            old = choices[i].profit()
            if count + k <= 0:
                continue
            option, n, gain = best_alone(books[i], volume + v, budget + b)
            if gain > old + tol(old):
                choices[i] = Choice(option, n)
                nv, nb, nk = usage(i)
                volume, budget, count = volume + v - nv, budget + b - nb, count + k - nk
                improved = True
        for i in candidates:  # swaps of two
            if time.perf_counter() > deadline:
                return
            vi, bi, ki = usage(i)
            if not ki:
                continue
            for j in candidates:
                if j == i:
                    continue
                vj, bj, kj = usage(j)
                old = choices[i].profit() + choices[j].profit()
                room_v, room_b, room_k = volume + vi + vj, budget + bi + bj, count + ki + kj
                for first, second in ((j, i), (i, j)):
                    o1, n1, g1 = best_alone(books[first], room_v, room_b) if room_k > 0 else (None, 0, 0.0)
                    u1 = (n1 * books[first].volume, books[first].cost(n1)) if o1 is not None else (0.0, 0.0)
                    left_k = room_k - (1 if o1 is not None else 0)
                    o2, n2, g2 = (
                        best_alone(books[second], room_v - u1[0], room_b - u1[1]) if left_k > 0 else (None, 0, 0.0)
                    )
                    if g1 + g2 > old + tol(old):
                        choices[first] = Choice(o1, n1) if o1 is not None else Choice()
                        choices[second] = Choice(o2, n2) if o2 is not None else Choice()
                        volume, budget, count = room_v, room_b, room_k
                        for x in (i, j):
                            nv, nb, nk = usage(x)
                            volume, budget, count = volume - nv, budget - nb, count - nk
                        improved = True
                        break
                vi, bi, ki = usage(i)
                if not ki:
                    break
