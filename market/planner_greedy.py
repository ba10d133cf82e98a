"""The cargo planner's greedy and starts (step 3 of :mod:`market.planner`); pure, no I/O.

Only the items the greedy reaches get their full books and options built (:class:`market.planner.ItemBook`):
every item is first queued by an upper bound on the density of any of its moves (its best bid after tax less
its best ask, per priced resource of one unit), so an item's real moves are never queued too late.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from market.planner_relax import Relaxed
from market.planner_search import best_alone, core_pick
from market.planner_types import EPS, Books, Choice, ItemBook, Limits, Option

# Moves the greedy still tries after the first one that did not fit (small items filling the rest).
FILL_TRIES = 600
# Items the local search moves on large instances (those nearest the margin).
LOCAL_ITEMS = 40


def _density(profit: float, volume: float, cost: float, *, lam: float, mu: float, scale: tuple[float, float]) -> float:
    """Profit per unit of priced resource (a tiny share of both limits keeps the weight positive)."""
    weight = lam * volume + mu * cost + 1e-9 * (volume * scale[0] + cost * scale[1])
    return profit / weight if weight > 0 else math.inf


def _fits(book: ItemBook, n: int, extra: int, limits: Limits) -> int:
    """Most of ``extra`` more units (from ``n``) that fit the hold and the wallet."""
    fit = extra
    if book.volume > 0:
        fit = min(fit, int(min(limits.volume / book.volume * (1 + EPS) + EPS, 2**62)))
    ask = book.ask(n)
    if ask > 0:
        fit = min(fit, int(min(limits.budget / ask * (1 + EPS) + EPS, 2**62)))
    base = book.cost(n)
    while fit > 0 and not (
        fit * book.volume <= limits.volume + EPS * max(1.0, limits.volume)
        and book.cost(n + fit) - base <= limits.budget + EPS * max(1.0, limits.budget)
    ):
        fit -= 1
    return max(fit, 0)


def _block_units(option: Option) -> int:
    """Units of an option's block move: its base when that profits, else its best units."""
    return option.base if option.profit(option.base) > 0 else option.best_units(option.cap)


class _Greedy:
    """The greedy's state: the books built so far, their choices and the queue of moves."""

    def __init__(self, *, columns: Books, relaxed: Relaxed, keep: float, limits: Limits, lam: float, mu: float) -> None:
        self.columns, self.relaxed, self.keep, self.limits = columns, relaxed, keep, limits
        self.lam, self.mu = lam, mu
        self.scale = (1 / max(limits.volume, 1e-9), 1 / max(limits.budget, 1e-9))
        self.books: list[ItemBook] = []
        self.choices: list[Choice] = []
        self.closed: list[bool] = []
        # Entries: (-density, seq, book or item index, option (-1: the item, not built yet), units at push).
        p0 = np.asarray(relaxed.first_profit)
        a0 = np.asarray(relaxed.first_ask)
        v0 = columns.unit_volumes[relaxed.items]
        weight = lam * v0 + mu * a0 + 1e-9 * (v0 * self.scale[0] + a0 * self.scale[1])
        with np.errstate(divide="ignore"):
            first = np.where(weight > 0, p0 / np.where(weight > 0, weight, 1.0), np.inf)
        self.heap = [(-d, k, i, -1, 0) for k, (d, i) in enumerate(zip(first.tolist(), relaxed.items, strict=True))]
        heapq.heapify(self.heap)
        self.seq = len(self.heap)
        self.failures = 0

    def push(self, b: int, o: int, n: int) -> None:
        """Queue an option's next move from ``n`` units (its block first)."""
        book = self.books[b]
        option = book.options[o]
        if n == 0 and option.base > 0:
            m = _block_units(option)
            d = _density(option.profit(m), m * book.volume, book.cost(m), lam=self.lam, mu=self.mu, scale=self.scale)
        elif n < option.cap:
            _, bid, ask = option.segment(n)
            if bid * self.keep - ask <= 0:
                return
            d = _density(bid * self.keep - ask, book.volume, ask, lam=self.lam, mu=self.mu, scale=self.scale)
        else:
            return
        heapq.heappush(self.heap, (-d, self.seq, b, o, n))
        self.seq += 1

    def build(self, i: int) -> None:
        """Build item ``i``'s book and queue its options."""
        book = ItemBook(self.relaxed.item(self.columns, i), self.keep)
        if book.options:
            self.books.append(book)
            self.choices.append(Choice())
            self.closed.append(False)
            for option_index in range(len(book.options)):
                self.push(len(self.books) - 1, option_index, 0)
        if self.failures:
            self.failures += 1

    def take(self, b: int, o: int, at: int) -> None:
        """Take as much of a queued move as fits (a block whole or not at all)."""
        book, choice, option = self.books[b], self.choices[b], self.books[b].options[o]
        if self.closed[b] or (choice.option is not None and choice.option is not option) or choice.units != at:
            return
        limits = self.limits
        new_item = choice.option is None
        if new_item and limits.items <= 0:
            self.failures += 1
            return
        if at == 0 and option.base > 0:  # the block: all of it or nothing
            n = _block_units(option)
            fit = n if _fits(book, 0, n, limits) == n else 0
            length = n
        else:
            length, _, _ = option.segment(at)
            fit = _fits(book, at, length, limits)
        if fit <= 0:
            self.failures += 1
            self.closed[b] = not new_item
            return
        if new_item:
            limits.items -= 1
        limits.volume -= fit * book.volume
        limits.budget -= book.cost(at + fit) - book.cost(at)
        self.choices[b] = Choice(option, at + fit)
        if fit < length:
            self.closed[b] = True
            self.failures += 1
        else:
            self.push(b, o, at + fit)

    def run(self) -> tuple[list[ItemBook], list[Choice]]:
        """Take moves until the queue is empty or too many in a row did not fit."""
        while self.heap and self.failures < FILL_TRIES:
            _, _, b, o, at = heapq.heappop(self.heap)
            if o == -1:
                self.build(b)
            else:
                self.take(b, o, at)
        return self.books, self.choices


