"""What a hauler wants to know of a road: jumps and the security and risk of the systems entered."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from universe.security import HIGH_SEC_MIN

# Most dangerous first, as routing.risk.RISK_LEVELS.
_RISK_ORDER: tuple[str, ...] = ("critical", "high", "elevated")


@dataclass(frozen=True)
class RouteSummary:
    """A route in numbers, counted over the systems entered (the origin is not entered).

    High-sec is ``security >= 0.45``, low-sec ``0 < security < 0.45``, null-sec ``security <= 0`` (raw SDE values).
    A route inside one system has 0 jumps, its own security as ``min_security`` and no risk.
    """

    mode: str
    jumps: int
    min_security: float
    high_sec_jumps: int
    low_sec_jumps: int
    null_sec_jumps: int
    max_risk: str | None


def risk_max(levels: Iterable[str | None]) -> str | None:
    """Return the most dangerous risk level of some systems (None when none is flagged)."""
    present = set(levels)
    return next((level for level in _RISK_ORDER if level in present), None)


def route_summarize(*, mode: str, securities: list[float], risks: list[str | None]) -> RouteSummary:
    """Summarise a route from its systems, origin first.

    Args:
        mode: The route mode.
        securities: Raw security of every system of the route, origin first.
        risks: Risk level of every system of the route, origin first.

    Returns:
        The summary over the systems entered (all but the origin).
    """
    entered = securities[1:]
    return RouteSummary(
        mode=mode,
        jumps=len(entered),
        min_security=min(entered) if entered else securities[0],
        high_sec_jumps=sum(1 for s in entered if s >= HIGH_SEC_MIN),
        low_sec_jumps=sum(1 for s in entered if 0 < s < HIGH_SEC_MIN),
        null_sec_jumps=sum(1 for s in entered if s <= 0),
        max_risk=risk_max(risks[1:]),
    )
