"""Writes of market's pipeline: region refresh jobs, one per region at a time across every process.

Web requests only call :func:`market_region_snapshot_state` (which may queue a job and
never waits); workers and the ``refresh_market`` command run the jobs. A region is held
by one job at a time through the Redis key ``market:refresh:{region_id}`` (its value is
the job id): a second request while the job is queued or running gets the same job.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django_redis import get_redis_connection

from esi.walks import esi_walk_slot
from evesite.exceptions import NotFoundError, ServiceUnavailableError
from jobs.models import Job, JobState
from jobs.services import (
    error_line,
    job_create,
    job_fail,
    job_finish,
    job_progress_set,
    job_run,
    job_start,
    job_touch,
)
from market.models import MarketSnapshot
from market.selectors import market_snapshot_current_get, snapshot_age
from market.services import market_region_orders_fetch, market_snapshot_store
from universe.selectors import market_region_validate

logger = logging.getLogger("market")

REFRESH_KEY = "market:refresh:{region_id}"
KIND_REGION = "market.refresh_region"
KIND_REGIONS = "market.snapshot_regions"
REFRESH_TASK = "market.refresh_region"
# Retry-After of a queued job whose page count is not known yet.
RETRY_AFTER_UNKNOWN = 5
RETRY_AFTER_MAX = 60

# Delete the key, or (failed) keep it for the retry pause, only while it still names this job.
_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) > 0 then return redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) and 1 end
return redis.call('DEL', KEYS[1])
"""

PageProgress = Callable[[int, int, int], None]  # (region_id, pages done, pages)


@dataclass(frozen=True)
class RegionSnapshotState:
    """What a scan can read for a region, and the refresh job queued for it.

    Attributes:
        snapshot: The current snapshot, or None when the region has none.
        age_seconds: Its age.
        stale: True when missing or older than ``MARKET_CACHE_SECONDS``.
        job: The refresh job (queued, running, or failed recently), or None when the snapshot is fresh.
    """

    snapshot: MarketSnapshot | None
    age_seconds: float | None
    stale: bool
    job: Job | None


def _key(region_id: int) -> str:
    """Return the Redis key that names the job holding a region."""
    return REFRESH_KEY.format(region_id=region_id)


def _job_alive(job: Job) -> bool:
    """Tell whether a job still holds its region: queued, or running and writing progress."""
    if job.state == JobState.QUEUED:
        return True
    return job.state == JobState.RUNNING and snapshot_age(fetched_at=job.updated) < float(settings.JOBS_STALE_SECONDS)


def refresh_release(*, key: str, job_id: str, failed: bool) -> None:
    """Free a region (or structure), or hold it for ``MARKET_REFRESH_RETRY_SECONDS`` after a failure.

    Args:
        key: Its Redis key (scans show the failed job while it is held).
        job_id: The job that held it.
        failed: Whether the job failed.
    """
    hold = int(settings.MARKET_REFRESH_RETRY_SECONDS) if failed else 0
    get_redis_connection("default").eval(_RELEASE, 1, key, job_id, hold)


def refresh_claim(*, key: str, job_id: str) -> str | None:
    """Claim a region (or structure) for a job.

    Args:
        key: Its Redis key.
        job_id: The claiming job.

    Returns:
        The id of the job that holds it now (``job_id`` when claimed), None if the holder vanished.
    """
    conn = get_redis_connection("default")
    if conn.set(key, job_id, nx=True, ex=int(settings.MARKET_REFRESH_LOCK_SECONDS)):
        return job_id
    held = conn.get(key)
    return held.decode() if held else None


def market_region_refresh_enqueue(*, region_id: int) -> Job:
    """Queue a refresh of a region's orders, or return the job that already holds the region.

    The region is checked against the SDE first: nothing leaves the process for an unknown one.

    Args:
        region_id: The region.

    Returns:
        The job (new, or the one queued or running; a recently failed one during its retry pause).

    Raises:
        NotFoundError: For a region that is not in the SDE or has no NPC station.
        ServiceUnavailableError: When the claim kept racing (never expected).
    """
    market_region_validate(region_id=region_id)
    return _region_refresh_queue(region_id=region_id)


