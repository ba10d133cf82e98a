"""Writes of appraisal: value a paste at a station and store it."""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from appraisal.limits import paste_limits_check
from appraisal.models import Appraisal
from appraisal.parser import paste_keys, paste_parse, paste_resolve, text_lines
from appraisal.selectors import MarketRef, appraisal_books_get, appraisal_market_resolve, appraisal_types_get
from appraisal.valuation import LineInput, lines_value
from evesite.exceptions import NotFoundError, ServiceUnavailableError
from jobs.models import Job
from market.refresh import market_refresh_retry_after, market_region_snapshot_state


@dataclass(frozen=True)
class AppraisalPending:
    """No orders of the market's region are stored yet; a refresh job fetches them."""

    job: Job
    retry_after: int


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector around allocation-heavy work that makes no reference cycles.

    A 5,000-line paste allocates a few hundred thousand tuples and dicts; with a web process's objects
    alive, the collections they trigger cost more than the parsing itself. Reference counting still frees
    everything here.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def appraisal_create(*, text: str, market: str, sales_tax: float) -> Appraisal | AppraisalPending:
    """Parse a paste, value every line against the market station's stored order book, and store the appraisal.

    Nothing is stored when the input is refused or the region has no stored snapshot yet (a refresh job is
    queued through the market app and returned instead; a stale snapshot is used and a refresh queued).

    Args:
        text: What the player pasted.
        market: A hub name (``jita``, ...) or an SDE station id.
        sales_tax: Percent taken from the buy value.

    Returns:
        The stored appraisal, or the pending refresh.

    Raises:
        PayloadTooLargeError: Over 100 KiB of text or 5,000 lines (HTTP 413).
        NotFoundError: An unknown market, or no line naming an SDE type (``unparsed`` lists the lines).
    """
    paste_limits_check(text=text, line_count=len(text_lines(text)))
    where = appraisal_market_resolve(market=market)
    with _gc_paused():
        return _appraise(text=text, where=where, sales_tax=sales_tax)


def _appraise(*, text: str, where: MarketRef, sales_tax: float) -> Appraisal | AppraisalPending:
    """Parse, look up, value and store (see :func:`appraisal_create`)."""
    paste = paste_parse(text=text)
    types = appraisal_types_get(keys=paste_keys(paste=paste))
    resolved, unparsed = paste_resolve(paste=paste, known=types)
    unparsed_rows = [{"line": u.number, "text": u.text, "reason": u.reason} for u in unparsed]
    if not resolved:
        raise NotFoundError("No line of the text names an SDE type.", unparsed=unparsed_rows)
    state = market_region_snapshot_state(region_id=where.region_id)
    if state.snapshot is None:
        if state.job is None:  # a missing snapshot always queues a job
            raise ServiceUnavailableError("No market snapshot and no refresh job; try again.")
        return AppraisalPending(job=state.job, retry_after=market_refresh_retry_after(job=state.job))
    inputs = [LineInput(types[r.key].type_id, r.quantity, r.blueprint_copy) for r in resolved]
    books = appraisal_books_get(
        snapshot_id=state.snapshot.pk, station_id=where.station_id, type_ids=(i.type_id for i in inputs)
    )
    values = lines_value(lines=inputs, books=books, sales_tax=sales_tax)
    lines: list[list[Any]] = []  # in LINE_FIELDS order
    for r, value in zip(resolved, values, strict=True):
        found = types[r.key]
        volume = found.unit_volume * r.quantity
        lines.append(
            [
                r.number,
                found.type_id,
                found.name,
                r.quantity,
                found.unit_volume,
                volume,
                value.sell,
                value.buy,
                value.split,
                value.sell_unfilled,
                value.buy_unfilled,
                value.flags,
            ]
        )
    return Appraisal.objects.create(
        market=where.name,
        station_id=where.station_id,
        station_name=where.station_name,
        region_id=where.region_id,
        snapshot_id=state.snapshot.pk,
        prices_as_of=state.snapshot.fetched_at,
        sales_tax=sales_tax,
        total_sell=math.fsum(v.sell for v in values),
        total_buy=math.fsum(v.buy for v in values),
        total_split=math.fsum(v.split for v in values),
        total_volume=math.fsum(line[5] for line in lines),
        lines=lines,
        unparsed=unparsed_rows,
    )
