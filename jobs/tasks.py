"""Celery tasks of jobs (thin: they call services)."""

from __future__ import annotations

from celery import shared_task

from jobs.services import jobs_purge


@shared_task(name="jobs.purge", ignore_result=True)
def jobs_purge_task() -> int:
    """Delete jobs that ended more than ``JOBS_KEEP_DAYS`` ago (idempotent).

    Returns:
        How many were deleted.
    """
    return jobs_purge()
