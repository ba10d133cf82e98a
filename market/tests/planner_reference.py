"""References of the cargo planner's tests: an exact optimum (integer programming) and a plan checker."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from market.planner import EPS, Item, ItemPlan, Plan


def exact_optimum(
    *, items: Sequence[Item], cargo_m3: float, budget_isk: float, sales_tax: float, max_items: int | None = None
) -> float:
    """The optimum of the planner's problem (see :mod:`market.planner`) by a mixed-integer program (HiGHS).

    Variables per item: units bought from each sell order, units sold to each buy order, a switch per buy order
    (``q >= min_volume * y``, ``q <= volume_remain * y``) and one per item (for ``max_items``).

    Returns:
        The best total profit (0 when nothing profits).
    """
    keep = 1 - sales_tax / 100
    cols: list[tuple[float, float, float, bool]] = []  # (objective, lower, upper, integer)
    rows: list[tuple[dict[int, float], float, float]] = []
    volume_row: dict[int, float] = {}
    cost_row: dict[int, float] = {}
    count_row: dict[int, float] = {}

    def col(objective: float, upper: float) -> int:
        cols.append((objective, 0.0, upper, True))
        return len(cols) - 1

    for item in items:
        total = sum(o.volume_remain for o in item.sells)
        if total <= 0 or not item.buys:
            continue
        balance: dict[int, float] = {}
        switch = col(0.0, 1.0)
        count_row[switch] = 1.0
        for order in item.sells:
            x = col(-order.price, float(order.volume_remain))
            balance[x] = 1.0
            if item.unit_volume:
                volume_row[x] = item.unit_volume
            cost_row[x] = order.price
            rows.append(({x: 1.0, switch: -float(total)}, -math.inf, 0.0))
        for bid in item.buys:
            q = col(bid.price * keep, float(bid.volume_remain))
            y = col(0.0, 1.0)
            balance[q] = -1.0
            rows.append(({q: 1.0, y: -float(max(bid.min_volume, 1))}, 0.0, math.inf))
            rows.append(({q: 1.0, y: -float(bid.volume_remain)}, -math.inf, 0.0))
        rows.append((balance, 0.0, 0.0))
    if not cols:
        return 0.0
    rows.append((volume_row, -math.inf, cargo_m3))
    rows.append((cost_row, -math.inf, budget_isk))
    if max_items is not None:
        rows.append((count_row, -math.inf, float(max_items)))
    matrix = np.zeros((len(rows), len(cols)))
    for r, (coefs, _, _) in enumerate(rows):
        for c, value in coefs.items():
            matrix[r, c] = value
    result = milp(
        c=-np.array([c[0] for c in cols]),
        integrality=np.ones(len(cols)),
        bounds=Bounds([c[1] for c in cols], [c[2] for c in cols]),
        constraints=LinearConstraint(matrix, [r[1] for r in rows], [r[2] for r in rows]),
        options={"mip_rel_gap": 1e-9, "presolve": False},  # presolve got tiny books wrong (HiGHS 1.x)
    )
    assert result.status == 0, result.message
    return max(0.0, -float(result.fun))


def _fills_check(part: ItemPlan, item: Item) -> None:
    """Assert that an item's fills respect its orders, cheapest sells and highest buys first."""
    sells = {o.order_id: o for o in item.sells}
    buys = {o.order_id: o for o in item.buys}
    assert sum(f.units for f in part.buy_orders) == part.units
    assert sum(f.units for f in part.sell_orders) == part.units
    assert len({f.order_id for f in part.buy_orders}) == len(part.buy_orders)
    assert len({f.order_id for f in part.sell_orders}) == len(part.sell_orders)
    bought = {f.order_id: f.units for f in part.buy_orders}
    for fill in part.buy_orders:
        order = sells[fill.order_id]
        assert fill.price == order.price
        assert 0 < fill.units <= order.volume_remain
    for order in item.sells:  # cheapest first: a cheaper order is used up before a dearer one is touched
        if bought.get(order.order_id, 0) < order.volume_remain:
            assert all(sells[o].price <= order.price for o in bought if o != order.order_id)
    sold = {f.order_id: f.units for f in part.sell_orders}
    for fill in part.sell_orders:
        bid = buys[fill.order_id]
        assert fill.price == bid.price
        assert max(bid.min_volume, 1) <= fill.units <= bid.volume_remain
    for high in item.buys:  # highest first: no unit would earn more in another buy order
        has = sold.get(high.order_id, 0)
        if has >= high.volume_remain or (has == 0 and max(high.min_volume, 1) > 1):
            continue
        for low in item.buys:
            q = sold.get(low.order_id, 0)
            if low.price < high.price and q > 0 and (q - 1 >= max(low.min_volume, 1) or q == 1 == low.min_volume):
                raise AssertionError(f"a unit sold at {low.price} would earn {high.price}")


def plan_check(
    *,
    plan: Plan,
    items: Sequence[Item],
    cargo_m3: float,
    budget_isk: float,
    sales_tax: float,
    max_items: int | None = None,
) -> None:
    """Recompute a plan from the orders and assert that it is feasible and its money adds up.

    Checks every order's ``volume_remain`` and ``min_volume``, the hold, the wallet and the item count; the
    cost, revenue, taxes, profit and volume of every item and of the plan; units bought from the cheapest sell
    orders first; and that no single unit moved between two buy orders would earn more (highest first).
    """
    by_type = {item.type_id: item for item in items}
    assert len({p.type_id for p in plan.items}) == len(plan.items)
    if max_items is not None:
        assert len(plan.items) <= max_items
    totals = {"cost": 0.0, "revenue": 0.0, "taxes": 0.0, "profit": 0.0, "volume": 0.0}
    for part in plan.items:
        item = by_type[part.type_id]
        assert part.units > 0
        _fills_check(part, item)
        cost = sum(f.price * f.units for f in part.buy_orders)
        revenue = sum(f.price * f.units for f in part.sell_orders)
        taxes = revenue * sales_tax / 100
        for name, value, expected in (
            ("cost", part.cost, cost),
            ("revenue", part.revenue, revenue),
            ("taxes", part.taxes, taxes),
            ("profit", part.profit, revenue - taxes - cost),
            ("volume", part.volume_m3, part.units * item.unit_volume),
        ):
            assert math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-6), (name, value, expected)
            totals[name] += expected
    for name, value in (
        ("cost", plan.total_cost),
        ("revenue", plan.total_revenue),
        ("taxes", plan.total_taxes),
        ("profit", plan.total_profit),
        ("volume", plan.total_volume_m3),
    ):
        assert math.isclose(value, totals[name], rel_tol=1e-9, abs_tol=1e-6), (name, value, totals[name])
    assert totals["volume"] <= cargo_m3 + EPS * max(1.0, cargo_m3)
    assert totals["cost"] <= budget_isk + EPS * max(1.0, budget_isk)
