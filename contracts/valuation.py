"""Contract valuation against the Jita split, vectorised with numpy (no per-line Python loop).

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

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from contracts.prices import BestPricesLike

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