def greedy(
    *, columns: Books, relaxed: Relaxed, keep: float, limits: Limits, lam: float, mu: float
) -> tuple[list[ItemBook], list[Choice]]:
    """Take moves by density (blocks whole, segments cut to whole units) until nothing more fits.

    Args:
        columns: The items' books.
        relaxed: Their relaxation (which items can profit, and the bound of each one's density).
        keep: ``1 - sales tax``.
        limits: The hold, the wallet and the item count (used up in place).
        lam: Hold multiplier.
        mu: Wallet multiplier.

    Returns:
        The books built (the items reached) and a choice for each.
    """
    return _Greedy(columns=columns, relaxed=relaxed, keep=keep, limits=limits, lam=lam, mu=mu).run()


def by_item(
    *,
    columns: Books,
    relaxed: Relaxed,
    keep: float,
    books: list[ItemBook],
    starts: list[list[Choice]],
    limits: Limits,
) -> tuple[list[ItemBook], list[list[Choice]]]:
    """Add a start for a binding item count: the items of best profit alone, each given its best units.

    Items are looked at in the order of a bound on their profit alone, until that bound falls below the
    ``max_items``-th best profit found; the books of the items that get looked at are built.

    Args:
        columns: The items' books.
        relaxed: Their relaxation.
        keep: ``1 - sales tax``.
        books: The books built so far (extended in place).
        starts: The starts so far (each extended with empty choices for new books).
        limits: The hold, the wallet and the item count (used up in place).

    Returns:
        The books and the starts, the new one last.
    """
    built = {b.item.type_id: k for k, b in enumerate(books)}
    bounds = []
    for i, p0, a0, total in zip(
        relaxed.items, relaxed.first_profit, relaxed.first_ask, relaxed.total_profit, strict=True
    ):
        v = float(columns.unit_volumes[i])
        bound = min(
            total, p0 * limits.volume / v if v > 0 else math.inf, p0 * limits.budget / a0 if a0 > 0 else math.inf
        )
        bounds.append((-bound, i))
    bounds.sort()
    found: list[tuple[float, int]] = []  # a min-heap of the best profits alone
    for neg, i in bounds:
        if len(found) >= limits.items and -neg <= found[0][0]:
            break
        k = built.get(int(columns.type_ids[i]))
        if k is None:
            book = ItemBook(relaxed.item(columns, i), keep)
            if not book.options:
                continue
            books.append(book)
            for start in starts:
                start.append(Choice())
            k = built[book.item.type_id] = len(books) - 1
        gain = best_alone(books[k], limits.volume, limits.budget)[2]
        if gain > 0:
            heapq.heappush(found, (gain, k))
            if len(found) > limits.items:
                heapq.heappop(found)
    choices = [Choice() for _ in books]
    for _, k in sorted(found, reverse=True):
        if limits.items <= 0:
            break
        option, n, gain = best_alone(books[k], limits.volume, limits.budget)
        if option is not None and gain > 0:
            choices[k] = Choice(option, n)
            limits.volume -= n * books[k].volume
            limits.budget -= books[k].cost(n)
            limits.items -= 1
    return books, [*starts, choices]


def candidates(books: list[ItemBook], choices: list[Choice], multipliers: tuple[float, float]) -> list[int]:
    """Items the local search may move.

    All of them on small instances, else those nearest the margin and the carried items with several options.
    """
    if len(books) <= LOCAL_ITEMS:
        return list(range(len(books)))
    near = core_pick(books, choices, multipliers, LOCAL_ITEMS)
    several = [i for i, c in enumerate(choices) if c.units and len(books[i].options) > 1]
    return list(dict.fromkeys(near + several))
