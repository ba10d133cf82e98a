"""Contract valuation against the Jita split: vectorised with numpy, and set-based in PostgreSQL.

The numpy version (:func:`contracts_value`) values a contract's lines for its breakdown;
:func:`contracts_valuate` values every cached contract in one SQL statement (same definitions).

Definitions (documented in the README, section "Contracts"):

- Jita split of a type = ``(highest buy + lowest sell) / 2`` at the price station; when one
  side is missing, that other side alone (the line is flagged ``one_sided``); none -> no price.
- A line's value = quantity x split; blueprint copies are not valued at market price
  (value 0, flag ``blueprint_copy``); a line without a price has value 0 and flag ``no_price``.
- ``items_value`` = value of the included lines - value of the requested lines.
- ``price`` = the contract's price; for auctions the current bid when there is one, else the
  starting price.
- ``profit`` = items_value + reward - price (ESI's ``reward`` of an item exchange is ISK the
  issuer pays the acceptor; it is 0 for nearly every contract, giving items_value - price);
  ``profit_pct`` = 100 x profit / price (None when the price is 0).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection
from django.utils import timezone

from contracts.prices import BestPricesLike, PriceLookup, jita_prices_get

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class SplitPrice:
    """The Jita split of one type."""

    value: float
    one_sided: bool


def jita_split(prices: BestPricesLike) -> SplitPrice | None:
    """Compute the Jita split of one type.

    Args:
        prices: The best buy and sell at the price station.

    Returns:
        The split, or None when neither side exists.
    """
    buy, sell = prices.highest_buy, prices.lowest_sell
    if buy is not None and sell is not None:
        return SplitPrice(value=(float(buy) + float(sell)) / 2.0, one_sided=False)
    if buy is None and sell is None:
        return None
    return SplitPrice(value=float(buy if buy is not None else sell), one_sided=True)  # type: ignore[arg-type]


@dataclass(frozen=True)
class PriceTable:
    """Jita splits of many types as sorted arrays (for ``np.searchsorted``)."""

    type_ids: IntArray
    split: FloatArray
    one_sided: BoolArray

    @classmethod
    def from_best_prices(cls, prices: Mapping[int, BestPricesLike]) -> PriceTable:
        """Build the table from best prices by type id.

        Args:
            prices: Best buy and sell by type id (types with neither side are left out).

        Returns:
            The table.
        """
        rows = sorted((t, s) for t, p in prices.items() if (s := jita_split(p)) is not None)
        return cls(
            type_ids=np.array([t for t, _ in rows], dtype=np.int64),
            split=np.array([s.value for _, s in rows], dtype=np.float64),
            one_sided=np.array([s.one_sided for _, s in rows], dtype=np.bool_),
        )


@dataclass(frozen=True)
class Lines:
    """Item lines of many contracts, one array entry per line.

    ``contract_index`` points into the contracts' arrays (0..n_contracts-1).
    """

    contract_index: IntArray
    type_id: IntArray
    quantity: FloatArray
    is_included: BoolArray
    is_blueprint_copy: BoolArray

    @classmethod
    def empty(cls) -> Lines:
        """Return zero lines.

        Returns:
            Empty arrays.
        """
        return cls(
            contract_index=np.zeros(0, dtype=np.int64),
            type_id=np.zeros(0, dtype=np.int64),
            quantity=np.zeros(0, dtype=np.float64),
            is_included=np.zeros(0, dtype=np.bool_),
            is_blueprint_copy=np.zeros(0, dtype=np.bool_),
        )


@dataclass(frozen=True)
class LineValues:
    """Per-line results: the split (NaN when none or a blueprint copy), value and flags."""

    split: FloatArray
    value: FloatArray
    no_price: BoolArray
    one_sided: BoolArray
    blueprint_copy: BoolArray


@dataclass(frozen=True)
class ContractValues:
    """Per-contract results (NaN where a value is undefined)."""

    included_value: FloatArray
    requested_value: FloatArray
    items_value: FloatArray
    price: FloatArray
    profit: FloatArray
    profit_pct: FloatArray
    item_lines: IntArray
    no_price_lines: IntArray
    blueprint_copy_lines: IntArray
    one_sided_lines: IntArray


def lines_value(*, lines: Lines, table: PriceTable) -> LineValues:
    """Value every line against the price table.

    Args:
        lines: The item lines.
        table: Jita splits.

    Returns:
        Per-line split, value and flags.
    """
    n = lines.type_id.shape[0]
    split = np.full(n, np.nan, dtype=np.float64)
    one_sided = np.zeros(n, dtype=np.bool_)
    if table.type_ids.size and n:
        pos = np.searchsorted(table.type_ids, lines.type_id)
        pos_clipped = np.minimum(pos, table.type_ids.size - 1)
        found = table.type_ids[pos_clipped] == lines.type_id
        split[found] = table.split[pos_clipped[found]]
        one_sided[found] = table.one_sided[pos_clipped[found]]
    bpc = lines.is_blueprint_copy.astype(np.bool_)
    split[bpc] = np.nan
    one_sided &= ~bpc
    no_price = np.isnan(split) & ~bpc
    value = np.where(np.isnan(split), 0.0, lines.quantity * np.nan_to_num(split))
    return LineValues(split=split, value=value, no_price=no_price, one_sided=one_sided, blueprint_copy=bpc)


def effective_price(*, price: FloatArray, current_bid: FloatArray, is_auction: BoolArray) -> FloatArray:
    """Return what accepting costs: the price, or an auction's current bid when there is one.

    Args:
        price: The contracts' prices (auctions: the starting price).
        current_bid: The highest bid (NaN when none).
        is_auction: Which contracts are auctions.

    Returns:
        The effective prices.
    """
    use_bid = is_auction & ~np.isnan(current_bid)
    return np.where(use_bid, np.nan_to_num(current_bid), price)


def contracts_value(
    *,
    lines: Lines,
    table: PriceTable,
    price: FloatArray,
    reward: FloatArray,
    current_bid: FloatArray,
    is_auction: BoolArray,
) -> tuple[LineValues, ContractValues]:
    """Value many contracts at once.

    Args:
        lines: Every contract's item lines (``contract_index`` into the other arrays).
        table: Jita splits.
        price: Contract prices.
        reward: Contract rewards (ISK the issuer pays the acceptor).
        current_bid: Auctions' highest bids (NaN when none).
        is_auction: Which contracts are auctions.

    Returns:
        Per-line and per-contract results.
    """
    n = price.shape[0]
    valued = lines_value(lines=lines, table=table)
    idx = lines.contract_index
    included = lines.is_included.astype(np.bool_)
    included_value: FloatArray = np.bincount(idx, weights=np.where(included, valued.value, 0.0), minlength=n).astype(
        np.float64
    )
    requested_value: FloatArray = np.bincount(idx, weights=np.where(included, 0.0, valued.value), minlength=n).astype(
        np.float64
    )
    items_value = included_value - requested_value
    paid = effective_price(price=price, current_bid=current_bid, is_auction=is_auction)
    profit = items_value + reward - paid
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        profit_pct = np.where(paid > 0, 100.0 * profit / np.where(paid > 0, paid, 1.0), np.nan)
    totals = ContractValues(
        included_value=included_value,
        requested_value=requested_value,
        items_value=items_value,
        price=paid,
        profit=profit,
        profit_pct=profit_pct,
        item_lines=np.bincount(idx, minlength=n).astype(np.int64),
        no_price_lines=np.bincount(idx, weights=valued.no_price, minlength=n).astype(np.int64),
        blueprint_copy_lines=np.bincount(idx, weights=valued.blueprint_copy, minlength=n).astype(np.int64),
        one_sided_lines=np.bincount(idx, weights=valued.one_sided, minlength=n).astype(np.int64),
    )
    return valued, totals


# The whole valuation in one statement: the price table arrives as three comma-joined texts (cheap to
# send), item lines are joined to it and summed per contract, and every contract in scope is updated.
VALUATE_SQL = """
WITH prices AS (
    SELECT * FROM unnest(
        string_to_array(%(type_ids)s, ',')::int[],
        string_to_array(%(splits)s, ',')::float8[],
        string_to_array(%(one_sided)s, ',')::bool[]
    ) AS p(type_id, split, one_sided)
),
scope AS (
    SELECT c.contract_id, c.price, c.reward,
           CASE WHEN c.type = 'auction' AND c.current_bid IS NOT NULL THEN c.current_bid ELSE c.price END AS paid
    FROM contracts_contract c
    WHERE {where}
),
lines AS (
    SELECT i.contract_id,
           sum(CASE WHEN i.is_included AND NOT i.is_blueprint_copy THEN i.quantity * p.split END) AS included,
           sum(CASE WHEN NOT i.is_included AND NOT i.is_blueprint_copy THEN i.quantity * p.split END) AS requested,
           count(*) AS item_lines,
           count(*) FILTER (WHERE NOT i.is_blueprint_copy AND p.split IS NULL) AS no_price_lines,
           count(*) FILTER (WHERE i.is_blueprint_copy) AS blueprint_copy_lines,
           count(*) FILTER (WHERE NOT i.is_blueprint_copy AND p.one_sided) AS one_sided_lines
    FROM contracts_contractitem i
    JOIN scope s ON s.contract_id = i.contract_id
    LEFT JOIN prices p ON p.type_id = i.type_id
    GROUP BY i.contract_id
),
valued AS (
    SELECT s.contract_id, s.paid, s.reward,
           coalesce(l.included, 0) AS included,
           coalesce(l.requested, 0) AS requested,
           coalesce(l.item_lines, 0) AS item_lines,
           coalesce(l.no_price_lines, 0) AS no_price_lines,
           coalesce(l.blueprint_copy_lines, 0) AS blueprint_copy_lines,
           coalesce(l.one_sided_lines, 0) AS one_sided_lines
    FROM scope s LEFT JOIN lines l ON l.contract_id = s.contract_id
)
UPDATE contracts_contract c SET
    included_value = v.included,
    requested_value = v.requested,
    items_value = v.included - v.requested,
    profit = v.included - v.requested + v.reward - v.paid,
    profit_pct = CASE WHEN v.paid > 0 THEN 100.0 * (v.included - v.requested + v.reward - v.paid) / v.paid END,
    item_lines = v.item_lines,
    no_price_lines = v.no_price_lines,
    blueprint_copy_lines = v.blueprint_copy_lines,
    one_sided_lines = v.one_sided_lines,
    valued_at = %(now)s
