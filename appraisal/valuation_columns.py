"""Depth-aware valuation on numpy columns: :func:`appraisal.valuation.lines_value` for thousands of lines at once.

The service values a paste here; ``lines_value`` stays the definition, and this module computes the same numbers
to the last bit. The walk of a type's side takes the sorted orders' units up to the type's total quantity; a
line's value sums ``price x units`` over the fills it takes, in walk order, starting from zero, then adds its units
past the book's depth at the last price reached. numpy's element-wise operations round like Python's, and the
sums are made one fill at a time, in the same order, so no rounding differs.

Types the columns cannot walk exactly go through ``lines_value`` itself: a buy order with a ``min_volume`` above 1
(the walk may skip it, which depends on the units still to sell), a price that is not a positive finite number,
a line of no units, and quantities or order sizes too large for 64-bit sums.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import NamedTuple, cast

import numpy as np
import numpy.typing as npt

from appraisal.valuation import (
    FLAG_BPC,
    FLAG_NO_BUY,
    FLAG_NO_SELL,
    FLAG_THIN,
    Book,
    LineInput,
    LineValue,
    OrderRow,
    lines_value,
)

# Larger order sizes, type totals and paste totals go through lines_value: below them, every sum fits an int64.
MAX_ORDER_UNITS = 2**40
MAX_TYPE_QUANTITY = 2**48
MAX_PASTE_QUANTITY = 2**60

Ints = npt.NDArray[np.int64]


class BookColumns(NamedTuple):
    """The orders of some types at one station as columns, in any order."""

    type_ids: Ints
    buy: npt.NDArray[np.bool_]
    prices: npt.NDArray[np.float64]
    units: Ints
    min_volumes: Ints

    def books(self, type_ids: Collection[int] | None = None) -> dict[int, Book]:
        """The books of the types (all, or some) as rows; types without orders here are absent."""
        keep = slice(None) if type_ids is None else np.isin(self.type_ids, list(type_ids))
        sells: dict[int, list[OrderRow]] = {}
        buys: dict[int, list[OrderRow]] = {}
        for type_id, buy, price, units, min_volume in zip(
            self.type_ids[keep].tolist(),
            self.buy[keep].tolist(),
            self.prices[keep].tolist(),
            self.units[keep].tolist(),
            self.min_volumes[keep].tolist(),
            strict=True,
        ):
            (buys if buy else sells).setdefault(type_id, []).append((price, units, min_volume))
        return {t: Book(sells=sells.get(t, ()), buys=buys.get(t, ())) for t in sells.keys() | buys.keys()}


class _Lines(NamedTuple):
    """The lines valued on columns: their indexes in the paste, types (positions), quantities and first unit."""

    indexes: list[int]
    positions: Ints
    quantities: Ints
    starts: Ints  # units of the type's earlier lines (where this line's units begin in the walk)


class _Walks(NamedTuple):
    """Every type's walks, as fills in walk order with coordinates that grow across sides and types."""

    taken: Ints  # per side (position * 2 + buy): units taken
    last_price: npt.NDArray[np.float64]  # per side: the last price reached (0 without fills)
    origin: Ints  # per side: where its coordinates begin
    fill_starts: Ints  # per fill: its first unit (coordinate)
    fill_ends: Ints  # per fill: past its last unit (coordinate)
    fill_prices: npt.NDArray[np.float64]