def _region_refresh_queue(*, region_id: int) -> Job:
    """Queue a refresh of a region already checked against the SDE (see :func:`market_region_refresh_enqueue`)."""
    return refresh_job_queue(key=_key(region_id), kind=KIND_REGION, params={"region_id": region_id}, task=REFRESH_TASK)


def refresh_job_queue(*, key: str, kind: str, params: dict[str, Any], task: str) -> Job:
    """Queue a job that holds ``key`` (one at a time), or return the job holding it (or failed recently).

    Args:
        key: The Redis key of what is refreshed.
        kind: The job's kind.
        params: Its parameters.
        task: The Celery task that runs it (given the job id).

    Returns:
        The job.

    Raises:
        ServiceUnavailableError: When the claim kept racing (never expected).
    """
    conn = get_redis_connection("default")
    for _ in range(3):
        holder = conn.get(key)
        if holder is not None:
            held = Job.objects.filter(pk=holder.decode()).first()
            if held is not None and (_job_alive(held) or held.state == JobState.FAILED):
                return held
            refresh_release(key=key, job_id=holder.decode(), failed=False)  # dead or finished
            continue
        job = job_create(kind=kind, params=params, unit="pages")
        if refresh_claim(key=key, job_id=str(job.pk)) == str(job.pk):
            transaction.on_commit(partial(current_app.send_task, task, args=[str(job.pk)]))
            logger.info("market: queued %s job %s %s", kind, job.pk, params)
            return job
        job.delete()  # another process claimed it in between: look again
    raise ServiceUnavailableError(f"Could not queue {kind} {params}; try again.")


def market_region_snapshot_state(*, region_id: int, force: bool = False) -> RegionSnapshotState:
    """Say what a scan of a region can read, queueing a refresh when the snapshot is missing or stale.

    Never waits for the refresh.

    Args:
        region_id: The region (checked against the SDE).
        force: Queue a refresh even when the snapshot is fresh (staff).

    Returns:
        The state.
    """
    market_region_validate(region_id=region_id)
    current = market_snapshot_current_get(region_id=region_id)
    age = snapshot_age(fetched_at=current.fetched_at) if current is not None else None
    stale = age is None or age > float(settings.MARKET_CACHE_SECONDS)
    job = _region_refresh_queue(region_id=region_id) if stale or force else None
    return RegionSnapshotState(snapshot=current, age_seconds=age, stale=stale, job=job)


def market_refresh_retry_after(*, job: Job) -> int:
    """Estimate when a refresh job is worth asking about again.

    Args:
        job: The job.

    Returns:
        Seconds: the pages left times the page delay, or the retry pause of a failed job.
    """
    if job.state == JobState.FAILED:
        return int(settings.MARKET_REFRESH_RETRY_SECONDS)
    if job.progress_unit != "pages" or not job.progress_total:
        return RETRY_AFTER_UNKNOWN
    left = max(0, job.progress_total - job.progress_done)
    return min(RETRY_AFTER_MAX, max(1, math.ceil(left * float(settings.ESI_PAGE_DELAY_SECONDS))))


def _region_walk(*, job_id: str, region_id: int, on_page: Callable[[int, int], None]) -> MarketSnapshot:
    """Walk a region's pages inside the ESI walk slot, then store them (after the slot is free for the next walk)."""
    waiting = partial(job_touch, job_id=job_id)
    with esi_walk_slot(what=f"market orders of region {region_id}", waiting=waiting) as keep_alive:

        def page_done(done: int, total: int) -> None:
            """Keep the slot, and report (which keeps the job alive)."""
            keep_alive()
            on_page(done, total)

        fetched = market_region_orders_fetch(region_id=region_id, progress=page_done)
    return market_snapshot_store(
        region_id=region_id,
        orders=fetched.orders,
        fetched_at=fetched.fetched_at,
        last_modified=fetched.last_modified,
    )


