"""The book walk against a brute-force reference: every order expanded into unit prices, sorted, the first N taken."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from appraisal.selectors import appraisal_books_get
from appraisal.valuation import Book, BookOrder, LineInput, book_walk, lines_value
from appraisal.valuation_columns import BookColumns, lines_value_columns
from market.services import market_snapshot_store
from market.testing import esi_order
from market.tests.conftest import REGION_1, STATION_A, STATION_B, synthetic_universe_load
from universe.models import Station

PRICES = st.one_of(
    st.sampled_from([1.0, 2.0, 2.5, 10.0, 0.01]),  # ties
    st.floats(min_value=0.01, max_value=1e9, allow_nan=False, allow_infinity=False),
)
ORDERS = st.lists(
    st.builds(BookOrder, price=PRICES, units=st.integers(min_value=1, max_value=60), min_volume=st.just(1)), max_size=12
)


def unit_prices(orders: list[BookOrder], side: str) -> list[float]:
    """Every unit of the book as its price, best first (lowest ask for sell, highest bid for buy)."""
    units = [o.price for o in orders for _ in range(o.units)]
    return sorted(units, reverse=side == "buy")


def reference(orders: list[BookOrder], side: str, start: int, quantity: int) -> tuple[float, int]:
    """Units ``start .. start + quantity`` of the book: their value, and how many lie past its depth.

    Units past the depth are valued at the book's last (worst) price reached, 0 for an empty book.
    """
    units = unit_prices(orders, side)
    taken = units[start : start + quantity]
    unfilled = quantity - len(taken)
    worst = units[-1] if units else 0.0
    return math.fsum(taken) + unfilled * worst, unfilled


@settings(max_examples=400, deadline=None)
@given(orders=ORDERS, quantity=st.integers(min_value=1, max_value=800), side=st.sampled_from(["sell", "buy"]))
def test_the_walk_equals_the_unit_by_unit_reference(orders: list[BookOrder], quantity: int, side: str) -> None:
    walk = book_walk(orders=orders, quantity=quantity, side=side)  # type: ignore[arg-type]
    value, unfilled = reference(orders, side, 0, quantity)
    assert walk.value == pytest.approx(value, rel=1e-9)
    assert walk.unfilled == unfilled
    assert sum(units for _, units in walk.fills) == quantity - unfilled


@settings(max_examples=300, deadline=None)
@given(
    sells=ORDERS,
    buys=ORDERS,
    quantities=st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=6),
    tax=st.sampled_from([0.0, 8.0, 3.6, 99.99]),
)
def test_lines_of_one_type_share_the_book_in_paste_order(
    sells: list[BookOrder], buys: list[BookOrder], quantities: list[int], tax: float
) -> None:
    lines = [LineInput(type_id=7, quantity=q) for q in quantities]
    values = lines_value(lines=lines, books={7: Book(sells=sells, buys=buys)}, sales_tax=tax)
    start = 0
    for q, v in zip(quantities, values, strict=True):
        sell, sell_unfilled = reference(sells, "sell", start, q)
        gross, buy_unfilled = reference(buys, "buy", start, q)
        # Past the depth, the worst price is the one the walk of the whole quantity reached.
        assert v.sell == pytest.approx(sell, rel=1e-9, abs=1e-9)
        assert v.buy == pytest.approx(gross * (1 - tax / 100), rel=1e-9, abs=1e-9)
        assert v.split == pytest.approx((v.sell + v.buy) / 2)
        assert (v.sell_unfilled, v.buy_unfilled) == (sell_unfilled, buy_unfilled)
        assert ("thin_book" in v.flags) == bool(sell_unfilled or buy_unfilled)
        assert ("no_sell_orders" in v.flags) == (not sells)
        assert ("no_buy_orders" in v.flags) == (not buys)
        start += q
    whole = book_walk(orders=sells, quantity=sum(quantities), side="sell")
    assert math.fsum(v.sell for v in values) == pytest.approx(whole.value, rel=1e-9)


# Orders as stored: some empty, some with a min_volume (a buy book holding one is walked by lines_value itself);
# many ties at prices whose multiples round (0.1 x 3 + 0.1 x 1 is not 0.1 x 4), so the order of tied orders shows.
STORED_ORDERS = st.lists(
    st.builds(
        BookOrder,
        price=st.sampled_from([0.1, 0.01, 3.3]) | st.floats(min_value=0.01, max_value=1e9),
        units=st.integers(min_value=0, max_value=60),
        min_volume=st.sampled_from([1, 1, 1, 2, 50]),
    ),
    max_size=10,
)


@pytest.mark.no_cover
@settings(max_examples=1000, deadline=None)
@given(
    books=st.dictionaries(st.integers(min_value=1, max_value=5), st.tuples(STORED_ORDERS, STORED_ORDERS), max_size=4),
    lines=st.lists(
        st.builds(
            LineInput,
            type_id=st.integers(min_value=1, max_value=6),
            quantity=st.integers(min_value=1, max_value=400),
            blueprint_copy=st.sampled_from([False, False, False, True]),
        ),
        min_size=1,
        max_size=12,
    ),
    tax=st.sampled_from([0.0, 8.0, 3.6, 99.99]),
)
# Python 3.12's sum() compensates: a walk summed with it gave 1.2000000000000002 where the columns' left-to-right
# additions give 1.2.
@example(
    books={3: ([], [BookOrder(0.1, units, min_volume=1) for units in (1, 2, 5)])},
    lines=[LineInput(type_id=3, quantity=12, blueprint_copy=False)],
    tax=0.0,
)
def test_the_column_walk_values_every_line_as_the_walk_does(
    books: dict[int, tuple[list[BookOrder], list[BookOrder]]], lines: list[LineInput], tax: float
) -> None:
    """The service's valuation on numpy columns gives the same numbers as lines_value, to the last bit."""
    rows = [
        (type_id, buy, order)
        for type_id, sides in books.items()
        for buy, side in zip((False, True), sides, strict=True)
        for order in side
    ]
    columns = BookColumns(
        type_ids=np.array([r[0] for r in rows], dtype=np.int64),
        buy=np.array([r[1] for r in rows], dtype=np.bool_),
        prices=np.array([r[2].price for r in rows], dtype=np.float64),
        units=np.array([r[2].units for r in rows], dtype=np.int64),
        min_volumes=np.array([r[2].min_volume for r in rows], dtype=np.int64),
    )
    expected = lines_value(lines=lines, books=columns.books(), sales_tax=tax)
    got = lines_value_columns(lines=lines, columns=columns, sales_tax=tax)
    assert [tuple(map(repr, v)) for v in got] == [tuple(map(repr, v)) for v in expected]