def lines_value_columns(*, lines: Sequence[LineInput], columns: BookColumns, sales_tax: float) -> list[LineValue]:
    """Value lines against their types' orders, as :func:`appraisal.valuation.lines_value` does (equal values).

    Args:
        lines: The lines, in paste order.
        columns: The orders of the lines' types at the station (other types' orders are ignored).
        sales_tax: Percent taken from what selling into the buy book gets.

    Returns:
        One value per line, in the same order.
    """
    totals: dict[int, int] = {}
    odd: set[int] = set()  # types with a line of no units (never from a paste)
    for type_id, quantity, blueprint_copy in lines:
        if not blueprint_copy:
            totals[type_id] = totals.get(type_id, 0) + quantity
            if quantity < 1:
                odd.add(type_id)
    slow = _slow_types(columns, totals) | odd
    out = cast("list[LineValue]", [None] * len(lines))  # every index is set below
    types = np.array(sorted(t for t in totals if t not in slow), dtype=np.int64)
    fast, slow_indexes = _fast_lines(lines, types, slow, out)
    if slow_indexes:
        values = lines_value(lines=[lines[i] for i in slow_indexes], books=columns.books(slow), sales_tax=sales_tax)
        for index, value in zip(slow_indexes, values, strict=True):
            out[index] = value
    if not fast.indexes:
        return out
    quantities = np.array([totals[t] for t in types.tolist()], dtype=np.int64)
    walks = _walks(columns, types, quantities)
    sell, sell_unfilled = _hand_out(walks, fast, side=0)
    gross, buy_unfilled = _hand_out(walks, fast, side=1)
    buy = gross * (1 - sales_tax / 100)
    no_sell = (walks.taken[fast.positions * 2] == 0).tolist()
    no_buy = (walks.taken[fast.positions * 2 + 1] == 0).tolist()
    for index, s, b, split, su, bu, ns, nb in zip(
        fast.indexes,
        sell.tolist(),
        buy.tolist(),
        ((sell + buy) / 2).tolist(),
        sell_unfilled.tolist(),
        buy_unfilled.tolist(),
        no_sell,
        no_buy,
        strict=True,
    ):
        flags = [FLAG_THIN] if su or bu else []
        if ns:
            flags.append(FLAG_NO_SELL)
        if nb:
            flags.append(FLAG_NO_BUY)
        out[index] = LineValue(s, b, split, su, bu, flags)
    return out


def _slow_types(columns: BookColumns, totals: dict[int, int]) -> set[int]:
    """The types valued by ``lines_value``: a walk the columns cannot reproduce, or numbers too large."""
    prices = columns.prices
    odd = (columns.units > 0) & ((columns.buy & (columns.min_volumes > 1)) | (columns.units > MAX_ORDER_UNITS))
    odd |= ~np.isfinite(prices) | ~(prices > 0)  # even on an order the walk skips: a NaN upsets its sort
    slow = set(columns.type_ids[odd].tolist())
    if sum(totals.values()) > MAX_PASTE_QUANTITY:
        return slow | totals.keys()
    return slow | {t for t, quantity in totals.items() if quantity > MAX_TYPE_QUANTITY}


def _fast_lines(
    lines: Sequence[LineInput], types: Ints, slow: set[int], out: list[LineValue]
) -> tuple[_Lines, list[int]]:
    """The lines valued on columns (with where each one's units begin in its type's walk), and the slow ones.

    Blueprint copies get their value in ``out`` here.
    """
    position = {t: i for i, t in enumerate(types.tolist())}
    taken: dict[int, int] = {}
    indexes, positions, quantities, starts, slow_indexes = [], [], [], [], []
    for index, (type_id, quantity, blueprint_copy) in enumerate(lines):
        if blueprint_copy:
            out[index] = LineValue(0.0, 0.0, 0.0, 0, 0, [FLAG_BPC])
            continue
        if type_id in slow:
            slow_indexes.append(index)
            continue
        start = taken.get(type_id, 0)
        taken[type_id] = start + quantity
        indexes.append(index)
        positions.append(position[type_id])
        quantities.append(quantity)
        starts.append(start)
    fast = _Lines(
        indexes,
        np.array(positions, dtype=np.int64),
        np.array(quantities, dtype=np.int64),
        np.array(starts, dtype=np.int64),
    )
    return fast, slow_indexes


