"""Reads of the ESI client's shared state (for the status API and the admin page)."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from esi import limits


@dataclass(frozen=True)
class EsiStatusReport:
    """The ESI client's state as every process shares it through Redis."""

    lockdown_active: bool
    lockdown_ttl_seconds: float | None
    lockdown_reason: dict[str, Any] | None
    error_limit_remain: int | None
    error_limit_reset_seconds: float | None
    error_limit_seen_at: float | None
    bucket: dict[str, Any] | None
    rate_groups: list[dict[str, Any]] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Return the report as plain data.

        Returns:
            A JSON-friendly dict.
        """
        return asdict(self)


def esi_status_get(*, calls: int = limits.CALLS_KEPT) -> EsiStatusReport:
    """Collect the lockdown, the budgets, the bucket, the counters and the last calls.

    Args:
        calls: How many of the last calls to include (at most 50 are kept).

    Returns:
        The report.
    """
    ttl = limits.lockdown_ttl()
    state = limits.error_limit_get()
    now = time.time()
    groups = [
        {
            "group": g.group,
            "owner": g.owner,
            "limit": g.limit,
            "remaining": g.remaining,
            "estimated_remaining": g.estimated_remaining,
            "used": g.used,
            "seen_at": g.seen_at,
        }
        for g in limits.rate_groups_all()
    ]
    return EsiStatusReport(
        lockdown_active=ttl is not None,
        lockdown_ttl_seconds=None if ttl is None or math.isinf(ttl) else round(ttl, 3),
        lockdown_reason=limits.lockdown_reason(),
        error_limit_remain=state.remain if state else None,
        error_limit_reset_seconds=round(state.reset_in(now), 3) if state else None,
        error_limit_seen_at=state.seen_at if state else None,
        bucket=limits.bucket_last(),
        rate_groups=groups,
        counters=limits.stats_get(),
        calls=limits.calls_recent(calls),
    )
