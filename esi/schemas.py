"""Pydantic schemas of esi's API (shapes only; no logic)."""

from __future__ import annotations

import pydantic

from evesite.schemas import Schema


class EsiCall(Schema):
    """One of the last ESI calls."""

    at: float = pydantic.Field(description="Epoch seconds.")
    method: str
    url: str
    status: str = pydantic.Field(
        coerce_numbers_to_str=True, description="HTTP status, or 'timeout' / 'connection-error'."
    )
    limit_remain: int | None
    duration_ms: float
    error: bool


class EsiStatusOutput(Schema):
    """What the status endpoint answers."""

    lockdown_active: bool
    lockdown_ttl_seconds: float | None
    lockdown_reason: dict[str, pydantic.JsonValue] | None
    error_limit_remain: int | None
    error_limit_reset_seconds: float | None
    error_limit_seen_at: float | None
    bucket: dict[str, pydantic.JsonValue] | None
    rate_groups: list[dict[str, pydantic.JsonValue]]
    counters: dict[str, int]
    calls: list[EsiCall]
