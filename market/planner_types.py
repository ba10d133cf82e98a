"""The cargo planner's data: orders, books, options, choices and plans (see :mod:`market.planner`); pure."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Literal, NamedTuple

import numpy as np

# Block orders (min_volume > 1) of an item considered in every combination; lower ones are left out.
MAX_BLOCK_ORDERS = 4

# Relative slack of the two limits against float rounding (the checker uses the same).
EPS = 1e-9


def within(used: float, limit: float) -> bool:
    """Whether an amount fits a limit, with a float rounding slack."""
    return used <= limit + EPS * max(1.0, abs(limit))


class SellOrder(NamedTuple):
    """A sell order at the origin (the plan buys from it)."""

    order_id: int
    price: float
    volume_remain: int


class BuyOrder(NamedTuple):
    """A buy order at the destination (the plan sells into it)."""

    order_id: int
    price: float
    volume_remain: int
    min_volume: int


@dataclass(frozen=True)
class Item:
    """One type with its two books (orders may also be plain sequences in the same field order)."""

    type_id: int
    unit_volume: float
    sells: Sequence[SellOrder]
    buys: Sequence[BuyOrder]


@dataclass(frozen=True)
class Books:
    """Every item's books as columns (what PostgreSQL sends): orders in any order, grouped by the arrays.

    ``sell_*`` arrays are the sell orders at the origin, ``buy_*`` the buy orders at the destination; an order
    belongs to the item whose ``type_ids`` entry equals its ``*_type``.
    """

    type_ids: np.ndarray
    unit_volumes: np.ndarray
    sell_type: np.ndarray
    sell_order: np.ndarray
    sell_price: np.ndarray
    sell_remain: np.ndarray
    buy_type: np.ndarray
    buy_order: np.ndarray
    buy_price: np.ndarray
    buy_remain: np.ndarray
    buy_min: np.ndarray

    def __len__(self) -> int:
        """Number of items."""
        return len(self.type_ids)

    @classmethod
    def from_items(cls, items: Sequence[Item]) -> Books:
        """Build the columns of some items."""

        def col(values: list[Any], dtype: Any) -> np.ndarray:
            return np.asarray(values, dtype=dtype)

        sells = [(it.type_id, *o[:3]) for it in items for o in it.sells]
        buys = [(it.type_id, *o[:4]) for it in items for o in it.buys]
        return cls(
            type_ids=col([it.type_id for it in items], np.int64),
            unit_volumes=col([it.unit_volume for it in items], np.float64),
            sell_type=col([o[0] for o in sells], np.int64),
            sell_order=col([o[1] for o in sells], np.int64),
            sell_price=col([o[2] for o in sells], np.float64),
            sell_remain=col([o[3] for o in sells], np.int64),
            buy_type=col([o[0] for o in buys], np.int64),
            buy_order=col([o[1] for o in buys], np.int64),
            buy_price=col([o[2] for o in buys], np.float64),
            buy_remain=col([o[3] for o in buys], np.int64),
            buy_min=col([o[4] for o in buys], np.int64),
        )


@dataclass(frozen=True)
class Fill:
    """Units traded with one order."""

    order_id: int
    price: float
    units: int


@dataclass(frozen=True)
class ItemPlan:
    """What the plan does with one type."""

    type_id: int
    units: int
    unit_volume: float
    buy_orders: list[Fill]
    sell_orders: list[Fill]
    cost: float
    revenue: float
    taxes: float
    profit: float
    volume_m3: float


@dataclass(frozen=True)
class Plan:
    """A plan and how good it is known to be."""

    items: list[ItemPlan]
    total_cost: float
    total_revenue: float
    total_taxes: float
    total_profit: float
    total_volume_m3: float
    upper_bound: float
    method: Literal["exact", "heuristic"]
    reason: str


class Option:
    """An item's option: the block orders ``T`` it uses, sold their minimums first, then the best capacity."""

    def __init__(self, book: ItemBook, block: tuple[BuyOrder, ...], free: tuple[BuyOrder, ...]) -> None:
        """Build the option's revenue curve (extra capacity by price, highest first)."""
        self.book = book
        self.block = block
        self.base = sum(o[3] for o in block)
        self.base_revenue = sum(o[1] * o[3] for o in block)
        extra = [(o[1], o[2] - o[3], o) for o in block] + [(o[1], o[2], o) for o in free]
        extra.sort(key=lambda e: (-e[0], -e[2][2], e[2][0]))
        self.extra = [e for e in extra if e[1] > 0]
        self.ext_prices = [e[0] for e in self.extra]
        self.ext_cum = [0]
        self.ext_cum_rev = [0.0]
        for price, units, _ in self.extra:
            self.ext_cum.append(self.ext_cum[-1] + units)
            self.ext_cum_rev.append(self.ext_cum_rev[-1] + price * units)
        self.cap = min(self.base + self.ext_cum[-1], book.total_units)

    def revenue(self, n: int) -> float:
        """Gross revenue of selling ``n >= base`` units."""
        e = n - self.base
        k = bisect_right(self.ext_cum, e) - 1
        rev = self.ext_cum_rev[k]
        if e > self.ext_cum[k]:
            rev += (e - self.ext_cum[k]) * self.ext_prices[k]
        return self.base_revenue + rev

    def profit(self, n: int) -> float:
        """Profit of ``n`` units (``base <= n <= cap``)."""
        return self.revenue(n) * self.book.keep - self.book.cost(n)

    def marginal(self, n: int, lam: float, mu: float) -> float:
        """Reduced profit of unit ``n + 1`` (from ``n >= base``) at multipliers ``lam`` (per m3), ``mu`` (per ISK)."""
        bid = self.ext_prices[bisect_right(self.ext_cum, n - self.base) - 1]
        ask = self.book.ask(n)
        return bid * self.book.keep - (1 + mu) * ask - lam * self.book.volume

    def best_units(self, hi: int, lam: float = 0.0, mu: float = 0.0) -> int:
        """The ``n`` in ``[base, hi]`` that maximises ``P(n) - lam*v*n - mu*cost(n)`` (concave: a bisection)."""
        lo, hi = self.base, min(hi, self.cap)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.marginal(mid, lam, mu) > 0:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def segment(self, n: int) -> tuple[int, float, float]:
        """From ``n >= base`` units: how many more units share one bid and one ask, and those two prices."""
        e = n - self.base
        ke = bisect_right(self.ext_cum, e) - 1
        ka = bisect_right(self.book.cum_units, n) - 1
        length = min(self.ext_cum[ke + 1] - e, self.book.cum_units[ka + 1] - n, self.cap - n)
        return length, self.ext_prices[ke], self.book.ask_prices[ka]