def _walks(columns: BookColumns, types: Ints, quantities: Ints) -> _Walks:
    """Walk both sides of every type for its total quantity (``types`` ascending, ``quantities`` per type)."""
    sides = len(types) * 2
    # A side's coordinates span its type's quantity (and one more), so the sides' fills never interleave.
    origin = np.zeros(sides, dtype=np.int64)
    np.cumsum(np.repeat(quantities + 1, 2)[:-1], out=origin[1:])
    found = np.searchsorted(types, columns.type_ids)
    found[found == len(types)] = 0
    keep = (columns.units > 0) & (types[found] == columns.type_ids)
    side = found[keep] * 2 + columns.buy[keep]
    prices, units = columns.prices[keep], columns.units[keep]
    order = _walk_order(side, prices, units, columns.min_volumes[keep], columns.buy[keep])
    side, prices, units = side[order], prices[order], units[order]
    taken_per_side = np.zeros(sides, dtype=np.int64)
    last_price = np.zeros(sides, dtype=np.float64)
    if not len(side):
        empty = np.zeros(0, dtype=np.int64)
        return _Walks(taken_per_side, last_price, origin, empty, empty, np.zeros(0, dtype=np.float64))
    first = np.flatnonzero(np.concatenate(([True], side[1:] != side[:-1])))
    before = np.cumsum(units) - units
    before -= np.repeat(before[first], np.diff(np.append(first, len(side))))  # units of the side's better orders
    taken = np.clip(quantities[side >> 1] - before, 0, units)
    fills = taken > 0  # a prefix of each side's orders
    counts = np.add.reduceat(fills.astype(np.int64), first)
    taken_per_side[side[first]] = np.add.reduceat(taken, first)
    reached = counts > 0
    last_price[side[first][reached]] = prices[(first + counts - 1)[reached]]
    fill_starts = origin[side[fills]] + before[fills]
    return _Walks(taken_per_side, last_price, origin, fill_starts, fill_starts + taken[fills], prices[fills])


def _walk_order(
    side: Ints, prices: npt.NDArray[np.float64], units: Ints, min_volumes: Ints, buy: npt.NDArray[np.bool_]
) -> Ints:
    """The orders in walk order: by side; sells from the lowest price, buys from the highest; ties as the walk's."""
    sign = np.where(buy, -1, 1)
    price_keys = sign * prices
    order = np.argsort(price_keys)
    order = order[np.argsort(side[order], kind="stable")]
    # Orders of a side at one price go by units, then min_volume (sorting all by three keys costs twice as much).
    sorted_sides, sorted_prices = side[order], price_keys[order]
    same = (sorted_sides[1:] == sorted_sides[:-1]) & (sorted_prices[1:] == sorted_prices[:-1])
    if same.any():
        tied = np.flatnonzero(np.concatenate(([False], same)) | np.concatenate((same, [False])))
        ties = order[tied]
        keys = (sign[ties] * min_volumes[ties], sign[ties] * units[ties], price_keys[ties], side[ties])
        order[tied] = ties[np.lexsort(keys)]
    return order


def _hand_out(walks: _Walks, lines: _Lines, *, side: int) -> tuple[npt.NDArray[np.float64], Ints]:
    """Each line's share of its type's walk on one side: (its value, its units past the book's depth)."""
    sides = lines.positions * 2 + side
    begin = walks.origin[sides] + lines.starts
    end = begin + lines.quantities
    first = np.searchsorted(walks.fill_ends, begin, side="right")  # the first fill ending past the line's start
    count = np.searchsorted(walks.fill_starts, end, side="left") - first  # fills starting before its end
    value = np.zeros(len(sides), dtype=np.float64)
    active = np.flatnonzero(count > 0)
    step = 0
    while len(active):  # one fill of every line at a time: each line's sum in walk order
        fill = first[active] + step
        units = np.minimum(end[active], walks.fill_ends[fill]) - np.maximum(begin[active], walks.fill_starts[fill])
        value[active] = value[active] + walks.fill_prices[fill] * units
        step += 1
        active = active[count[active] > step]
    depth = walks.taken[sides]
    unfilled = lines.quantities - (np.minimum(lines.starts + lines.quantities, depth) - np.minimum(lines.starts, depth))
    return value + unfilled * walks.last_price[sides], unfilled
