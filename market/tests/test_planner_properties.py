"""The cargo planner (market.planner) against an exact optimum (integer programming) on small random books.

Every plan is checked by :func:`market.tests.planner_reference.plan_check` (orders, min_volume, hold, wallet,
item count and the money, recomputed from the books); its profit must reach 99 % of the exact optimum.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from market.planner import BuyOrder, Item, SellOrder, haul_plan_solve
from market.tests.planner_reference import exact_optimum, plan_check

cents = st.integers(min_value=1, max_value=3000).map(lambda c: c / 100)


@st.composite
def books(draw: st.DrawFn) -> list[Item]:
    """1-4 items with 1-3 sell orders and 1-3 buy orders each (min_volume sometimes above what fits)."""
    items = []
    order_id = 1
    for type_id in range(1, draw(st.integers(1, 4)) + 1):
        sells, buys = [], []
        for _ in range(draw(st.integers(1, 3))):
            sells.append(SellOrder(order_id, draw(cents), draw(st.integers(1, 15))))
            order_id += 1
        for _ in range(draw(st.integers(1, 3))):
            remain = draw(st.integers(1, 15))
            minimum = draw(st.one_of(st.just(1), st.integers(1, 20)))
            buys.append(BuyOrder(order_id, draw(cents), remain, minimum))
            order_id += 1
        volume = draw(st.sampled_from([0.0, 0.01, 1.0, 2.5, 7.3, 50.0, 400.0]))
        items.append(Item(type_id, volume, tuple(sells), tuple(buys)))
    return items


limits = st.fixed_dictionaries(
    {
        "cargo_m3": st.floats(min_value=0, max_value=300, allow_nan=False),
        "budget_isk": st.floats(min_value=0, max_value=500, allow_nan=False),
        "sales_tax": st.sampled_from([0.0, 3.6, 8.0]),
        "max_items": st.one_of(st.none(), st.integers(1, 3)),
    }
)


def _solve_and_check(items: list[Item], **kw: float | int | None) -> tuple[float, float]:
    """Plan, check the plan, and return its profit and the exact optimum."""
    plan = haul_plan_solve(items=items, **kw)  # type: ignore[arg-type]
    plan_check(plan=plan, items=items, **kw)  # type: ignore[arg-type]
    best = exact_optimum(items=items, **kw)  # type: ignore[arg-type]
    assert plan.total_profit <= best + 1e-6 * max(1.0, best)  # no plan beats the optimum (checks the checker)
    assert plan.upper_bound >= best - 1e-6 * max(1.0, best)
    if plan.method == "exact":
        assert plan.total_profit == pytest.approx(best, rel=1e-9, abs=1e-6)
    return plan.total_profit, best


@pytest.mark.no_cover
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=books(), kw=limits)
def test_plans_are_feasible_and_reach_99_percent_of_the_optimum(items: list[Item], kw: dict) -> None:
    profit, best = _solve_and_check(items, **kw)
    assert profit >= 0.99 * best - 1e-9


def test_medium_random_books_stay_feasible_and_near_the_optimum() -> None:
    """Larger books (up to 10 items, hundreds of units, large minimums): feasible, 98 % on average, 90 % each.

    The 99 % of the issue is for small books; here the search is cut by its CPU-time budget (the thread's: time
    spent waiting for a core does not count).
    """
    ratios = []
    for seed in range(40):
        rng = random.Random(seed)
        items, order_id = [], 1
        for type_id in range(1, rng.randint(3, 10) + 1):
            sells = [SellOrder(order_id + k, round(rng.uniform(5, 15), 2), rng.randint(1, 300)) for k in range(3)]
            buys = [
                BuyOrder(
                    order_id + 3 + k,
                    round(rng.uniform(8, 20), 2),
                    rng.randint(1, 300),
                    rng.choice([1, 1, rng.randint(1, 200)]),
                )
                for k in range(3)
            ]
            order_id += 6
            items.append(Item(type_id, rng.choice([0.1, 1.0, 2.5, rng.uniform(0.5, 40)]), tuple(sells), tuple(buys)))
        kw = {
            "cargo_m3": rng.uniform(0, 3000),
            "budget_isk": rng.uniform(0, 20000),
            "sales_tax": 8.0,
            "max_items": None,
        }
        profit, best = _solve_and_check(items, **kw)
        ratios.append(profit / best if best > 0 else 1.0)
    assert sum(ratios) / len(ratios) >= 0.98
    assert min(ratios) >= 0.9


def test_large_books_give_a_feasible_plan_under_its_bound() -> None:
    """3000 items: the heuristic path (core search cut by time), checked for feasibility and against its bound."""
    rng = random.Random(7)
    items = []
    for type_id in range(3000):
        base = rng.uniform(1, 1e6)
        sells = tuple(
            SellOrder(type_id * 10 + k, round(base * rng.uniform(1.0, 1.2), 2), rng.randint(1, 5000)) for k in range(3)
        )
        buys = tuple(
            BuyOrder(
                type_id * 10 + 5 + k,
                round(base * rng.uniform(1.05, 1.3), 2),
                rng.randint(1, 5000),
                rng.choice([1] * 9 + [40]),
            )
            for k in range(3)
        )
        items.append(Item(type_id, rng.choice([0.01, 1.0, 5.0, 2500.0]), sells, buys))
    kw = {"cargo_m3": 50_000.0, "budget_isk": 3e8, "sales_tax": 8.0, "max_items": None}
    plan = haul_plan_solve(items=items, **kw)  # type: ignore[arg-type]
    plan_check(plan=plan, items=items, **kw)  # type: ignore[arg-type]
    assert plan.method == "heuristic"
    assert 0.99 * plan.upper_bound <= plan.total_profit <= plan.upper_bound


def _item(type_id: int, volume: float, sells: list[tuple[float, int]], buys: list[tuple[float, int, int]]) -> Item:
    """An item from (price, units) sells and (price, units, min_volume) buys."""
    return Item(
        type_id,
        volume,
        tuple(SellOrder(type_id * 100 + k, p, u) for k, (p, u) in enumerate(sells)),
        tuple(BuyOrder(type_id * 100 + 50 + k, p, u, m) for k, (p, u, m) in enumerate(buys)),
    )


def test_zero_budget_carries_nothing() -> None:
    items = [_item(1, 1.0, [(10.0, 5)], [(20.0, 5, 1)])]
    plan = haul_plan_solve(items=items, cargo_m3=100, budget_isk=0, sales_tax=8)
    assert plan.items == []
    assert plan.total_profit == 0
    assert plan.reason == "nothing profitable fits the hold and the wallet"


def test_an_item_larger_than_the_hold_is_left_and_a_smaller_one_taken() -> None:
    items = [_item(1, 500.0, [(10.0, 5)], [(100.0, 5, 1)]), _item(2, 1.0, [(10.0, 5)], [(11.0, 5, 1)])]
    plan = haul_plan_solve(items=items, cargo_m3=100, budget_isk=1e6, sales_tax=0)
    assert [(p.type_id, p.units) for p in plan.items] == [(2, 5)]
    assert plan.method == "exact"


def test_a_min_volume_bigger_than_what_fits_is_skipped_for_a_lower_order() -> None:
    """The best buy order wants 50 at least; 10 fit: they go to the next order, below it."""
    items = [_item(1, 1.0, [(10.0, 100)], [(30.0, 100, 50), (20.0, 100, 1)])]
    plan = haul_plan_solve(items=items, cargo_m3=10, budget_isk=1e6, sales_tax=0)
    (part,) = plan.items
    assert part.units == 10
    assert [(f.order_id, f.units) for f in part.sell_orders] == [(151, 10)]
    assert plan.total_profit == pytest.approx(100.0)
    roomy = haul_plan_solve(items=items, cargo_m3=60, budget_isk=1e6, sales_tax=0)
    assert [(f.order_id, f.units) for f in roomy.items[0].sell_orders] == [(150, 60)]


def test_a_min_volume_above_volume_remain_is_never_used() -> None:
    items = [_item(1, 1.0, [(10.0, 100)], [(30.0, 5, 10)])]
    plan = haul_plan_solve(items=items, cargo_m3=100, budget_isk=1e6, sales_tax=0)
    assert plan.items == []
    assert "no item" in plan.reason


def test_ties_are_broken_the_same_way_every_time() -> None:
    """Two identical items and equal prices: the same plan each time, the optimum either way."""
    items = [
        _item(1, 1.0, [(10.0, 5), (10.0, 5)], [(20.0, 5, 1), (20.0, 5, 1)]),
        _item(2, 1.0, [(10.0, 5), (10.0, 5)], [(20.0, 5, 1), (20.0, 5, 1)]),
    ]
    plans = [haul_plan_solve(items=items, cargo_m3=7, budget_isk=1e6, sales_tax=0) for _ in range(3)]
    assert all(p == plans[0] for p in plans)
    assert plans[0].total_profit == pytest.approx(70.0)
    plan_check(plan=plans[0], items=items, cargo_m3=7, budget_isk=1e6, sales_tax=0)


def test_huge_limits_and_free_volume_stay_finite() -> None:
    items = [_item(1, 0.0, [(0.01, 10**9)], [(0.02, 10**9, 1)]), _item(2, 0.01, [(1.0, 10)], [(2.0, 10, 1)])]
    plan = haul_plan_solve(items=items, cargo_m3=1e12, budget_isk=1e16, sales_tax=0)
    assert sum(p.units for p in plan.items) == 10**9 + 10
    plan_check(plan=plan, items=items, cargo_m3=1e12, budget_isk=1e16, sales_tax=0)
