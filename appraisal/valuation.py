"""Depth-aware valuation of appraisal lines against one station's order book (pure functions, no database).

Definitions (the README's "Appraisal" section repeats them):

- ``sell`` of a quantity = what buying it from the sell book costs: the sell orders from the lowest
  price up, each giving up to its ``volume_remain`` units, summed as price x units taken, in walk order
  with plain float additions (the same bits on every Python: 3.12's ``sum`` compensates, 3.11's does not).
- ``buy`` = what selling it into the buy book gets: the buy orders from the highest price down (an order
  whose ``min_volume`` exceeds the units still to sell is skipped), summed, less the sales tax:
  ``gross x (1 - sales_tax / 100)``.
- A book shallower than the quantity: the units it cannot take are valued at the last (worst) price the
  walk reached on that side, and the line is flagged ``thin_book`` (``sell_unfilled`` / ``buy_unfilled``
  say how many units, per side). A side with no usable order at all is worth 0 (``no_sell_orders`` /
  ``no_buy_orders``, and ``thin_book``).
- ``split`` = ``(sell + buy) / 2``: the Jita split of the two depth-walked values (``buy`` after tax).
- Lines of the same type share one walk: the book is walked once for their summed quantity and the
  units are handed to the lines in paste order, so no order is counted twice and lines sum to the total.
- Blueprint copies are not valued (the market prices blueprint originals): 0 on both sides and the
  flag ``blueprint_copy``; they take no units from the book.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

Side = Literal["sell", "buy"]
FLAG_BPC, FLAG_THIN, FLAG_NO_SELL, FLAG_NO_BUY = "blueprint_copy", "thin_book", "no_sell_orders", "no_buy_orders"


class BookOrder(NamedTuple):
    """One order of a book: its price, the units it has left and the least units it trades."""

    price: float
    units: int
    min_volume: int = 1


# An order as (price, units, min_volume): a BookOrder, or a row as the selector reads it.
OrderRow = tuple[float, int, int]


class Book(NamedTuple):
    """The sell and buy orders of one type at one station (any order)."""

    sells: Sequence[OrderRow] = ()
    buys: Sequence[OrderRow] = ()


class Walk(NamedTuple):
    """Where a walk took its units: ``(price, units)`` in the order taken, and the units left over."""

    fills: list[tuple[float, int]]
    unfilled: int

    @property
    def last_price(self) -> float | None:
        """The last (worst) price reached, or None when the walk took nothing."""
        return self.fills[-1][0] if self.fills else None

    @property
    def value(self) -> float:
        """The walk's value, the units left over at the last price reached."""
        total = 0.0
        for price, units in self.fills:
            total += price * units
        return total + self.unfilled * (self.last_price or 0.0)


def book_walk(*, orders: Sequence[OrderRow], quantity: int, side: Side) -> Walk:
    """Walk one side of a book for a quantity.

    Args:
        orders: The side's orders, in any order.
        quantity: Units to buy (``sell`` side: lowest price first) or to sell (``buy`` side: highest first).
        side: ``sell`` or ``buy``.

    Returns:
        The fills and the units the book could not take.
    """
    buy = side == "buy"
    left, fills = quantity, []
    # Tuples sort by price first (ties by units, then min_volume: any order among equal prices is worth the same).
    for price, units, min_volume in sorted(orders, reverse=buy):
        if left <= 0:
            break
        if units <= 0 or (buy and min_volume > left):
            continue
        taken = min(left, units)
        fills.append((price, taken))
        left -= taken
    return Walk(fills=fills, unfilled=left)


@dataclass
class _Cursor:
    """Hands a walk's units out to lines one after another."""

    walk: Walk
    index: int = 0
    used: int = 0  # units of fills[index] already handed out

    def take(self, quantity: int) -> tuple[float, int]:
        """Take the next ``quantity`` units: (their value, how many were past the book's depth)."""
        value, left = 0.0, quantity
        fills = self.walk.fills
        while left and self.index < len(fills):
            price, units = fills[self.index]
            taken = min(left, units - self.used)
            value += price * taken
            left -= taken
            self.used += taken
            if self.used == units:
                self.index, self.used = self.index + 1, 0
        return value + left * (self.walk.last_price or 0.0), left


class LineInput(NamedTuple):
    """What valuation needs of a line."""

    type_id: int
    quantity: int
    blueprint_copy: bool = False


class LineValue(NamedTuple):
    """The values of one line (ISK) and its flags."""

    sell: float
    buy: float
    split: float
    sell_unfilled: int
    buy_unfilled: int
    flags: list[str]


def lines_value(*, lines: Sequence[LineInput], books: Mapping[int, Book], sales_tax: float) -> list[LineValue]:
    """Value lines against their types' books (see the module's definitions).

    Args:
        lines: The lines, in paste order.
        books: Book per type id (a type without one has no orders).
        sales_tax: Percent taken from what selling into the buy book gets.

    Returns:
        One value per line, in the same order.
    """
    totals: dict[int, int] = defaultdict(int)
    counts: dict[int, int] = defaultdict(int)
    for line in lines:
        if not line.blueprint_copy:
            totals[line.type_id] += line.quantity
            counts[line.type_id] += 1
    walks: dict[int, tuple[Walk, Walk]] = {}
    for type_id, quantity in totals.items():
        book = books.get(type_id, Book())
        sell_walk = book_walk(orders=book.sells, quantity=quantity, side="sell")
        walks[type_id] = (sell_walk, book_walk(orders=book.buys, quantity=quantity, side="buy"))
    # Types on several lines hand their walks out line by line; a type on one line takes its walk whole.
    cursors = {t: (_Cursor(walks[t][0]), _Cursor(walks[t][1])) for t, n in counts.items() if n > 1}
    keep = 1 - sales_tax / 100
    out: list[LineValue] = []
    for line in lines:
        if line.blueprint_copy:
            out.append(LineValue(0.0, 0.0, 0.0, 0, 0, [FLAG_BPC]))
            continue
        sell_walk, buy_walk = walks[line.type_id]
        if line.type_id in cursors:
            sell_cursor, buy_cursor = cursors[line.type_id]
            sell, sell_unfilled = sell_cursor.take(line.quantity)
            gross, buy_unfilled = buy_cursor.take(line.quantity)
        else:
            sell, sell_unfilled = sell_walk.value, sell_walk.unfilled
            gross, buy_unfilled = buy_walk.value, buy_walk.unfilled
        buy = gross * keep
        flags = [FLAG_THIN] if sell_unfilled or buy_unfilled else []
        flags += [FLAG_NO_SELL] if not sell_walk.fills else []
        flags += [FLAG_NO_BUY] if not buy_walk.fills else []
        out.append(LineValue(sell, buy, (sell + buy) / 2, sell_unfilled, buy_unfilled, flags))
    return out
