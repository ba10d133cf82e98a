"""Valuation math: hand-computed examples on real payloads, and a brute-force reference on generated data."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.models import Contract, ContractItem, ItemsStatus
from contracts.prices import BestPrices, best_prices_from_orders
from contracts.tests.conftest import JITA_STATION, THE_FORGE, order
from contracts.valuation import Lines, PriceTable, contracts_valuate, contracts_value, jita_split


def test_jita_split_both_sides_one_side_and_none() -> None:
    """Split = mean of best buy and best sell; one side alone is flagged; none gives no price."""
    both = jita_split(BestPrices(highest_buy=90.0, lowest_sell=110.0))
    assert both is not None
    assert both.value == 100.0
    assert not both.one_sided
    buy_only = jita_split(BestPrices(highest_buy=90.0, lowest_sell=None))
    assert buy_only is not None
    assert buy_only.value == 90.0
    assert buy_only.one_sided
    sell_only = jita_split(BestPrices(highest_buy=None, lowest_sell=110.0))
    assert sell_only is not None
    assert sell_only.value == 110.0
    assert sell_only.one_sided
    assert jita_split(BestPrices(highest_buy=None, lowest_sell=None)) is None


def test_best_prices_only_count_the_station() -> None:
    """Orders elsewhere in the region do not move the Jita split."""
    orders = [
        order(34, 5.0, buy=True),
        order(34, 4.0, buy=True),
        order(34, 6.0, buy=False),
        order(34, 7.0, buy=False),
        order(34, 100.0, buy=True, location_id=60008494),
        order(34, 1.0, buy=False, location_id=60008494),
    ]
    prices = best_prices_from_orders(orders=orders, station_id=JITA_STATION)
    assert prices == {34: BestPrices(highest_buy=5.0, lowest_sell=6.0)}


def _lines(items: list[dict[str, Any]], index: int = 0) -> Lines:
    """Turn ESI item payloads of one contract into line arrays."""
    return Lines(
        contract_index=np.full(len(items), index, dtype=np.int64),
        type_id=np.array([i["type_id"] for i in items], dtype=np.int64),
        quantity=np.array([i["quantity"] for i in items], dtype=np.float64),
        is_included=np.array([i["is_included"] for i in items], dtype=np.bool_),
        is_blueprint_copy=np.array([bool(i.get("is_blueprint_copy")) for i in items], dtype=np.bool_),
    )


def test_hand_computed_nag_and_fuel(samples: dict[str, Any]) -> None:
    """Real contract 190753200 ("Nag + fuel", 3.69 B ISK) valued by hand.

    Prices (Jita): Naglfar 19722 buy 3.0 B / sell 3.4 B -> split 3.2 B; Hydrogen Isotopes 17889 buy 600 /
    sell 700 -> 650 x 37,319 = 24,257,350; Strontium 16275 sell only 1,500 -> one-sided, x 2,000 = 3,000,000;
    31768 buy only 10 M -> one-sided, x 1 = 10,000,000; 31762 and 31726 have no price.
    Included = 3,200,000,000 + 24,257,350 + 3,000,000 + 10,000,000 = 3,237,257,350; nothing requested.
    Profit = 3,237,257,350 - 3,690,000,000 = -452,742,650; profit % = -452,742,650 / 3,690,000,000 x 100
    = -12.2694485...
    """
    contract = next(c for c in samples["contracts-10000001-1"] if c["contract_id"] == 190753200)
    items = samples["items-190753200"]
    prices = best_prices_from_orders(
        orders=[
            order(19722, 3.0e9, buy=True),
            order(19722, 3.4e9, buy=False),
            order(17889, 600.0, buy=True),
            order(17889, 700.0, buy=False),
            order(16275, 1500.0, buy=False),
            order(31768, 10_000_000.0, buy=True),
        ],
        station_id=JITA_STATION,
    )
    valued, totals = contracts_value(
        lines=_lines(items),
        table=PriceTable.from_best_prices(prices),
        price=np.array([contract["price"]], dtype=np.float64),
        reward=np.array([contract["reward"]], dtype=np.float64),
        current_bid=np.array([np.nan]),
        is_auction=np.array([False]),
    )
    assert totals.included_value[0] == 3_237_257_350.0
    assert totals.requested_value[0] == 0.0
    assert totals.items_value[0] == 3_237_257_350.0
    assert totals.profit[0] == -452_742_650.0
    assert totals.profit_pct[0] == pytest.approx(-12.2694485, abs=1e-7)
    assert totals.no_price_lines[0] == 2
    assert totals.one_sided_lines[0] == 2
    assert totals.item_lines[0] == 6
    by_type = {int(t): float(v) for t, v in zip(_lines(items).type_id, valued.value, strict=True)}
    assert by_type[17889] == 24_257_350.0


def test_hand_computed_requested_items_bpc_and_auction_bid(samples: dict[str, Any]) -> None:
    """WTB contract (requested Charon, 4.6 M reward), a blueprint copy, and an auction with a bid.

    - 189863474: price 0, reward 4,600,000, requests one 20185 (split (1.4 B + 1.6 B)/2 = 1.5 B):
      items_value = -1.5 B; profit = -1.5 B + 4.6 M - 0 = -1,495,400,000; no price so no profit %.
    - 190123693: one blueprint copy of 688 (which has market orders): not valued, flagged; price 210 M:
      profit = -210,000,000, profit % = -100.
    - 190442405 (auction, starting price 1 M, one bid of 1 M): 24 corpses 25 at split 50,000 and 5 corpses
      29148 at split 150,000: items_value = 1,200,000 + 750,000 = 1,950,000; price = bid 1,000,000;
      profit = 950,000; profit % = 95.
    """
    wtb = samples["items-189863474"]
    bpc = samples["items-190123693"]
    corpses = samples["items-190442405"]
    assert sum(1 for i in corpses if i["type_id"] == 25) == 24
    assert sum(1 for i in corpses if i["type_id"] == 29148) == 5
    bid = max(b["amount"] for b in samples["bids-190442405"])
    prices = {
        20185: BestPrices(1.4e9, 1.6e9),
        688: BestPrices(100.0, 120.0),
        25: BestPrices(40_000.0, 60_000.0),
        29148: BestPrices(None, 150_000.0),
    }
    lines = [_lines(wtb, 0), _lines(bpc, 1), _lines(corpses, 2)]
    merged = Lines(*(np.concatenate([getattr(x, f) for x in lines]) for f in Lines.__dataclass_fields__))
    valued, totals = contracts_value(
        lines=merged,
        table=PriceTable.from_best_prices(prices),
        price=np.array([0.0, 210_000_000.0, 1_000_000.0]),
        reward=np.array([4_600_000.0, 0.0, 0.0]),
        current_bid=np.array([np.nan, np.nan, float(bid)]),
        is_auction=np.array([False, False, True]),
    )
    assert totals.items_value.tolist() == [-1_500_000_000.0, 0.0, 1_950_000.0]
    assert totals.requested_value[0] == 1_500_000_000.0
    assert totals.profit.tolist() == [-1_495_400_000.0, -210_000_000.0, 950_000.0]
    assert math.isnan(totals.profit_pct[0])
    assert totals.profit_pct[1:].tolist() == [-100.0, 95.0]
    assert totals.price.tolist() == [0.0, 210_000_000.0, 1_000_000.0]
    assert totals.blueprint_copy_lines.tolist() == [0, 1, 0]
    assert totals.no_price_lines.tolist() == [0, 0, 0]
    assert totals.one_sided_lines.tolist() == [0, 0, 5]
    assert bool(valued.blueprint_copy[1])
    assert math.isnan(valued.split[1])


def test_auction_without_bid_uses_starting_price() -> None:
    """No bid yet: the auction costs its starting price."""
    _, totals = contracts_value(
        lines=Lines.empty(),
        table=PriceTable.from_best_prices({}),
        price=np.array([5.0, 5.0]),
        reward=np.array([0.0, 0.0]),
        current_bid=np.array([np.nan, 7.0]),
        is_auction=np.array([True, True]),
    )
    assert totals.price.tolist() == [5.0, 7.0]
    assert totals.profit.tolist() == [-5.0, -7.0]


# ---------------------------------------------------------------------------- brute-force reference
def _reference(
    contracts: list[dict[str, Any]], lines: list[dict[str, Any]], prices: dict[int, BestPrices]
) -> list[dict[str, Any]]:
    """Value contracts one line at a time, in plain Python, straight from the definitions."""
    out = []
    for index, c in enumerate(contracts):
        included = requested = 0.0
        no_price = bpc = one_sided = count = 0
        for line in lines:
            if line["contract"] != index:
                continue
            count += 1
            if line["bpc"]:
                bpc += 1
                continue
            p = prices.get(line["type_id"])
            buy = p.highest_buy if p else None
            sell = p.lowest_sell if p else None
            split: float
            if buy is not None and sell is not None:
                split = (buy + sell) / 2
            elif buy is not None:
                split = buy
                one_sided += 1
            elif sell is not None:
                split = sell
                one_sided += 1
            else:
                no_price += 1
                continue
            if line["included"]:
                included += line["quantity"] * split
            else:
                requested += line["quantity"] * split
        paid = c["bid"] if c["auction"] and c["bid"] is not None else c["price"]
        items_value = included - requested
        profit = items_value + c["reward"] - paid
        out.append(
            {
                "included": included,
                "requested": requested,
                "items_value": items_value,
                "price": paid,
                "profit": profit,
                "profit_pct": 100 * profit / paid if paid > 0 else None,
                "counts": (count, no_price, bpc, one_sided),
            }
        )
    return out


_side = st.one_of(st.none(), st.floats(min_value=0.01, max_value=1e10, allow_nan=False))
_prices = st.dictionaries(st.integers(1, 30), st.builds(BestPrices, highest_buy=_side, lowest_sell=_side), max_size=30)
_contract = st.fixed_dictionaries(
    {
        # ISK amounts: 0 or at least one cent.
        "price": st.one_of(st.just(0.0), st.floats(min_value=0.01, max_value=1e11, allow_nan=False)),
        "reward": st.one_of(st.just(0.0), st.floats(min_value=0.01, max_value=1e9, allow_nan=False)),
        "auction": st.booleans(),
        "bid": st.one_of(st.none(), st.floats(min_value=1, max_value=1e11, allow_nan=False)),
    }
)


@st.composite
def _data(draw: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[int, BestPrices]]:
    """Draw contracts, their lines and a price table."""
    contracts = draw(st.lists(_contract, min_size=1, max_size=12))
    line = st.fixed_dictionaries(
        {
            "contract": st.integers(0, len(contracts) - 1),
            "type_id": st.integers(1, 35),
            "quantity": st.integers(1, 10**7),
            "included": st.booleans(),
            "bpc": st.booleans(),
        }
    )
    return contracts, draw(st.lists(line, max_size=60)), draw(_prices)


@pytest.mark.no_cover
@settings(max_examples=300, deadline=None)
@given(_data())
def test_vectorised_valuation_equals_brute_force(data: Any) -> None:
    """The numpy valuation equals the line-by-line reference on generated contracts."""
    contracts, lines, prices = data
    arrays = Lines(
        contract_index=np.array([x["contract"] for x in lines], dtype=np.int64),
        type_id=np.array([x["type_id"] for x in lines], dtype=np.int64),
        quantity=np.array([x["quantity"] for x in lines], dtype=np.float64),
        is_included=np.array([x["included"] for x in lines], dtype=np.bool_),
        is_blueprint_copy=np.array([x["bpc"] for x in lines], dtype=np.bool_),
    )
    _, totals = contracts_value(
        lines=arrays,
        table=PriceTable.from_best_prices(prices),
        price=np.array([c["price"] for c in contracts], dtype=np.float64),
        reward=np.array([c["reward"] for c in contracts], dtype=np.float64),
        current_bid=np.array([np.nan if c["bid"] is None else c["bid"] for c in contracts], dtype=np.float64),
        is_auction=np.array([c["auction"] for c in contracts], dtype=np.bool_),
    )
    expected = _reference(contracts, lines, prices)
    for i, ref in enumerate(expected):
        assert totals.included_value[i] == pytest.approx(ref["included"], rel=1e-9, abs=1e-6)
        assert totals.requested_value[i] == pytest.approx(ref["requested"], rel=1e-9, abs=1e-6)
        assert totals.items_value[i] == pytest.approx(ref["items_value"], rel=1e-9, abs=1e-3)
        assert totals.price[i] == ref["price"]
        assert totals.profit[i] == pytest.approx(ref["profit"], rel=1e-9, abs=1e-3)
        if ref["profit_pct"] is None:
            assert math.isnan(totals.profit_pct[i])
        else:
            assert totals.profit_pct[i] == pytest.approx(ref["profit_pct"], rel=1e-9, abs=1e-6)
        counts = (
            totals.item_lines[i],
            totals.no_price_lines[i],
            totals.blueprint_copy_lines[i],
            totals.one_sided_lines[i],
        )
        assert tuple(int(x) for x in counts) == ref["counts"]


@pytest.mark.django_db
@settings(max_examples=40, deadline=None)
@given(_data())
def test_set_based_sql_valuation_equals_brute_force(data: Any) -> None:
    """The stored valuation (one SQL UPDATE over PostgreSQL rows) equals the line-by-line reference."""
    contracts, lines, prices = data
    with transaction.atomic():
        _sql_example_check(contracts, lines, prices)


def _sql_example_check(
    contracts: list[dict[str, Any]], lines: list[dict[str, Any]], prices: dict[int, BestPrices]
) -> None:
    """Store one generated example, value it in SQL and compare with the reference."""
    Contract.objects.all().delete()
    now = timezone.now()
    Contract.objects.bulk_create(
        Contract(
            contract_id=1_000_000 + i,
            region_id=THE_FORGE,
            type="auction" if c["auction"] else "item_exchange",
            issuer_id=1,
            issuer_corporation_id=1,
            date_issued=now,
            date_expired=now + timedelta(days=1),
            price=c["price"],
            reward=c["reward"],
            current_bid=c["bid"],
            items_status=ItemsStatus.FETCHED,
            last_seen_at=now,
        )
        for i, c in enumerate(contracts)
    )
    ContractItem.objects.bulk_create(
        ContractItem(
            record_id=j + 1,
            contract_id=1_000_000 + x["contract"],
            type_id=x["type_id"],
            quantity=x["quantity"],
            is_included=x["included"],
            is_blueprint_copy=x["bpc"],
        )
        for j, x in enumerate(lines)
    )

    def lookup(*, station_id: int, region_id: int, type_ids: Any = None) -> dict[int, BestPrices]:
        """Serve the drawn prices with the market interface's signature."""
        assert station_id == JITA_STATION
        assert region_id == THE_FORGE
        return {t: p for t, p in prices.items() if type_ids is None or t in set(type_ids)}

    assert contracts_valuate(region_id=THE_FORGE, price_lookup=lookup) == len(contracts)
    stored = {c.contract_id: c for c in Contract.objects.all()}
    for i, ref in enumerate(_reference(contracts, lines, prices)):
        row = stored[1_000_000 + i]
        assert row.included_value == pytest.approx(ref["included"], rel=1e-9, abs=1e-6)
        assert row.requested_value == pytest.approx(ref["requested"], rel=1e-9, abs=1e-6)
        assert row.items_value == pytest.approx(ref["items_value"], rel=1e-9, abs=1e-3)
        assert row.profit == pytest.approx(ref["profit"], rel=1e-9, abs=1e-3)
        if ref["profit_pct"] is None:
            assert row.profit_pct is None
        else:
            assert row.profit_pct == pytest.approx(ref["profit_pct"], rel=1e-9, abs=1e-6)
        counts = (row.item_lines, row.no_price_lines, row.blueprint_copy_lines, row.one_sided_lines)
        assert counts == ref["counts"]
