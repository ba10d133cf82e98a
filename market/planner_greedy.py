"""The cargo planner's relaxation and greedy (steps 2 and 3 of :mod:`market.planner`); pure, no I/O.

Only the items the greedy reaches get their full books and options built (:class:`market.planner.ItemBook`):
every item is first queued by an upper bound on the density of any of its moves (its best bid after tax less
its best ask, per priced resource of one unit), so an item's real moves are never queued too late.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import cast

import numpy as np

from market.planner import EPS, Books, BuyOrder, Choice, Item, ItemBook, Limits, SellOrder

# Moves the greedy still tries after the first one that did not fit (small items filling the rest).
FILL_TRIES = 600
# Items the local search moves on large instances (those nearest the margin).
LOCAL_ITEMS = 40


_SHIFT = 42  # sort keys: item index << 42 | units walked (books of up to 4e12 units)


@dataclass(frozen=True)
class Relaxed:
    """The LP relaxation's segments (both books walked together, ``min_volume`` dropped), and more.

    Per item that has a segment: its best unit profit, its cheapest ask and its total profit; and the books
    grouped by item.
    """

    units: np.ndarray
    profit: np.ndarray
    volume: np.ndarray
    cost: np.ndarray
    items: list[int]
    first_profit: list[float]
    first_ask: list[float]
    total_profit: list[float]
    sells: np.ndarray
    sell_start: np.ndarray
    buys: np.ndarray
    buy_start: np.ndarray

    def item(self, books: Books, i: int) -> Item:
        """Item ``i`` with its orders."""
        s = self.sells[self.sell_start[i] : self.sell_start[i + 1]]
        b = self.buys[self.buy_start[i] : self.buy_start[i + 1]]
        sells = zip(
            books.sell_order[s].tolist(), books.sell_price[s].tolist(), books.sell_remain[s].tolist(), strict=True
        )
        buys = zip(
            books.buy_order[b].tolist(),
            books.buy_price[b].tolist(),
            books.buy_remain[b].tolist(),
            books.buy_min[b].tolist(),
            strict=True,
        )
        return Item(
            int(books.type_ids[i]),
            float(books.unit_volumes[i]),
            cast(list[SellOrder], list(sells)),  # plain tuples in the orders' field order
            cast(list[BuyOrder], list(buys)),
        )


def _grouped(item: np.ndarray, key: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Order rows by item then ``key``; return the order and each item's first row."""
    by_key = np.argsort(key, kind="stable")
    order = by_key[np.argsort(item[by_key], kind="stable")]
    return order, np.searchsorted(item[order], np.arange(count + 1))


def _firsts(order: np.ndarray, start: np.ndarray, prices: np.ndarray) -> np.ndarray:
    """The price of each item's first order (any value for items without one)."""
    if not len(order):
        return np.zeros(len(start) - 1)
    return prices[order[np.minimum(start[:-1], len(order) - 1)]]


def _totals(item: np.ndarray, remain: np.ndarray, count: int) -> np.ndarray:
    """Units of each item's usable orders."""
    real = item < count
    return np.bincount(item[real], weights=remain[real], minlength=count).astype(np.int64)


