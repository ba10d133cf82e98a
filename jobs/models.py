"""Database models of jobs: one row per piece of background work a user can watch."""

from __future__ import annotations

import uuid

from django.db import models


class JobState(models.TextChoices):
    """Where a job is."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(models.Model):
    """One background job (a region refresh, a multi-region snapshot, ...) and its progress."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=64)
    params = models.JSONField(default=dict)
    state = models.CharField(max_length=8, choices=JobState.choices, default=JobState.QUEUED)
    progress_done = models.IntegerField(default=0)
    progress_total = models.IntegerField(null=True, blank=True)
    progress_unit = models.CharField(max_length=16)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True, help_text="Last write; a running job that stops writing has died.")
    error = models.TextField(blank=True)
    result = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["kind", "state"], name="jobs_kind_state"),
            models.Index(fields=["-created"], name="jobs_created"),
        ]

    def __str__(self) -> str:
        """Return ``kind (state)``."""
        return f"{self.kind} {self.params} ({self.state})"

    @property
    def active(self) -> bool:
        """True while queued or running."""
        return self.state in (JobState.QUEUED, JobState.RUNNING)
