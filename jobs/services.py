"""Writes of jobs: create, start, report progress, finish. Each is one short UPDATE, safe from any process."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from jobs.models import Job, JobState


def job_create(*, kind: str, params: dict[str, Any], unit: str, total: int | None = None) -> Job:
    """Record a queued job.

    Args:
        kind: What it does, e.g. ``market.refresh_region``.
        params: Its parameters (JSON).
        unit: What progress counts (``pages``, ``regions``).
        total: How many units, when known up front.

    Returns:
        The job.
    """
    return Job.objects.create(kind=kind, params=params, progress_unit=unit, progress_total=total)


def job_start(*, job_id: uuid.UUID | str) -> bool:
    """Mark a job running, unless another process runs it or it has ended (tasks are delivered at least once).

    A job that has been running without a write for ``JOBS_STALE_SECONDS`` lost its worker and is taken over.

    Args:
        job_id: The job.

    Returns:
        True when this caller now runs the job.
    """
    now = timezone.now()
    stale_before = now - timedelta(seconds=float(settings.JOBS_STALE_SECONDS))
    startable = Q(state=JobState.QUEUED) | Q(state=JobState.RUNNING, updated__lt=stale_before)
    return bool(
        Job.objects.filter(startable, pk=job_id).update(state=JobState.RUNNING, started=now, updated=now, error="")
    )


def job_progress_set(*, job_id: uuid.UUID | str, done: int, total: int | None) -> None:
    """Record progress.

    Args:
        job_id: The job.
        done: Units done.
        total: Units in all (None when unknown).
    """
    Job.objects.filter(pk=job_id).update(progress_done=done, progress_total=total, updated=timezone.now())


def job_touch(*, job_id: uuid.UUID | str) -> None:
    """Record that a running job is alive (waiting, or working without countable progress).

    Args:
        job_id: The job.
    """
    Job.objects.filter(pk=job_id).update(updated=timezone.now())


def job_finish(*, job_id: uuid.UUID | str, result: Any = None) -> None:
    """Mark a job done.

    Args:
        job_id: The job.
        result: A JSON summary of what it did.
    """
    now = timezone.now()
    Job.objects.filter(pk=job_id).update(state=JobState.DONE, finished=now, updated=now, result=result)


def job_fail(*, job_id: uuid.UUID | str, error: str) -> None:
    """Mark a job failed.

    Args:
        job_id: The job.
        error: One line saying why.
    """
    now = timezone.now()
    Job.objects.filter(pk=job_id).update(state=JobState.FAILED, finished=now, updated=now, error=error[:2000])


def jobs_purge(*, older_than_days: float | None = None) -> int:
    """Delete jobs that ended more than ``JOBS_KEEP_DAYS`` ago.

    Args:
        older_than_days: Override of the setting.

    Returns:
        How many were deleted.
    """
    days = float(settings.JOBS_KEEP_DAYS if older_than_days is None else older_than_days)
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = Job.objects.filter(state__in=[JobState.DONE, JobState.FAILED], finished__lt=cutoff).delete()
    return deleted


def error_line(exc: BaseException) -> str:
    """One line naming an error for a job (domain errors carry their message and URL; others their class).

    Args:
        exc: The error.

    Returns:
        The line.
    """
    message = getattr(exc, "message", None) or str(exc)
    url = getattr(exc, "url", None)
    text = f"{type(exc).__name__}: {message}" + (f" ({url})" if url else "")
    return " ".join(text.split())


@contextmanager
def job_running(*, job_id: uuid.UUID | str) -> Iterator[Callable[[int, int | None], None]]:
    """Run the block as the job: marked running, done at the end, failed (and re-raised) on an error.

    Args:
        job_id: A queued job.

    Yields:
        ``progress(done, total)``.
    """
    job_start(job_id=job_id)

    def progress(done: int, total: int | None) -> None:
        """Record progress."""
        job_progress_set(job_id=job_id, done=done, total=total)

    try:
        yield progress
    except Exception as exc:
        job_fail(job_id=job_id, error=error_line(exc))
        raise
    job_finish(job_id=job_id)


T = TypeVar("T")


def job_run(
    *,
    job_id: uuid.UUID | str,
    work: Callable[[dict[str, Any]], tuple[T, Any]],
    release: Callable[[dict[str, Any], bool], None],
) -> T | None:
    """Run a queued job once (a worker's side; safe when delivered twice: an ended or running job is left alone).

    Args:
        job_id: The job.
        work: Does it from the job's params; returns (value to hand back, the job's result).
        release: Called with (params, failed) after the work, whatever happened (frees what the job held).

    Returns:
        ``work``'s value, or None when this call did not run the job.

    Raises:
        Exception: What ``work`` raised (the job is failed naming it first).
    """
    if not job_start(job_id=job_id):
        return None
    params = dict(Job.objects.values_list("params", flat=True).get(pk=job_id))
    failed = True
    try:
        value, result = work(params)
        failed = False
    except Exception as exc:
        job_fail(job_id=job_id, error=error_line(exc))
        raise
    finally:
        release(params, failed)
    job_finish(job_id=job_id, result=result)
    return value
