"""Pydantic schemas of jobs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import pydantic

from evesite.schemas import Schema


class JobProgress(Schema):
    """How far a job got."""

    done: int
    total: int | None
    unit: str = pydantic.Field(description="What is counted: pages, regions.")


class JobOut(Schema):
    """A background job."""

    id: uuid.UUID
    kind: str = pydantic.Field(description="e.g. market.refresh_region, market.snapshot_regions.")
    params: dict[str, pydantic.JsonValue]
    state: Literal["queued", "running", "done", "failed"]
    progress: JobProgress
    created: datetime
    started: datetime | None
    finished: datetime | None
    error: str | None
