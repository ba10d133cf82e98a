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
   multiplier pairs), the other items fixed, within a budget of the calling thread's CPU time (load slows the
   search; it does not cut it short).

Guarantee: every plan is feasible. When every item is in the core and the search finishes, the plan is optimal
(``method = "exact"``; the tests compare it with an integer program). Otherwise (``method = "heuristic"``) it is
the best found, and ``total_profit / upper_bound`` is a proven lower bound on its ratio to the optimum (on large
books the loss is about one item near the margin; the benchmark prints the ratio). Nothing is promised per
instance for medium books (a few items with hundreds of units and large minimums, where the search is cut by its
budget): the tests measure at least 98 % on average there. ``max_items`` and the block orders left out by
:data:`MAX_BLOCK_ORDERS` are not in the relaxation, which stays an upper bound.
"""

from __future__ import annotations

from collections.abc import Sequence

from market.planner_greedy import by_item, candidates, greedy
from market.planner_relax import relaxed_segments
from market.planner_search import core_search, local_improve, lp_dual, search_clock
from market.planner_types import (
    EPS,
    MAX_BLOCK_ORDERS,
    Books,
    BuyOrder,
    Choice,
    Fill,
    Item,
    ItemBook,
    ItemPlan,
    Limits,
    Option,
    Plan,
    SellOrder,
    within,
)

__all__ = [
    "EPS",
    "MAX_BLOCK_ORDERS",
    "Books",
    "BuyOrder",
    "Choice",
    "Fill",
    "Item",
    "ItemBook",
    "ItemPlan",
    "Limits",
    "Option",
    "Plan",
    "SellOrder",
    "haul_plan_solve",
    "within",
]

# Items re-optimised by the core search on large instances, and its budget (CPU seconds of the calling thread).
CORE_ITEMS = 10
SEARCH_SECONDS = 0.06


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
        search_seconds: CPU-time budget of the local and core searches (this thread's, so load does not cut it).

    Returns:
        The plan (feasible; see the module docstring for how close to optimal).
    """
    start = search_clock()
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