def market_region_refresh_run(*, job_id: uuid.UUID | str, on_page: PageProgress | None = None) -> int | None:
    """Run a region refresh job (worker side). Safe to run twice: an ended or running job is left alone.

    Args:
        job_id: A ``market.refresh_region`` job.
        on_page: Also called with (region, pages done, pages) after each page.

    Returns:
        The new snapshot id, or None when this call did not run the job.

    Raises:
        EsiError: When ESI failed (the job is marked failed, the lockdown set by the client).
    """
    job_id = str(job_id)

    def work(params: dict[str, Any]) -> tuple[int, dict[str, int]]:
        """Walk and store the region, reporting pages."""
        region_id = int(params["region_id"])

        def page_done(done: int, total: int) -> None:
            """Record page progress."""
            job_progress_set(job_id=job_id, done=done, total=total)
            if on_page is not None:
                on_page(region_id, done, total)

        snapshot = _region_walk(job_id=job_id, region_id=region_id, on_page=page_done)
        return snapshot.pk, {"snapshot_id": snapshot.pk, "orders": snapshot.order_count}

    def release(params: dict[str, Any], failed: bool) -> None:
        """Free the region (held a while after a failure)."""
        refresh_release(key=_key(int(params["region_id"])), job_id=job_id, failed=failed)

    return job_run(job_id=job_id, work=work, release=release)


def market_regions_refresh_start(*, region_ids: list[int]) -> Job:
    """Record a multi-region snapshot job (progress in regions).

    Args:
        region_ids: The regions, in order.

    Returns:
        The queued job.
    """
    return job_create(kind=KIND_REGIONS, params={"region_ids": list(region_ids)}, unit="regions", total=len(region_ids))


def _regions_one(*, job: Job, region_id: int, on_page: PageProgress | None) -> tuple[int | None, str | None]:
    """Snapshot one region of a multi-region job unless it is unknown, held by another job, or already fresh."""
    try:
        market_region_validate(region_id=region_id)
    except NotFoundError as exc:
        return None, exc.message
    job_id = str(job.pk)
    holder = refresh_claim(key=_key(region_id), job_id=job_id)
    if holder != job_id:
        return None, f"held by job {holder}"
    failed = True
    try:
        current = market_snapshot_current_get(region_id=region_id)
        if current is not None and current.fetched_at >= job.created:
            failed = False
            return None, f"snapshot {current.pk} is newer than this job"

        def page_done(done: int, total: int) -> None:
            """Keep the multi-region job alive (its progress counts regions) and report the page."""
            job_touch(job_id=job_id)
            if on_page is not None:
                on_page(region_id, done, total)

        snapshot = _region_walk(job_id=job_id, region_id=region_id, on_page=page_done)
        failed = False
        return snapshot.pk, None
    finally:
        refresh_release(key=_key(region_id), job_id=job_id, failed=failed)


def market_regions_refresh_run(*, job_id: uuid.UUID | str, on_page: PageProgress | None = None) -> list[int]:
    """Run a multi-region snapshot job: each region in turn, the region delay between walks.

    Regions held by another job (a scan's refresh) or snapshotted after this job was created
    are skipped; an ESI error ends the job (the lockdown stops the rest anyway).

    Args:
        job_id: A ``market.snapshot_regions`` job.
        on_page: Called with (region, pages done, pages) after each page.

    Returns:
        The new snapshot ids (empty when this call did not run the job).

    Raises:
        EsiError: When ESI failed (the job is marked failed).
    """
    job_id = str(job_id)
    if not job_start(job_id=job_id):
        return []
    job = Job.objects.get(pk=job_id)
    regions = [int(r) for r in job.params["region_ids"]]
    stored: list[int] = []
    skipped: dict[str, str] = {}
    try:
        for index, region_id in enumerate(regions):
            snapshot_id, why = _regions_one(job=job, region_id=region_id, on_page=on_page)
            if snapshot_id is not None:
                stored.append(snapshot_id)
            else:
                skipped[str(region_id)] = why or "skipped"
                logger.info("market: region %d skipped by job %s: %s", region_id, job_id, why)
            job_progress_set(job_id=job_id, done=index + 1, total=len(regions))
    except Exception as exc:
        job_fail(job_id=job_id, error=error_line(exc))
        raise
    job_finish(job_id=job_id, result={"snapshots": stored, "skipped": skipped})
    return stored
