"""Writes of routing: gate weights, kill intake (ESI and zKillboard R2Z2) and the risk written to the graph."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings

from esi.client import EsiClient
from esi.models import Killmail, SystemKills
from evesite.graph import graph_query
from routing import graph
from routing.cache import JUMP_GRAPH_KEY, KILLS_KEY, RISK_FRESH_KEY, SYSTEM_KILLS_KEY, WEIGHTS_OK_KEY, routing_redis
from routing.jumps_graph import weighted_graph_forget
from routing.models import KillFeedCursor
from routing.risk import KillEntry, risk_levels_compute, smartbomb_type_ids, stargates_get
from routing.selectors import GateWeightsMissingError, Route, route_read
from routing.systems import system_names_forget
from routing.zkillboard import R2z2Client

logger = logging.getLogger("routing")

R2Z2_FEED = "r2z2"
# A cursor further behind the feed than this many runs' worth of records jumps ahead.
FEED_MAX_LAG_RUNS = 10
# The Redis lock that keeps feed runs (Celery task or ``manage.py poll_kill_feed``) one at a time, and the
# longest a run may hold it (a run reads at most ZKILLBOARD_MAX_RECORDS_PER_RUN records).
FEED_POLL_LOCK_KEY = "routing:zkill_feed_poll"
FEED_POLL_LOCK_SECONDS = 600


@dataclass(frozen=True)
class RiskSyncReport:
    """What one risk write to the graph did."""

    flagged: int
    systems_written: int
    gates_written: int


@dataclass(frozen=True)
class FeedPollReport:
    """What one run of the R2Z2 consumer did."""

    start_sequence: int
    next_sequence: int
    records: int
    kills_recorded: int
    reached_end: bool


def route_weights_refresh() -> int:
    """(Re)compute the six weights of every gate in one statement (after ingestion, or when missing).

    Also forgets this process's system-name index, so renamed or new systems are found, and the graph's
    fingerprint (:mod:`routing.jumps`), which covers the weights: readers read the graph again once.

    Returns:
        The number of gates written.
    """
    label = graph.graph_label()
    system_names_forget()
    for name in graph.ROUTING_PROPERTIES:  # known property keys keep Neo4j from warning about them in queries
        graph_query("CALL db.createProperty($name)", {"name": name})
    gates = int(graph_query(graph.weights_all_query(label), graph.row_params())[0]["gates"])
    routing_redis().delete(JUMP_GRAPH_KEY.format(label=label))
    weighted_graph_forget()
    routing_redis().set(WEIGHTS_OK_KEY.format(label=label), "1", ex=max(1, int(settings.ROUTING_WEIGHTS_CHECK_SECONDS)))
    logger.info("Routing weights written on %d gates of :%s", gates, label)
    return gates


def risk_graph_sync(*, now: float | None = None) -> RiskSyncReport:
    """Write every system's current risk, and the risk weights of the gates into it, in one batched statement.

    Systems whose risk went away are cleared in the same batch. Redis remembers
    until when the written risk stays true (``RISK_FRESH_KEY``), so route
    queries know when to call this again.

    Args:
        now: Epoch seconds (defaults to the clock).

    Returns:
        What was written.
    """
    now = time.time() if now is None else now
    label = graph.graph_label()
    risks = risk_levels_compute(now=now)
    previous = {int(r["id"]) for r in graph_query(graph.risk_flagged_query(label))}
    rows = [
        {
            "id": r.system_id,
            "level": r.level,
            "reasons": r.reasons or None,
            "kills": r.kills_last_hour or None,
            "penalty": r.penalty or None,
        }
        for r in risks.values()
    ]
    rows += [{"id": s, "level": None, "reasons": None, "kills": None, "penalty": None} for s in previous - set(risks)]
    gates = 0
    if rows:
        gates = int(graph_query(graph.risk_write_query(label), graph.row_params(rows=rows))[0]["gates"])
    changes = [r.changes_at - now for r in risks.values() if r.changes_at is not None]
    trust = min([float(settings.ROUTING_RISK_RESYNC_SECONDS), *changes])
    routing_redis().set(RISK_FRESH_KEY.format(label=label), "1", px=max(1, math.ceil(trust * 1000)))
    flagged = sum(1 for r in risks.values() if r.level)
    logger.info("Risk written to :%s: %d flagged, %d systems, %d gates", label, flagged, len(rows), gates)
    return RiskSyncReport(flagged=flagged, systems_written=len(rows), gates_written=gates)


def _nearest_gate(
    position: tuple[float, float, float] | None, gates: list[tuple[str, float, float, float]]
) -> str | None:
    """Name the stargate nearest to a position when it lies within ``ROUTING_GATE_RADIUS_KM``."""
    if position is None or not gates:
        return None
    best = min(gates, key=lambda g: math.dist(position, g[1:]))
    return best[0] if math.dist(position, best[1:]) <= float(settings.ROUTING_GATE_RADIUS_KM) * 1000.0 else None


def kills_record(*, killmails: Iterable[Killmail], now: float | None = None) -> int:
    """Keep recent killmails in Redis for the risk model (idempotent: a kill is kept once).

    Each kill is tagged with whether an attacker used a smartbomb (the SDE's
    Smart Bomb group) and the stargate within ``ROUTING_GATE_RADIUS_KM`` of the
    victim. Kills older than ``ROUTING_KILL_TTL_SECONDS`` are dropped.

    Args:
        killmails: ESI killmails.
        now: Epoch seconds (defaults to the clock).

    Returns:
        How many kills were new.
    """
    now = time.time() if now is None else now
    ttl = int(settings.ROUTING_KILL_TTL_SECONDS)
    fresh = [k for k in killmails if k.killmail_time.timestamp() >= now - ttl]
    redis = routing_redis()
    redis.zremrangebyscore(KILLS_KEY, "-inf", now - ttl)
    if not fresh:
        return 0
    bombs = smartbomb_type_ids()
    gates = stargates_get(system_ids=[k.solar_system_id for k in fresh])
    mapping: dict[str, float] = {}
    for kill in fresh:
        position = kill.victim.position
        entry = KillEntry(
            killmail_id=kill.killmail_id,
            system_id=kill.solar_system_id,
            time=kill.killmail_time.timestamp(),
            smartbomb=any(a.weapon_type_id in bombs for a in kill.attackers if a.weapon_type_id is not None),
            gate=_nearest_gate(
                (position.x, position.y, position.z) if position else None, gates.get(kill.solar_system_id, [])
            ),
        )
        mapping[entry.member()] = entry.time
    added = int(redis.zadd(KILLS_KEY, mapping))
    redis.expire(KILLS_KEY, ttl)
    return added


def system_kills_refresh(*, client: EsiClient | None = None) -> int:
    """Fetch ESI's ship, pod and NPC kills of the last hour per system, keep them, and write the risk.

    Args:
        client: ESI client (a new one otherwise).

    Returns:
        The number of systems ESI listed.
    """
    response = (client or EsiClient()).get("/universe/system_kills")
    rows: list[SystemKills] = response.models or [SystemKills.model_validate(r) for r in response.data]
    ttl = int(settings.ROUTING_SYSTEM_KILLS_TTL_SECONDS)
    payload = {
        "systems": {str(r.system_id): [r.ship_kills, r.pod_kills, r.npc_kills] for r in rows},
        "expires_at": time.time() + ttl,
    }
    routing_redis().set(SYSTEM_KILLS_KEY, json.dumps(payload), ex=ttl)
    risk_graph_sync()
    return len(rows)


def zkill_feed_poll(*, max_records: int | None = None, client: R2z2Client | None = None) -> FeedPollReport:
    """Read the R2Z2 feed from where the last run stopped until its end (or ``max_records``), then write the risk.

    The first run starts at the feed's latest sequence number. A 404 is the
    end of the feed only when ``sequence.json`` agrees; a record missing below
    the latest sequence (a gap, or one that expired while we were away) is
    skipped, and a cursor more than ``FEED_MAX_LAG_RUNS`` runs behind jumps
    forward (kills that old no longer matter for the risk). The position is
    saved once the run's kills are kept, so a crash only makes the next run
    read them again (harmless: a kill is kept once).

    Args:
        max_records: At most this many records (``ZKILLBOARD_MAX_RECORDS_PER_RUN`` by default).
        client: R2Z2 client (a new one otherwise).

    Returns:
        What the run read.
    """
    client = client or R2z2Client()
    limit = int(settings.ZKILLBOARD_MAX_RECORDS_PER_RUN if max_records is None else max_records)
    cursor = KillFeedCursor.objects.filter(name=R2Z2_FEED).first()
    if cursor is None:
        cursor = KillFeedCursor.objects.create(name=R2Z2_FEED, next_sequence=client.sequence_latest())
    start = cursor.next_sequence
    killmails: list[Killmail] = []
    reached_end = False
    sequence = start
    latest: int | None = None
    while len(killmails) < limit:
        record = client.record_get(sequence)
        if record is not None:
            killmails.append(record.esi)
            sequence += 1
            continue
        if latest is None or sequence >= latest:
            latest = client.sequence_latest()
        if sequence >= latest:
            reached_end = True
            break
        if latest - sequence > FEED_MAX_LAG_RUNS * limit:
            logger.warning("R2Z2 cursor %d is far behind the feed (%d): jumping ahead", sequence, latest)
            sequence = latest - limit
        else:
            logger.info("R2Z2 record %d is missing below the latest %d: skipped", sequence, latest)
            sequence += 1
    recorded = kills_record(killmails=killmails)
    if sequence != cursor.next_sequence:
        cursor.next_sequence = sequence
        cursor.save(update_fields=["next_sequence", "updated_at"])
    if killmails:
        risk_graph_sync()
    return FeedPollReport(
        start_sequence=start,
        next_sequence=cursor.next_sequence,
        records=len(killmails),
        kills_recorded=recorded,
        reached_end=reached_end,
    )


def zkill_feed_poll_locked(
    *, max_records: int | None = None, client: R2z2Client | None = None
) -> FeedPollReport | None:
    """Run :func:`zkill_feed_poll` under the feed's Redis lock, so only one run reads the feed at a time.

    Args:
        max_records: At most this many records (``ZKILLBOARD_MAX_RECORDS_PER_RUN`` by default).
        client: R2Z2 client (a new one otherwise).

    Returns:
        What the run read, or None when another run holds the lock (nothing was requested).
    """
    lock = routing_redis().lock(FEED_POLL_LOCK_KEY, timeout=FEED_POLL_LOCK_SECONDS)
    if not lock.acquire(blocking=False):
        logger.info("Another R2Z2 feed run holds %s: skipped", FEED_POLL_LOCK_KEY)
        return None
    try:
        return zkill_feed_poll(max_records=max_records, client=client)
    finally:
        lock.release()


def route_weights_ensure() -> None:
    """Write the gates' weights when some lack them (a graph ingested since).

    The check runs at most every ``ROUTING_WEIGHTS_CHECK_SECONDS``.
    """
    label = graph.graph_label()
    key = WEIGHTS_OK_KEY.format(label=label)
    if routing_redis().get(key):
        return
    route_weights_complete(label=label)
    routing_redis().set(key, "1", ex=max(1, int(settings.ROUTING_WEIGHTS_CHECK_SECONDS)))


def route_weights_complete(*, label: str) -> None:
    """Write the gates' weights now when some gate of ``label`` lacks them (no Redis shortcut)."""
    if graph_query(graph.weights_missing_query(label))[0]["missing"]:
        route_weights_refresh()


