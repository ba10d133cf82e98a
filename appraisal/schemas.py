"""Pydantic schemas of appraisal: the request, the stored appraisal, and the answer while prices are fetched."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import pydantic

from appraisal.models import LINE_FIELDS
from evesite.schemas import Schema, percent_field
from jobs.schemas import JobOut

Flag = Literal["blueprint_copy", "thin_book", "no_sell_orders", "no_buy_orders"]


class AppraisalIn(Schema):
    """A paste to value."""

    text: str = pydantic.Field(
        pattern=r"\S",
        description="What was copied in the game: inventory, cargo or contract lists, `name x N`, `N name`, "
        "one name per line, EFT fittings. At most 100 KiB and 5,000 lines (413 beyond).",
    )
    market: str = pydantic.Field(
        "jita",
        min_length=1,
        max_length=32,
        description="jita, amarr, dodixie, rens, hek (any case), or an SDE NPC station id.",
    )
    sales_tax: float | None = percent_field(
        None, description="Percent taken from the buy value; default: your settings, else the site's."
    )


class AppraisalMarketOut(Schema):
    """Where and from which prices the paste was valued."""

    name: str = pydantic.Field(description="The market as asked (lowercase hub name, or the station id).")
    station_id: int
    station_name: str
    region_id: int
    snapshot_id: int = pydantic.Field(description="The region's market snapshot the orders came from.")
    prices_as_of: datetime = pydantic.Field(description="When that snapshot was fetched from ESI.")


class AppraisalTotalsOut(Schema):
    """Sums over the lines."""

    sell: float = pydantic.Field(description="ISK to buy everything from the sell book.")
    buy: float = pydantic.Field(description="ISK selling everything into the buy book gets, after sales tax.")
    split: float = pydantic.Field(description="(sell + buy) / 2.")
    volume: float = pydantic.Field(description="m3, packaged volume where the SDE has it.")
    lines: int = pydantic.Field(description="Lines valued.")
    unparsed: int = pydantic.Field(description="Lines nothing could be made of.")


class AppraisalLineOut(Schema):
    """One valued line."""

    line: int = pydantic.Field(description="Line number in the text (1-based).")
    type_id: int
    name: str = pydantic.Field(description="The SDE type name.")
    quantity: int
    unit_volume: float
    volume: float
    sell: float
    buy: float
    split: float
    sell_unfilled: int = pydantic.Field(description="Units past the sell book's depth (valued at its last price).")
    buy_unfilled: int = pydantic.Field(description="Units past the buy book's depth (valued at its last price).")
    flags: list[Flag]


def _field_type(name: str) -> Any:
    """An ``AppraisalLineOut`` field's type with its constraints, as the model checks it."""
    field = AppraisalLineOut.model_fields[name]
    return Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation


# Stored lines (arrays in LINE_FIELDS order) checked as rows of AppraisalLineOut's field types: the same checks
# and coercions as a model per line, in a sixth of the time (5,000 line models cost more than the rest of an answer).
_LINE_ROWS_TYPE: Any = list.__class_getitem__(tuple.__class_getitem__(tuple(_field_type(n) for n in LINE_FIELDS)))
LINE_ROWS: pydantic.TypeAdapter[list[tuple[Any, ...]]] = pydantic.TypeAdapter(_LINE_ROWS_TYPE)


class AppraisalUnparsedOut(Schema):
    """A line nothing could be made of."""

    line: int
    text: str
    reason: str


class AppraisalOut(Schema):
    """A stored appraisal."""

    id: uuid.UUID
    created: datetime
    market: AppraisalMarketOut
    sales_tax: float
    totals: AppraisalTotalsOut
    lines: list[AppraisalLineOut]
    unparsed: list[AppraisalUnparsedOut]


class AppraisalPendingOut(Schema):
    """No orders of the market's region are stored yet: the refresh job to poll (``GET /api/jobs/{id}/``)."""

    detail: str
    job: JobOut
