"""Writes of appraisal: value a paste at a station and store it."""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from appraisal.limits import paste_limits_check
from appraisal.models import LINE_FIELDS, Appraisal
from appraisal.parser import paste_keys, paste_parse, paste_resolve, text_lines
from appraisal.selectors import (
    MarketRef,
    appraisal_book_columns_get,
    appraisal_market_resolve,
    appraisal_types_get,
)
from appraisal.valuation import LineInput
from appraisal.valuation_columns import lines_value_columns
from evesite.exceptions import NotFoundError, ServiceUnavailableError
from jobs.models import Job
from market.refresh import market_refresh_retry_after, market_region_snapshot_state


@dataclass(frozen=True)
class AppraisalPending:
    """No orders of the market's region are stored yet; a refresh job fetches them."""

    job: Job
    retry_after: int


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector around allocation-heavy work that makes no reference cycles.

    A 5,000-line paste allocates a few hundred thousand tuples and dicts; with a web process's objects
    alive, the collections they trigger cost more than the parsing itself (and what survives one is later
    traversed again by full collections). Reference counting still frees everything here. Nested pauses
    resume collecting only when the outermost ends.

    Yields:
        Nothing; collecting resumes on exit unless it was already off.
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
    with gc_paused():
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
    orders = appraisal_book_columns_get(
        snapshot_id=state.snapshot.pk,
        station_id=where.station_id,
        type_ids={i.type_id for i in inputs if not i.blueprint_copy},
    )
    values = lines_value_columns(lines=inputs, columns=orders, sales_tax=sales_tax)
    lines: list[list[Any]] = []  # in LINE_FIELDS order (a LineValue holds the last six)
    for (number, key, quantity, _), value in zip(resolved, values, strict=True):
        type_id, name, unit_volume = types[key]
        lines.append([number, type_id, name, quantity, unit_volume, unit_volume * quantity, *value])
    column = dict(zip(LINE_FIELDS, zip(*lines, strict=True), strict=True))
    return Appraisal.objects.create(
        market=where.name,
        station_id=where.station_id,
        station_name=where.station_name,
        region_id=where.region_id,
        snapshot_id=state.snapshot.pk,
        prices_as_of=state.snapshot.fetched_at,
        sales_tax=sales_tax,
        total_sell=math.fsum(column["sell"]),
        total_buy=math.fsum(column["buy"]),
        total_split=math.fsum(column["split"]),
        total_volume=math.fsum(column["volume"]),
        lines=lines,
        unparsed=unparsed_rows,
    )