class ItemBook:
    """An item's books, sorted and reduced to what can profit, with its options."""

    def __init__(self, item: Item, keep: float) -> None:
        """Sort the books (cheapest sells, highest buys), drop orders that never profit, build the options."""
        self.item = item
        self.keep = keep
        self.volume = item.unit_volume
        sells = sorted((o for o in item.sells if o[2] > 0), key=lambda o: (o[1], -o[2], o[0]))
        min_ask = sells[0][1] if sells else math.inf
        # A buy order at or below the cheapest ask (after tax) only loses: dropping it never hurts a plan.
        buys = sorted(
            (o for o in item.buys if o[2] > 0 and max(o[3], 1) <= o[2] and o[1] * keep > min_ask),
            key=lambda o: (-o[1], -o[2], o[0]),
        )
        # No plan sells more than the buy orders take: the sell orders past that many units are never used.
        sellable, kept = sum(o[2] for o in buys), []
        for o in sells:
            if sellable <= 0:
                break
            kept.append(o)
            sellable -= o[2]
        sells = kept
        self.buys = buys
        self.truncated = sum(1 for o in buys if o[3] > 1) > MAX_BLOCK_ORDERS
        self.sells = sells
        self.ask_prices = [o[1] for o in sells]
        self.cum_units = [0]
        self.cum_cost = [0.0]
        for o in sells:
            self.cum_units.append(self.cum_units[-1] + o[2])
            self.cum_cost.append(self.cum_cost[-1] + o[1] * o[2])
        self.total_units = self.cum_units[-1]
        blocks = [o for o in buys if o[3] > 1][:MAX_BLOCK_ORDERS]
        free = tuple(o for o in buys if o[3] <= 1)
        self.options: list[Option] = []
        for size in range(len(blocks) + 1):
            for chosen in combinations(blocks, size):
                option = Option(self, chosen, free)
                if option.base <= option.cap and option.cap > 0 and option.profit(option.best_units(option.cap)) > 0:
                    self.options.append(option)

    def cost(self, n: int) -> float:
        """Cost of the ``n`` cheapest units."""
        k = bisect_right(self.cum_units, n) - 1
        cost = self.cum_cost[k]
        if n > self.cum_units[k]:
            cost += (n - self.cum_units[k]) * self.ask_prices[k]
        return cost

    def ask(self, n: int) -> float:
        """Price of unit ``n + 1``."""
        return self.ask_prices[bisect_right(self.cum_units, n) - 1]

    def units_within(self, volume: float, budget: float) -> int:
        """Most units whose volume and cost fit (capped by the sell book)."""
        if volume < 0 or budget < 0:
            return 0
        n = self.total_units
        if self.volume > 0:
            n = min(n, int(min(volume / self.volume * (1 + EPS) + EPS, 2**62)))
        k = bisect_right(self.cum_cost, budget) - 1  # whole orders affordable
        if k < len(self.sells):
            slack = budget - self.cum_cost[k]
            extra = int(slack / self.ask_prices[k] * (1 + EPS) + EPS) if self.ask_prices[k] > 0 else n
            n = min(n, self.cum_units[k] + min(extra, self.sells[k][2] - 1))
        while n > 0 and not (within(self.cost(n), budget) and within(n * self.volume, volume)):
            n -= 1
        return max(n, 0)


@dataclass
class Choice:
    """An item's chosen option and units (``option`` None: not carried)."""

    option: Option | None = None
    units: int = 0

    def profit(self) -> float:
        """The choice's profit."""
        return 0.0 if self.option is None or self.units == 0 else self.option.profit(self.units)


@dataclass
class Limits:
    """What is left of the hold, the wallet and the item count."""

    volume: float
    budget: float
    items: int
