"""Reads of routing's risk model: the kills kept in Redis, each system's risk from them, and the SDE facts of kills."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings

from evesite.exceptions import InvalidInputError
from routing.cache import KILLS_KEY, SYSTEM_KILLS_KEY, routing_redis
from universe.models import ItemType, Stargate

RISK_LEVELS: tuple[str, ...] = ("critical", "high", "elevated")


@dataclass(frozen=True)
class SystemRisk:
    """The risk of one system, computed from the kills kept in Redis."""

    system_id: int
    level: str | None
    reasons: list[str]
    kills_last_hour: int
    penalty: float
    # Epoch seconds when this risk changes next because a kill gets old (None: never by itself).
    changes_at: float | None = None


@dataclass(frozen=True)
class KillEntry:
    """One kill as kept in Redis for the risk model."""

    killmail_id: int
    system_id: int
    time: float
    smartbomb: bool
    gate: str | None

    def member(self) -> str:
        """Serialise the entry as a stable sorted-set member (the same kill gives the same member).

        Returns:
            Compact JSON.
        """
        return json.dumps(
            {"id": self.killmail_id, "sys": self.system_id, "t": self.time, "sb": self.smartbomb, "gate": self.gate},
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_member(cls, raw: bytes | str) -> KillEntry:
        """Parse a sorted-set member.

        Args:
            raw: The member.

        Returns:
            The entry.
        """
        data = json.loads(raw)
        return cls(int(data["id"]), int(data["sys"]), float(data["t"]), bool(data["sb"]), data.get("gate"))


def _penalty(level: str | None) -> float:
    """Return the weight penalty of a risk level."""
    return {
        "critical": float(settings.ROUTING_PENALTY_CRITICAL),
        "high": float(settings.ROUTING_PENALTY_HIGH),
        "elevated": float(settings.ROUTING_PENALTY_ELEVATED),
    }.get(level or "", 0.0)


def system_kills_get() -> tuple[dict[int, tuple[int, int, int]], float | None]:
    """Return ESI's last hourly kill counts kept in Redis.

    Returns:
        ``{system_id: (ship_kills, pod_kills, npc_kills)}`` and when they expire (epoch seconds), if kept.
    """
    raw = routing_redis().get(SYSTEM_KILLS_KEY)
    if not raw:
        return {}, None
    data = json.loads(raw)
    systems = {int(k): (int(v[0]), int(v[1]), int(v[2])) for k, v in data["systems"].items()}
    return systems, float(data["expires_at"])


def _system_risk(
    system_id: int,
    kills: list[KillEntry],
    esi_counts: tuple[int, int, int] | None,
    esi_expires: float | None,
    now: float,
) -> SystemRisk:
    """Work out one system's risk level and reasons."""
    window = float(settings.ROUTING_CRITICAL_WINDOW_MINUTES) * 60.0
    recent = [k for k in kills if now - window <= k.time <= now + 60]
    hour = [k for k in kills if now - 3600.0 <= k.time <= now + 60]
    esi_kills = (esi_counts[0] + esi_counts[1]) if esi_counts else 0
    kills_last_hour = max(len(hour), esi_kills)
    reasons: list[str] = []
    level: str | None = None
    if len(recent) >= int(settings.ROUTING_CRITICAL_KILLS):
        where = ""
        gates = Counter(k.gate for k in recent if k.gate)
        if gates:
            gate, count = gates.most_common(1)[0]
            where = f" at {gate}" if count * 2 > len(recent) else ""
        reasons.append(f"{len(recent)} kills in {settings.ROUTING_CRITICAL_WINDOW_MINUTES:g} min{where}")
        level = "critical"
    smartbombs = [k for k in recent if k.smartbomb]
    if smartbombs:
        latest = max(smartbombs, key=lambda k: k.time)
        minutes = max(0, int((now - latest.time) // 60))
        reasons.append(f"smartbomb kill {minutes} min ago" + (f" at {latest.gate}" if latest.gate else ""))
        level = "critical"
    if kills_last_hour >= int(settings.ROUTING_HIGH_KILLS_PER_HOUR):
        reasons.append(f"{kills_last_hour} ship/pod kills in the last hour")
        level = level or "high"
    elif kills_last_hour >= int(settings.ROUTING_ELEVATED_KILLS_PER_HOUR):
        reasons.append(f"{kills_last_hour} ship/pod kills in the last hour")
        level = level or "elevated"
    changes = [k.time + window for k in recent] + [k.time + 3600.0 for k in hour]
    if esi_kills and esi_expires is not None:
        changes.append(esi_expires)
    future = [c for c in changes if c > now]
    return SystemRisk(
        system_id=system_id,
        level=level,
        reasons=reasons,
        kills_last_hour=kills_last_hour,
        penalty=_penalty(level),
        changes_at=min(future) if future else None,
    )


def risk_levels_compute(*, now: float | None = None) -> dict[int, SystemRisk]:
    """Compute every system's risk from the kills kept in Redis.

    Critical: at least ``ROUTING_CRITICAL_KILLS`` kills within ``ROUTING_CRITICAL_WINDOW_MINUTES``, or a
    smartbomb kill within that window. High / elevated: ship and pod kills in the last hour (the larger of
    ESI's hourly count and the feed's) of at least ``ROUTING_HIGH_KILLS_PER_HOUR`` /
    ``ROUTING_ELEVATED_KILLS_PER_HOUR``.

    Args:
        now: Epoch seconds (defaults to the clock).

    Returns:
        The risk of every system that had a kill, by system id.
    """
    now = time.time() if now is None else now
    horizon = max(3600.0, float(settings.ROUTING_CRITICAL_WINDOW_MINUTES) * 60.0)
    by_system: dict[int, list[KillEntry]] = {}
    for raw in routing_redis().zrangebyscore(KILLS_KEY, now - horizon, "+inf"):
        entry = KillEntry.from_member(raw)
        by_system.setdefault(entry.system_id, []).append(entry)
    esi, esi_expires = system_kills_get()
    result: dict[int, SystemRisk] = {}
    for system_id in set(by_system) | {s for s, c in esi.items() if c[0] + c[1] > 0}:
        risk = _system_risk(system_id, by_system.get(system_id, []), esi.get(system_id), esi_expires, now)
        if risk.level or risk.kills_last_hour:
            result[system_id] = risk
    return result


def risk_list(*, level: str | None = None) -> list[SystemRisk]:
    """List the flagged systems, most dangerous first.

    Args:
        level: Only this level (``critical``, ``high`` or ``elevated``).

    Returns:
        The flagged systems.

    Raises:
        InvalidInputError: For an unknown level.
    """
    if level is not None and level not in RISK_LEVELS:
        raise InvalidInputError(f"Unknown risk level {level!r}: use one of {', '.join(RISK_LEVELS)}.", field="level")
    risks = [r for r in risk_levels_compute().values() if r.level and (level is None or r.level == level)]
    return sorted(risks, key=lambda r: (RISK_LEVELS.index(r.level or ""), -r.kills_last_hour, r.system_id))


def smartbomb_type_ids() -> frozenset[int]:
    """Return the type ids of the SDE's Smart Bomb group.

    Returns:
        The ids (empty while the SDE is not loaded).
    """
    return frozenset(ItemType.objects.filter(group__name="Smart Bomb").values_list("id", flat=True))


def stargates_get(*, system_ids: Sequence[int]) -> dict[int, list[tuple[str, float, float, float]]]:
    """Return the stargates (name and position in metres) of some systems, from the SDE.

    Args:
        system_ids: The systems.

    Returns:
        ``{system_id: [(name, x, y, z), ...]}``.
    """
    gates: dict[int, list[tuple[str, float, float, float]]] = {}
    for system_id, name, x, y, z in Stargate.objects.filter(system_id__in=set(system_ids)).values_list(
        "system_id", "name", "x", "y", "z"
    ):
        gates.setdefault(system_id, []).append((name, x, y, z))
    return gates