def relaxed_segments(*, books: Books, keep: float) -> Relaxed:
    """Walk every item's books together (cheapest sells, highest buys) while a unit still profits, in numpy.

    The units walked are cut at every order's end on either side; each piece has one ask and one bid.

    Args:
        books: The items' books.
        keep: ``1 - sales tax``.

    Returns:
        The segments and the items that have any.
    """
    count = len(books)
    by_type = np.argsort(books.type_ids, kind="stable")
    types = books.type_ids[by_type]
    s_item = by_type[np.searchsorted(types, books.sell_type)] if count else books.sell_type
    b_item = by_type[np.searchsorted(types, books.buy_type)] if count else books.buy_type
    s_item = np.where(books.sell_remain > 0, s_item, count)  # unusable orders go to a virtual last item
    b_item = np.where((books.buy_remain > 0) & (books.buy_min <= books.buy_remain), b_item, count)
    sells, sell_start = _grouped(s_item, books.sell_price, count)  # ties: any order (same money)
    buys, buy_start = _grouped(b_item, -books.buy_price, count)
    s_n, b_n = np.diff(sell_start), np.diff(buy_start)
    has = (s_n > 0) & (b_n > 0)
    ask0 = np.where(has, _firsts(sells, sell_start, books.sell_price), 0.0)
    bid0 = np.where(has, _firsts(buys, buy_start, books.buy_price), 0.0)
    first = bid0 * keep - ask0
    good = has & (first > 0)
    empty = np.zeros(0)
    if not good.any():
        return Relaxed(empty, empty, empty, empty, [], [], [], [], sells, sell_start, buys, buy_start)

    def ends(
        order: np.ndarray, start: np.ndarray, item: np.ndarray, remain: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each order's cumulative end within its item, and its sort key (rows of profitable items only)."""
        it = item[order]
        cum = np.cumsum(remain[order])
        before = np.concatenate(([0], cum))[start[np.minimum(it, count)]]
        end = cum - before
        return end, (it.astype(np.int64) << _SHIFT) | end

    _, s_key = ends(sells, sell_start, s_item, books.sell_remain)
    _, b_key = ends(buys, buy_start, b_item, books.buy_remain)
    s_keep = good[np.minimum(s_item[sells], count - 1)] & (s_item[sells] < count)
    b_keep = good[np.minimum(b_item[buys], count - 1)] & (b_item[buys] < count)
    points = np.sort(np.concatenate((s_key[s_keep], b_key[b_keep])))
    points = points[np.concatenate(([True], points[1:] != points[:-1]))]
    item = points >> _SHIFT
    end = points & ((1 << _SHIFT) - 1)
    start = np.where(np.concatenate(([False], item[1:] == item[:-1])), np.concatenate(([0], end[:-1])), 0)
    s_total = _totals(s_item, books.sell_remain, count)
    b_total = _totals(b_item, books.buy_remain, count)
    inside = end <= np.minimum(s_total[item], b_total[item])
    item, start, end = item[inside], start[inside], end[inside]
    lo = (item << _SHIFT) | start
    si = np.searchsorted(s_key, lo, side="right")
    bi = np.searchsorted(b_key, lo, side="right")
    ask = books.sell_price[sells[si]]
    bid = books.buy_price[buys[bi]]
    gain = bid * keep - ask
    ok = gain > 0
    units = (end - start)[ok].astype(np.float64)
    item, gain, ask = item[ok], gain[ok], ask[ok]
    total = np.bincount(item, weights=units * gain, minlength=count)
    kept = np.nonzero(good)[0]
    return Relaxed(
        units=units,
        profit=gain,
        volume=books.unit_volumes[item].astype(np.float64),
        cost=ask,
        items=kept.tolist(),
        first_profit=first[kept].tolist(),
        first_ask=ask0[kept].tolist(),
        total_profit=total[kept].tolist(),
        sells=sells,
        sell_start=sell_start,
        buys=buys,
        buy_start=buy_start,
    )


def _density(profit: float, volume: float, cost: float, lam: float, mu: float, scale: tuple[float, float]) -> float:
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
    scale = (1 / max(limits.volume, 1e-9), 1 / max(limits.budget, 1e-9))
    books: list[ItemBook] = []
    choices: list[Choice] = []
    closed: list[bool] = []
    # Entries: (-density, seq, book or item index, option (-1: the item, not built yet), units at push).
    p0 = np.asarray(relaxed.first_profit)
    a0 = np.asarray(relaxed.first_ask)
    v0 = columns.unit_volumes[relaxed.items]
    weight = lam * v0 + mu * a0 + 1e-9 * (v0 * scale[0] + a0 * scale[1])
    with np.errstate(divide="ignore"):
        first = np.where(weight > 0, p0 / np.where(weight > 0, weight, 1.0), np.inf)
    heap = [(-d, k, i, -1, 0) for k, (d, i) in enumerate(zip(first.tolist(), relaxed.items, strict=True))]
    heapq.heapify(heap)
    seq = len(heap)
    failures = 0

    def push(b: int, o: int, n: int) -> None:
        """Queue an option's next move from ``n`` units (its block first)."""
        nonlocal seq
        book = books[b]
        option = book.options[o]
        if n == 0 and option.base > 0:
            m = option.base if option.profit(option.base) > 0 else option.best_units(option.cap)
            d = _density(option.profit(m), m * book.volume, book.cost(m), lam, mu, scale)
        elif n < option.cap:
            _, bid, ask = option.segment(n)
            if bid * keep - ask <= 0:
                return
            d = _density(bid * keep - ask, book.volume, ask, lam, mu, scale)
        else:
            return
        heapq.heappush(heap, (-d, seq, b, o, n))
        seq += 1

    while heap and failures < FILL_TRIES:
        _, _, b, o, at = heapq.heappop(heap)
        if o == -1:  # build the item's book, queue its options
            book = ItemBook(relaxed.item(columns, b), keep)
            if book.options:
                books.append(book)
                choices.append(Choice())
                closed.append(False)
                for option_index in range(len(book.options)):
                    push(len(books) - 1, option_index, 0)
            if failures:
                failures += 1
            continue
        book, choice, option = books[b], choices[b], books[b].options[o]
        if closed[b] or (choice.option is not None and choice.option is not option) or choice.units != at:
            continue
        new_item = choice.option is None
        if new_item and limits.items <= 0:
            failures += 1
            continue
        if at == 0 and option.base > 0:  # the block: all of it or nothing
            n = option.base if option.profit(option.base) > 0 else option.best_units(option.cap)
            fit = n if _fits(book, 0, n, limits) == n else 0
            length = n
        else:
            length, _, _ = option.segment(at)
            fit = _fits(book, at, length, limits)
        if fit <= 0:
            failures += 1
            closed[b] = not new_item
            continue
        if new_item:
            limits.items -= 1
        limits.volume -= fit * book.volume
        limits.budget -= book.cost(at + fit) - book.cost(at)
        choices[b] = Choice(option, at + fit)
        if fit < length:
            closed[b] = True
            failures += 1
        else:
            push(b, o, at + fit)
    return books, choices


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
    from market.planner_search import best_alone

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
    from market.planner_search import core_pick

    if len(books) <= LOCAL_ITEMS:
        return list(range(len(books)))
    near = core_pick(books, choices, multipliers, LOCAL_ITEMS)
    several = [i for i, c in enumerate(choices) if c.units and len(books[i].options) > 1]
    return list(dict.fromkeys(near + several))