FROM valued v
WHERE c.contract_id = v.contract_id
"""


def contracts_valuate(
    *,
    region_id: int | None = None,
    contract_ids: Iterable[int] | None = None,
    price_lookup: PriceLookup | None = None,
) -> int:
    """Value cached contracts against the Jita split and store the results, set-based in PostgreSQL.

    The Jita splits (:class:`contracts.valuation.PriceTable`, the same one the
    breakdown uses) go to PostgreSQL as three texts; one ``UPDATE`` joins every
    item line to them, sums per contract and writes all contracts in scope. The
    definitions are those of :mod:`contracts.valuation` (tests compare both with
    a brute-force reference).

    Args:
        region_id: Only this region's active item exchanges and auctions (all regions when None).
        contract_ids: Only these contracts.
        price_lookup: Price source (defaults to ``CONTRACTS_PRICE_LOOKUP``, the market snapshots).

    Returns:
        How many contracts were valued.
    """
    where = ["c.type IN ('item_exchange', 'auction')", "c.is_active"]
    params: dict[str, Any] = {"now": timezone.now()}
    if region_id is not None:
        where.append("c.region_id = %(region_id)s")
        params["region_id"] = region_id
    if contract_ids is not None:
        where.append("c.contract_id = ANY(string_to_array(%(contract_ids)s, ',')::bigint[])")
        params["contract_ids"] = ",".join(str(int(c)) for c in contract_ids)
    clause = " AND ".join(where)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT i.type_id FROM contracts_contractitem i "  # noqa: S608 (fixed clauses)
            f"JOIN contracts_contract c ON c.contract_id = i.contract_id WHERE {clause}",
            params,
        )
        type_ids = [int(r[0]) for r in cursor.fetchall()]
        table = PriceTable.from_best_prices(jita_prices_get(type_ids=type_ids, price_lookup=price_lookup))
        params["type_ids"] = ",".join(map(str, table.type_ids.tolist()))
        params["splits"] = ",".join(map(repr, table.split.tolist()))
        params["one_sided"] = ",".join("t" if x else "f" for x in table.one_sided.tolist())
        cursor.execute(VALUATE_SQL.format(where=clause), params)
        return int(cursor.rowcount)