def test_buy_orders_below_their_min_volume_are_skipped() -> None:
    buys = [BookOrder(50.0, 5000, min_volume=1000), BookOrder(40.0, 500)]
    small = book_walk(orders=buys, quantity=600, side="buy")
    assert small.fills == [(40.0, 500)]
    assert small.unfilled == 100
    assert small.value == 600 * 40.0
    large = book_walk(orders=buys, quantity=1200, side="buy")
    assert large.fills == [(50.0, 1200)]
    # The rest of a walk may fall below a deeper order's min_volume too.
    mixed = book_walk(orders=[BookOrder(60.0, 100), BookOrder(50.0, 500, min_volume=200)], quantity=250, side="buy")
    assert mixed.fills == [(60.0, 100)]
    assert mixed.unfilled == 150


def test_blueprint_copies_take_nothing_from_the_book() -> None:
    book = {9: Book(sells=[BookOrder(100.0, 1)], buys=[BookOrder(90.0, 1)])}
    lines = [LineInput(9, 1, blueprint_copy=True), LineInput(9, 1)]
    copy, original = lines_value(lines=lines, books=book, sales_tax=10)
    assert (copy.sell, copy.buy, copy.split, copy.flags) == (0.0, 0.0, 0.0, ["blueprint_copy"])
    assert (original.sell, original.buy, original.flags) == (100.0, 81.0, [])


def test_a_type_without_orders_is_worth_nothing_and_flagged() -> None:
    (value,) = lines_value(lines=[LineInput(5, 3)], books={}, sales_tax=8)
    assert (value.sell, value.buy, value.sell_unfilled, value.buy_unfilled) == (0.0, 0.0, 3, 3)
    assert value.flags == ["thin_book", "no_sell_orders", "no_buy_orders"]


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sells=ORDERS, buys=ORDERS, quantity=st.integers(min_value=1, max_value=500))
def test_books_read_from_a_stored_snapshot_walk_like_the_reference(
    sells: list[BookOrder], buys: list[BookOrder], quantity: int
) -> None:
    """Through PostgreSQL: the station's orders of the current snapshot only (another station's are ignored)."""
    synthetic_universe_load()
    here, there = Station.objects.get(id=STATION_A), Station.objects.get(id=STATION_B)
    orders = [esi_order(i, here, 990000001, buy=False, price=o.price, volume=o.units) for i, o in enumerate(sells, 1)]
    orders += [esi_order(100 + i, here, 990000001, buy=True, price=o.price, volume=o.units) for i, o in enumerate(buys)]
    orders += [esi_order(999, there, 990000001, buy=False, price=0.001, volume=10**6)]
    snapshot = market_snapshot_store(region_id=REGION_1, orders=orders)
    books = appraisal_books_get(snapshot_id=snapshot.pk, station_id=STATION_A, type_ids=[990000001, 990000002])
    assert set(books) == ({990000001} if sells or buys else set())
    (value,) = lines_value(lines=[LineInput(990000001, quantity)], books=books, sales_tax=0)
    assert value.sell == pytest.approx(reference(sells, "sell", 0, quantity)[0], rel=1e-9)
    assert value.buy == pytest.approx(reference(buys, "buy", 0, quantity)[0], rel=1e-9)
