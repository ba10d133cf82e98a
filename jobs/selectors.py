"""Reads of jobs."""

from __future__ import annotations

import uuid
from typing import Any

from evesite.exceptions import NotFoundError
from jobs.models import Job


def job_get(*, job_id: uuid.UUID | str) -> Job:
    """Return one job.

    Args:
        job_id: Its id.

    Returns:
        The job.

    Raises:
        NotFoundError: For an unknown (or malformed) id.
    """
    try:
        key = job_id if isinstance(job_id, uuid.UUID) else uuid.UUID(str(job_id))
    except ValueError:
        raise NotFoundError(f"Job {job_id} does not exist.") from None
    job = Job.objects.filter(pk=key).first()
    if job is None:
        raise NotFoundError(f"Job {job_id} does not exist.")
    return job


def job_data(*, job: Job) -> dict[str, Any]:
    """Shape a job for the API.

    Args:
        job: The job.

    Returns:
        ``id, kind, params, state, progress {done, total, unit}, created, started, finished, error``.
    """
    return {
        "id": str(job.pk),
        "kind": job.kind,
        "params": job.params,
        "state": job.state,
        "progress": {"done": job.progress_done, "total": job.progress_total, "unit": job.progress_unit},
        "created": job.created,
        "started": job.started,
        "finished": job.finished,
        "error": job.error or None,
    }
