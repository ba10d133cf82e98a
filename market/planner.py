"""The one-trip cargo planner: what to buy at one station and sell at another, within a hold and a wallet.

Pure algorithm (no I/O): :func:`haul_plan_solve` takes the books of every item and the limits and returns a plan.

The problem (exact; the tests check plans against it). Item ``i`` has a unit volume ``v_i``, sell orders ``k``
at the origin (price ``a_k``, ``volume_remain`` ``s_k``) and buy orders ``j`` at the destination (price ``b_j``,
``volume_remain`` ``r_j``, ``min_volume`` ``m_j``). A plan buys ``x_k`` units (``0 <= x_k <= s_k``) and sells
``q_j`` units, with ``q_j = 0`` or ``m_j <= q_j <= r_j``, and ``sum x_k = sum q_j = n_i`` per item. As in the
hauling rows (``market.sql``) the seller pays the sales tax ``t`` on the revenue and no broker fee is due
(both trades fill existing orders): ``profit = sum b_j q_j * (1 - t) - sum a_k x_k``. Maximise the total profit
with ``sum v_i n_i <= cargo_m3``, ``sum a_k x_k <= budget_isk`` and at most ``max_items`` items. Units are
bought from the cheapest sell orders first; for a given set of used buy orders, their minimums are met and
the other units go to the highest buy orders first (both are optimal for a fixed ``n_i``).

The method:

1. Per item, the buy orders with ``min_volume > 1`` are "block" orders. For each subset ``T`` of them (up to
   :data:`MAX_BLOCK_ORDERS` of the highest; the others are left out) an *option* sells ``sum_{T} m_j`` units
   as a block, then every further unit to the best remaining capacity. An option's profit ``P_T(n)`` is
   concave on its range ``[base_T, cap_T]``, and the item's profit is ``max_T P_T(n)`` (not concave).
2. An upper bound and the multipliers: the LP relaxation (``min_volume`` and integrality dropped) has two
   constraints; its dual ``min_{l, m >= 0} l*V + m*B + sum_s u_s (p_s - l v_s - m c_s)^+`` over the segments
   of the books (computed for every item at once in numpy, :mod:`market.planner_greedy`) is solved by a
   bisection on ``m`` with the exact ``l`` for each (:mod:`market.planner_search`). Every evaluated dual value
   bounds the optimum from above; the smallest is reported as ``upper_bound``.
3. A greedy over moves (an option's block, then its segments) by density ``profit / (l*volume + m*cost)``: the
   order in which the LP takes segments. A segment that does not fit is cut to whole units; a block that does
   not fit drops its option. Items are queued by a bound on their best density and their options built only
   when reached. When ``max_items`` binds, a second start takes the items of best profit alone.
4. A local search: moves of one item (re-planned alone in what is left: each option is concave, so its best
   units are found by bisection) and swaps of two, over the items near the LP's margin (all of them on small
   books), until none helps.
5. A core search: the items nearest the margin (all of them when there are at most :data:`CORE_ITEMS`) are
   re-optimised exactly by a depth-first branch and bound over (option, units) with Lagrangian bounds (three
   multiplier pairs), the other items fixed, within a time budget.

Guarantee: every plan is feasible. When every item is in the core and the search finishes, the plan is optimal
(``method = "exact"``; the tests compare it with an integer program). Otherwise (``method = "heuristic"``) it is
the best found, and ``total_profit / upper_bound`` is a proven lower bound on its ratio to the optimum (on large
books the loss is about one item near the margin; the benchmark prints the ratio). Nothing is promised per
instance for medium books (a few items with hundreds of units and large minimums, where the search is cut by its
budget): the tests measure at least 98 % on average there. ``max_items`` and the block orders left out by
:data:`MAX_BLOCK_ORDERS` are not in the relaxation, which stays an upper bound.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Literal, NamedTuple

import numpy as np

# Block orders (min_volume > 1) of an item considered in every combination; lower ones are left out.
MAX_BLOCK_ORDERS = 4
# Items re-optimised by the core search on large instances, and its time budget.
CORE_ITEMS = 10
SEARCH_SECONDS = 0.06

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


def _item_plan(choice: Choice, sales_tax: float) -> ItemPlan:
    """Spell out a choice: the orders used and the money."""
    option = choice.option
    if option is None:  # pragma: no cover - callers pass carried items only
        raise ValueError("not carried")
    book, n = option.book, choice.units
    buys: list[Fill] = []
    left = n
    for order in book.sells:
        if left <= 0:
            break
        take = min(left, order[2])
        buys.append(Fill(order[0], order[1], take))
        left -= take
    sold: dict[int, int] = {o[0]: o[3] for o in option.block}
    left = n - option.base
    for _, units, bid in option.extra:
        if left <= 0:
            break
        take = min(left, units)
        sold[bid[0]] = sold.get(bid[0], 0) + take
        left -= take
    by_id = {o[0]: o for o in book.item.buys}
    sells = sorted(
        (Fill(oid, by_id[oid][1], units) for oid, units in sold.items() if units > 0),
        key=lambda f: (-f.price, f.order_id),
    )
    cost = sum(f.price * f.units for f in buys)
    revenue = sum(f.price * f.units for f in sells)
    taxes = revenue * sales_tax / 100
    return ItemPlan(
        type_id=book.item.type_id,
        units=n,
        unit_volume=book.volume,
        buy_orders=buys,
        sell_orders=sells,
        cost=cost,
        revenue=revenue,
        taxes=taxes,
        profit=revenue - taxes - cost,
        volume_m3=n * book.volume,
    )


def haul_plan_solve(
    *,
    items: Sequence[Item] | Books,
    cargo_m3: float,
    budget_isk: float,
    sales_tax: float,
    max_items: int | None = None,
    search_seconds: float = SEARCH_SECONDS,
) -> Plan:
    """Plan one trip: which units of which items to buy at the origin and sell at the destination.

    Args:
        items: Every item with its sell orders at the origin and buy orders at the destination (or their columns).
        cargo_m3: The hold (m3).
        budget_isk: The wallet (ISK).
        sales_tax: Sales tax in percent, paid on the revenue (no broker fee: both trades fill orders).
        max_items: Most distinct items carried (None: no limit).
        search_seconds: Time budget of the local and core searches.

    Returns:
        The plan (feasible; see the module docstring for how close to optimal).
    """
    from market.planner_greedy import by_item, candidates, greedy, relaxed_segments
    from market.planner_search import core_search, local_improve, lp_dual

    start = time.perf_counter()
    keep = 1 - sales_tax / 100
    columns = items if isinstance(items, Books) else Books.from_items(items)
    relaxed = relaxed_segments(books=columns, keep=keep)
    if not relaxed.items:
        return _empty("no item can be bought at the origin and sold at the destination at a profit", exact=True)
    lam, mu, bound = lp_dual(segments=relaxed, cargo_m3=cargo_m3, budget_isk=budget_isk)
    cap = len(relaxed.items) if max_items is None else max_items
    books, choices = greedy(
        columns=columns, relaxed=relaxed, keep=keep, limits=Limits(cargo_m3, budget_isk, cap), lam=lam, mu=mu
    )
    starts = [choices]
    if sum(1 for c in choices if c.units) >= cap:  # the item count binds: also start from the best items alone
        books, starts = by_item(
            columns=columns,
            relaxed=relaxed,
            keep=keep,
            books=books,
            starts=starts,
            limits=Limits(cargo_m3, budget_isk, cap),
        )
    for plan_start in starts:
        local_improve(
            books=books,
            choices=plan_start,
            limits=Limits(cargo_m3, budget_isk, cap),
            candidates=candidates(books, plan_start, (lam, mu)),
            deadline=start + search_seconds / 2,
        )
    choices = max(starts, key=lambda cs: sum(c.profit() for c in cs))
    finished = core_search(
        books=books,
        choices=choices,
        limits=Limits(cargo_m3, budget_isk, cap),
        multipliers=(lam, mu),
        deadline=start + search_seconds,
        core_size=CORE_ITEMS,
    )
    everything = len(books) == len(relaxed.items) <= CORE_ITEMS
    exact = finished and everything and not any(b.truncated for b in books)
    plans = [_item_plan(c, sales_tax) for c in choices if c.option is not None and c.units > 0]
    plans.sort(key=lambda p: (-p.profit, p.type_id))
    if not plans:
        return _empty("nothing profitable fits the hold and the wallet", exact=exact, bound=bound)
    return Plan(
        items=plans,
        total_cost=sum(p.cost for p in plans),
        total_revenue=sum(p.revenue for p in plans),
        total_taxes=sum(p.taxes for p in plans),
        total_profit=sum(p.profit for p in plans),
        total_volume_m3=sum(p.volume_m3 for p in plans),
        upper_bound=bound,
        method="exact" if exact else "heuristic",
        reason="planned",
    )


def _empty(reason: str, *, exact: bool, bound: float = 0.0) -> Plan:
    """A plan that carries nothing, and why."""
    return Plan(
        items=[],
        total_cost=0.0,
        total_revenue=0.0,
        total_taxes=0.0,
        total_profit=0.0,
        total_volume_m3=0.0,
        upper_bound=bound,
        method="exact" if exact else "heuristic",
        reason=reason,
    )
