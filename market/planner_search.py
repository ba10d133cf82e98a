"""The cargo planner's bound and exact search (steps 2 and 4 of :mod:`market.planner`); pure, no I/O."""

from __future__ import annotations

import time

import numpy as np

from market.planner_relax import Relaxed, relaxed_segments
from market.planner_types import Books, Choice, ItemBook, Limits, Option

# Bisection steps on the wallet's multiplier (its range shrinks 2**-STEPS).
DUAL_STEPS = 24
# The searches' clock: CPU seconds of the calling thread. A busy machine makes a plan slower, not worse.
search_clock = time.thread_time


class _OutOfTimeError(Exception):
    """The search ran out of time."""


def _inner(
    u: np.ndarray, p: np.ndarray, v: np.ndarray, c: np.ndarray, *, cargo: float, budget: float, mu: float
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
    lam, bound, spent = _inner(u, p, v, c, cargo=cargo_m3, budget=budget_isk, mu=0.0)
    if spent <= budget_isk:
        return lam, 0.0, bound
    lo, hi = 0.0, float(np.max(p / np.maximum(c, 1e-300)))
    best = (lam, 0.0)
    found = False
    for _ in range(DUAL_STEPS):
        mid = (lo + hi) / 2
        lam_mid, value, spent = _inner(u, p, v, c, cargo=cargo_m3, budget=budget_isk, mu=mid)
        bound = min(bound, value)
        if spent > budget_isk:
            lo = mid
        else:
            hi, best, found = mid, (lam_mid, mid), True
    if not found:
        lam_hi, value, _ = _inner(u, p, v, c, cargo=cargo_m3, budget=budget_isk, mu=hi)
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


def _room_outside(books: list[ItemBook], choices: list[Choice], limits: Limits, core: set[int]) -> Limits:
    """What the items outside the core leave of the hold, the wallet and the item count."""
    volume, budget, count = limits.volume, limits.budget, limits.items
    for i, choice in enumerate(choices):
        if i not in core and choice.option is not None and choice.units > 0:
            volume -= choice.units * books[i].volume
            budget -= books[i].cost(choice.units)
            count -= 1
    return Limits(volume, budget, count)


def _best_within(book: ItemBook, top: int) -> tuple[Option | None, int, float]:
    """An item's best option and units given at most ``top`` units."""
    pick: tuple[Option | None, int, float] = (None, 0, 0.0)
    for option in book.options:
        if top >= option.base:
            n = option.best_units(top)
            gain = option.profit(n)
            if gain > pick[2]:
                pick = (option, n, gain)
    return pick


class _CoreSearch:
    """Branch and bound over the core items' options and units (the items outside the core fixed)."""

    def __init__(
        self,
        *,
        sub: list[ItemBook],
        pairs: list[tuple[float, float]],
        deadline: float,
        best: float,
        best_path: list[tuple[Option | None, int]],
    ) -> None:
        self.sub, self.pairs, self.deadline = sub, pairs, deadline
        self.best, self.best_path = best, best_path
        self.suffix = [[0.0] * len(pairs) for _ in range(len(sub) + 1)]
        for k in range(len(sub) - 1, -1, -1):
            for q, (lam, mu) in enumerate(pairs):
                self.suffix[k][q] = self.suffix[k + 1][q] + _lagrangian(sub[k], lam, mu)
        self.path: list[tuple[Option | None, int]] = []
        self.nodes = 0

    def rest_bound(self, k: int, vol: float, cash: float) -> float:
        """Lagrangian bound of items ``k..`` within ``vol`` and ``cash``."""
        row = self.suffix[k]
        return min(lam * vol + mu * cash + row[q] for q, (lam, mu) in enumerate(self.pairs))

    def dfs(self, k: int, vol: float, cash: float, left: int, acc: float) -> None:
        """Branch on item ``k``'s option and units."""
        self.nodes += 1
        if self.nodes % 256 == 0 and search_clock() > self.deadline:
            raise _OutOfTimeError
        book, path, rest_bound = self.sub[k], self.path, self.rest_bound
        if acc + rest_bound(k, vol, cash) <= self.best + 1e-9 * max(1.0, abs(self.best)):
            return
        top = book.units_within(vol, cash) if left > 0 else 0
        if k == len(self.sub) - 1:  # the leaf picks its units in closed form
            option, n, value = _best_within(book, top)
            if acc + value > self.best + 1e-9 * max(1.0, abs(self.best)):
                self.best = acc + value
                self.best_path = [*path, (option, n)]
            return
        for option in book.options:
            hi = min(top, option.best_units(option.cap))
            if hi < option.base:
                continue
            peak = min(option.best_units(option.cap, lam, mu) for lam, mu in self.pairs)
            for n in range(hi, option.base - 1, -1):
                gain, spent, used = option.profit(n), book.cost(n), n * book.volume
                if acc + gain + rest_bound(k + 1, vol - used, cash - spent) <= self.best + 1e-9 * max(
                    1.0, abs(self.best)
                ):
                    if n <= peak:
                        break
                    continue
                path.append((option, n))
                self.dfs(k + 1, vol - used, cash - spent, left - 1, acc + gain)
                path.pop()
        path.append((None, 0))
        self.dfs(k + 1, vol, cash, left, acc)
        path.pop()


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
        deadline: :func:`search_clock` value to stop at.
        core_size: Items in the core.

    Returns:
        Whether the search finished (then the core's choices are optimal given the others).
    """
    core = core_pick(books, choices, multipliers, core_size)
    room = _room_outside(books, choices, limits, set(core))
    volume, budget = room.volume, room.budget
    sub = [books[i] for i in core]
    # The widest item goes last: the leaf picks its units in closed form.
    order = sorted(
        range(len(sub)),
        key=lambda k: max(min(o.cap, sub[k].units_within(volume, budget)) - o.base for o in sub[k].options),
    )
    sub = [sub[k] for k in order]
    core = [core[k] for k in order]
    sub_relaxed = relaxed_segments(books=Books.from_items([b.item for b in sub]), keep=sub[0].keep if sub else 1.0)
    lam_c, mu_c, _ = lp_dual(segments=sub_relaxed, cargo_m3=max(volume, 0.0), budget_isk=max(budget, 0.0))
    search = _CoreSearch(
        sub=sub,
        pairs=[(0.0, 0.0), multipliers, (lam_c, mu_c)],
        deadline=deadline,
        best=sum(choices[i].profit() for i in core),
        best_path=[(choices[i].option, choices[i].units) for i in core],
    )
    finished = True
    if sub:
        try:
            search.dfs(0, volume, budget, room.items, 0.0)
        except _OutOfTimeError:
            finished = False
    for i, (option, n) in zip(core, search.best_path, strict=True):
        choices[i] = Choice(option, n) if option is not None and n > 0 else Choice()
    return finished


def best_alone(book: ItemBook, volume: float, budget: float) -> tuple[Option | None, int, float]:
    """An item's best option and units within ``volume`` and ``budget`` (closed form: each option is concave)."""
    return _best_within(book, book.units_within(volume, budget))


def _usage(books: list[ItemBook], choices: list[Choice], i: int) -> tuple[float, float, int]:
    """Hold, wallet and item count an item's choice uses."""
    c = choices[i]
    if c.option is None or c.units == 0:
        return 0.0, 0.0, 0
    return c.units * books[i].volume, books[i].cost(c.units), 1


def _tol(x: float) -> float:
    """Least gain that counts as better."""
    return 1e-9 * max(1.0, abs(x))


def _moves(*, books: list[ItemBook], choices: list[Choice], room: Limits, candidates: list[int]) -> bool:
    """Re-plan each candidate alone within what the others leave; whether any got better."""
    improved = False
    for i in candidates:
        v, b, k = _usage(books, choices, i)
        old = choices[i].profit()
        if room.items + k <= 0:
            continue
        option, n, gain = best_alone(books[i], room.volume + v, room.budget + b)
        if gain > old + _tol(old):
            choices[i] = Choice(option, n)
            nv, nb, nk = _usage(books, choices, i)
            room.volume, room.budget, room.items = room.volume + v - nv, room.budget + b - nb, room.items + k - nk
            improved = True
    return improved


def _swap(*, books: list[ItemBook], choices: list[Choice], room: Limits, i: int, j: int) -> bool:
    """Free items ``i`` and ``j`` and re-plan them one after the other (either order); whether that helped."""
    vi, bi, ki = _usage(books, choices, i)
    vj, bj, kj = _usage(books, choices, j)
    old = choices[i].profit() + choices[j].profit()
    room_v, room_b, room_k = room.volume + vi + vj, room.budget + bi + bj, room.items + ki + kj
    for first, second in ((j, i), (i, j)):
        o1, n1, g1 = best_alone(books[first], room_v, room_b) if room_k > 0 else (None, 0, 0.0)
        u1 = (n1 * books[first].volume, books[first].cost(n1)) if o1 is not None else (0.0, 0.0)
        left_k = room_k - (1 if o1 is not None else 0)
        o2, n2, g2 = best_alone(books[second], room_v - u1[0], room_b - u1[1]) if left_k > 0 else (None, 0, 0.0)
        if g1 + g2 > old + _tol(old):
            choices[first] = Choice(o1, n1) if o1 is not None else Choice()
            choices[second] = Choice(o2, n2) if o2 is not None else Choice()
            volume, budget, count = room_v, room_b, room_k
            for x in (i, j):
                nv, nb, nk = _usage(books, choices, x)
                volume, budget, count = volume - nv, budget - nb, count - nk
            room.volume, room.budget, room.items = volume, budget, count
            return True
    return False


def _swaps(
    *, books: list[ItemBook], choices: list[Choice], room: Limits, candidates: list[int], deadline: float
) -> tuple[bool, bool]:
    """Try swaps of two candidates; whether any helped, and whether the deadline passed."""
    improved = False
    for i in candidates:
        if search_clock() > deadline:
            return improved, True
        if not _usage(books, choices, i)[2]:
            continue
        for j in candidates:
            if j == i:
                continue
            improved = _swap(books=books, choices=choices, room=room, i=i, j=j) or improved
            if not _usage(books, choices, i)[2]:
                break
    return improved, False


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
        deadline: :func:`search_clock` value to stop at.
    """
    room = Limits(limits.volume, limits.budget, limits.items)
    for i in range(len(books)):
        v, b, k = _usage(books, choices, i)
        room.volume, room.budget, room.items = room.volume - v, room.budget - b, room.items - k
    improved = True
    while improved and search_clock() < deadline:
        improved = _moves(books=books, choices=choices, room=room, candidates=candidates)
        swapped, late = _swaps(books=books, choices=choices, room=room, candidates=candidates, deadline=deadline)
        if late:
            return
        improved = improved or swapped
