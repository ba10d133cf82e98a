"""The cargo planner's LP relaxation: both books of each item walked together (step 2 of :mod:`market.planner`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from market.planner_types import Books, BuyOrder, Item, SellOrder

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
