"""Pydantic schemas of routing's API (shapes only; no logic)."""

from __future__ import annotations

from typing import Literal

import pydantic

from evesite.schemas import Schema

# routing.graph.MODES and routing.risk.RISK_LEVELS (most dangerous first); a test keeps them equal.
RouteMode = Literal["shortest", "secure", "insecure"]
RiskLevel = Literal["critical", "high", "elevated"]

_SYSTEM = "System id or name (case-insensitive, exact)."
# Names are stripped of whitespace (Python's, as ``\s`` of this pattern): one that is only whitespace is blank.
_NOT_BLANK = r"\S"


class RouteQuery(Schema):
    """Query parameters of ``GET /api/routes/``."""

    origin: str = pydantic.Field(min_length=1, pattern=_NOT_BLANK, description=_SYSTEM)
    destination: str = pydantic.Field(min_length=1, pattern=_NOT_BLANK, description=_SYSTEM)
    mode: RouteMode | None = pydantic.Field(None, description="Default: the user's setting, else shortest.")
    avoid: str | None = pydantic.Field(
        None, description="Comma-separated system ids or names never entered; default: the user's avoid list."
    )
    avoid_risk: bool = pydantic.Field(True, description="Add the kill-risk penalties.")


class RouteSystem(Schema):
    """One system of a route."""

    id: int
    name: str
    security: float
    security_display: float = pydantic.Field(description="As EVE shows it (0 < s < 0.05 shows 0.1).")
    region: str | None
    risk: RiskLevel | None
    kills_last_hour: int
    risk_reasons: list[str]


class Route(Schema):
    """A route; ``jumps == len(systems) - 1``."""

    origin: RouteSystem
    destination: RouteSystem
    mode: RouteMode
    avoid_risk: bool
    avoid: list[int]
    jumps: int
    systems: list[RouteSystem]
    total_weight: float


class RiskQuery(Schema):
    """Query parameters of ``GET /api/risk/``."""

    level: RiskLevel | None = pydantic.Field(None, description="Only systems of this level.")


class SystemRisk(Schema):
    """A flagged system."""

    system_id: int
    name: str
    level: RiskLevel
    reasons: list[str]
    kills_last_hour: int
    penalty: float = pydantic.Field(description="Extra weight of every gate into the system.")


class RouteSummary(Schema):
    """A route in numbers, counted over the systems entered (high-sec ``security >= 0.45``, null-sec ``<= 0``)."""

    mode: RouteMode
    jumps: int = pydantic.Field(ge=0)
    min_security: float = pydantic.Field(description="Lowest raw SDE security entered (the system's own at 0 jumps).")
    high_sec_jumps: int = pydantic.Field(ge=0)
    low_sec_jumps: int = pydantic.Field(ge=0)
    null_sec_jumps: int = pydantic.Field(ge=0)
    max_risk: RiskLevel | None = pydantic.Field(description="The most dangerous risk level entered, if any.")