def graph_state_ensure() -> None:
    """Make sure every gate carries its weights and the graph's risk has not outlived its kills.

    The weights: :func:`route_weights_ensure`. The risk in the graph is trusted
    while the Redis key ``RISK_FRESH_KEY`` lives: until the first kill gets old,
    and at most ``ROUTING_RISK_RESYNC_SECONDS`` (so a lost Redis never leaves
    stale risk in the graph).
    """
    route_weights_ensure()
    if not routing_redis().get(RISK_FRESH_KEY.format(label=graph.graph_label())):
        risk_graph_sync()


def route_find(
    *,
    origin: int | str,
    destination: int | str,
    mode: str = "shortest",
    avoid: Sequence[int | str] = (),
    avoid_risk: bool = True,
) -> Route:
    """Bring the graph's weights and risk up to date, then read the route (see :func:`route_read`).

    A route over gates without weights (a graph ingested since the last check) recomputes every gate's
    weights and is read again.

    Args:
        origin: System id or name (case-insensitive, exact).
        destination: System id or name.
        mode: ``shortest``, ``secure`` or ``insecure``.
        avoid: Systems (ids or names) never entered, except as origin or destination.
        avoid_risk: Add the risk penalties to the weights.

    Returns:
        The route.
    """
    graph_state_ensure()
    kwargs = {"origin": origin, "destination": destination, "mode": mode, "avoid": avoid, "avoid_risk": avoid_risk}
    try:
        return route_read(**kwargs)  # type: ignore[arg-type]
    except GateWeightsMissingError:
        logger.warning("A route used gates without weights: recomputing every gate's weights")
        route_weights_refresh()
        return route_read(**kwargs)  # type: ignore[arg-type]
