"""Health selector: the datastores the API depends on, and the background pipeline's state.

Only the datastores (PostgreSQL, Redis, Neo4j, APOC) make the API fail, so only they
are ever *failing*. The pipeline's parts (a Celery worker, beat, the SDE, the market
snapshots) are reported for the operator and never make the endpoint answer 503.
Each datastore check makes the read the pipeline report needs, so a healthy answer costs one
Redis and one Neo4j round trip (health is probed while the server is busy: every wait counts).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from django_redis import get_redis_connection

from evesite.beat import BEAT_LAST_TICK_KEY
from evesite.celery import app
from evesite.graph import graph_query
from market.selectors import market_snapshots_current_list
from universe.selectors import sde_present

logger = logging.getLogger(__name__)

#: Redis key caching the ping's answer, and for how long: health stays cheap (one ping per 10 s at most).
WORKER_CACHE_KEY = "evesite:health:worker"
WORKER_CACHE_SECONDS = 10
#: The last answer, kept after the cache expires: health reports it while a thread pings again.
WORKER_LAST_KEY = "evesite:health:worker:last"
#: Held while one thread pings, so that concurrent probes start one ping between them.
WORKER_PINGING_KEY = "evesite:health:worker:pinging"
#: What a part reads when the datastore it is read from is down.
UNKNOWN = "unknown"
#: What a stranger reads instead of a failing part's error text.
FAILING = "failing"
#: The datastores: a stranger reads ``"ok"`` or ``"failing"`` for each.
DATASTORES = ("postgres", "redis", "neo4j", "apoc")
#: The fixed states a pipeline part may report; a stranger reads ``"failing"`` for anything else (an error text).
PUBLIC_STATES = frozenset({"ok", "no reply", "missing", UNKNOWN})


def _short(exc: Exception) -> str:
    """One line naming an exception."""
    first_line = (str(exc).splitlines() or [""])[0][:200]
    return f"{type(exc).__name__}: {first_line}"


@dataclass
class _Reads:
    """What the datastore checks read on the way, reused by the pipeline report (one round trip per store)."""

    sde: bool | None = None
    worker: bytes | None = None
    worker_last: bytes | None = None
    beat: bytes | None = None


def _datastores_status() -> tuple[dict[str, Any], list[str], _Reads]:
    """Check PostgreSQL, Redis, Neo4j and APOC, each with the read the pipeline report needs anyway."""
    status: dict[str, Any] = {}
    failing: list[str] = []
    reads = _Reads()
    try:
        reads.sde = sde_present()
        status["postgres"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        status["postgres"] = _short(exc)
        failing.append("postgres")
    try:
        keys = [WORKER_CACHE_KEY, WORKER_LAST_KEY, BEAT_LAST_TICK_KEY]
        reads.worker, reads.worker_last, reads.beat = get_redis_connection("default").mget(keys)
        status["redis"] = "ok"
    except Exception as exc:  # noqa: BLE001
        status["redis"] = _short(exc)
        failing.append("redis")
    try:
        version = str(graph_query("RETURN apoc.version() AS v")[0]["v"])
    except Exception as exc:  # noqa: BLE001 - Neo4j down, or up without APOC: one more query tells which
        apoc_error = _short(exc)
        try:
            graph_query("RETURN 1 AS one")
        except Exception as down:  # noqa: BLE001
            status["neo4j"], status["apoc"] = _short(down), "unavailable"
            failing += ["neo4j", "apoc"]
        else:
            status["neo4j"], status["apoc"] = "ok", apoc_error
            failing.append("apoc")
    else:
        status["neo4j"], status["apoc"] = "ok", version
    return status, failing, reads


def _worker_ping() -> str:
    """Ping the Celery workers and store the answer (cached, and as the last one)."""
    try:
        replies = app.control.ping(timeout=settings.HEALTH_WORKER_PING_SECONDS, limit=1)
        answer = "ok" if replies else "no reply"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        answer = _short(exc)
    pipe = get_redis_connection("default").pipeline(transaction=False)
    pipe.set(WORKER_CACHE_KEY, answer, ex=WORKER_CACHE_SECONDS)
    pipe.set(WORKER_LAST_KEY, answer)
    pipe.execute()
    return answer


def _worker_ping_in_background() -> None:
    """Start a ping on a thread of its own, unless another probe already started one."""
    lock_seconds = max(1, math.ceil(float(settings.HEALTH_WORKER_PING_SECONDS)) + 1)
    if get_redis_connection("default").set(WORKER_PINGING_KEY, "1", nx=True, ex=lock_seconds):
        threading.Thread(target=_worker_ping, name="health-worker-ping", daemon=True).start()


def worker_status(*, cached: bytes | None = None, last: bytes | None = None) -> str:
    """Report the Celery workers' answer to a ping (cached in Redis for a few seconds).

    Only the first ping waits for the answer. Once the cache expires, health reports the last
    answer while a thread pings again, so no probe waits up to ``HEALTH_WORKER_PING_SECONDS``.

    Args:
        cached: The cached answer when the caller already read ``WORKER_CACHE_KEY``.
        last: The last answer when the caller already read ``WORKER_LAST_KEY``.

    Returns:
        ``"ok"`` when a worker answered within ``settings.HEALTH_WORKER_PING_SECONDS``,
        ``"no reply"`` when none did, or an error text when the broker failed.
    """
    if cached is not None:
        return bytes(cached).decode()
    if last is None:
        return _worker_ping()
    _worker_ping_in_background()
    return bytes(last).decode()


def beat_status(*, raw: bytes | None) -> float | str:
    """Read beat's heartbeat (the value of ``evesite.beat.BEAT_LAST_TICK_KEY``).

    Args:
        raw: The key's value, None when it is not set.

    Returns:
        Seconds since beat's last tick, or ``"missing"`` when beat never ticked against this Redis.
    """
    if raw is None:
        return "missing"
    return round(max(time.time() - float(raw), 0.0), 1)


def market_snapshots_status() -> tuple[float | None, list[int]]:
    """Age of the current market snapshots of ``settings.MARKET_SNAPSHOT_REGIONS``.

    Returns:
        The age in seconds of the oldest current snapshot among those regions (None when
        one of them has no snapshot, or none is configured), and the regions without one.
    """
    regions = [int(region_id) for region_id in settings.MARKET_SNAPSHOT_REGIONS]
    wanted = set(regions)
    fetched = {s.region_id: s.fetched_at for s in market_snapshots_current_list() if s.region_id in wanted}
    missing = [region_id for region_id in regions if region_id not in fetched]
    if missing or not fetched:
        return None, missing
    now = timezone.now()
    oldest = max((now - fetched_at).total_seconds() for fetched_at in fetched.values())
    return round(max(oldest, 0.0), 1), missing


def _pipeline_status(*, postgres_ok: bool, redis_ok: bool, reads: _Reads) -> dict[str, Any]:
    """Report the background pipeline: worker, beat, SDE and market snapshots."""
    status: dict[str, Any] = {}
    checks: dict[str, tuple[bool, Callable[[], Any]]] = {
        "worker": (redis_ok, lambda: worker_status(cached=reads.worker, last=reads.worker_last)),
        "beat": (redis_ok, lambda: beat_status(raw=reads.beat)),
        "sde": (postgres_ok, lambda: "ok" if reads.sde else "missing"),
    }
    for name, (available, check) in checks.items():
        if not available:
            status[name] = UNKNOWN
            continue
        try:
            status[name] = check()
        except Exception as exc:  # noqa: BLE001 - reported, never a 503
            status[name] = _short(exc)
    oldest: float | None = None
    missing: list[int] | None = None
    if postgres_ok:
        try:
            oldest, missing = market_snapshots_status()
        except Exception as exc:  # noqa: BLE001
            logger.warning("health: cannot read the market snapshots: %s", _short(exc))
    status["market_snapshot_oldest_age_seconds"] = oldest
    status["market_snapshot_missing_regions"] = missing
    return status


def health_status() -> tuple[dict[str, Any], list[str]]:
    """Check the datastores, then report the background pipeline.

    Returns:
        A map of part name to its state, and the list of failing parts: only
        ``postgres``, ``redis``, ``neo4j`` and ``apoc`` can fail (the API needs
        them); ``worker``, ``beat``, ``sde`` and the snapshot ages are reported only.
    """
    status, failing, reads = _datastores_status()
    status.update(_pipeline_status(postgres_ok="postgres" not in failing, redis_ok="redis" not in failing, reads=reads))
    if failing:
        logger.warning("health check failing: %s", ", ".join(failing))
    return status, failing


def health_public(status: dict[str, Any], failing: list[str]) -> dict[str, Any]:
    """Shape the health answer for a caller who is not staff: states only, never an error text.

    The keys stay the same, so monitoring reads the same answer. Each datastore reads
    ``"ok"`` or ``"failing"`` (APOC's version is not shown); a pipeline part keeps its fixed
    state or number (beat's age, the snapshot ages and missing regions) and reads
    ``"failing"`` instead of an exception's text.

    Args:
        status: The full map from :func:`health_status`.
        failing: The failing datastores from :func:`health_status`.

    Returns:
        The map a stranger may see (without the ``failing`` list; the view adds it).
    """
    public: dict[str, Any] = {}
    for name, value in status.items():
        if name in DATASTORES:
            public[name] = FAILING if name in failing else "ok"
        elif isinstance(value, str):
            public[name] = value if value in PUBLIC_STATES else FAILING
        else:
            public[name] = value  # numbers, lists and None carry no error text
    return public
