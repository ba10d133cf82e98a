"""API views of jobs (thin: the selector does the work)."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from evesite.schemas import schema_dump
from jobs.schemas import JobOut
from jobs.selectors import job_data, job_get


class JobViewSet(viewsets.ViewSet):
    """Background jobs and their progress (read only: workers write them)."""

    lookup_field = "job_id"
    lookup_value_converter = "uuid"

    @extend_schema(operation_id="job_get", responses=JobOut.drf_serializer)
    def retrieve(self, request: Request, job_id: uuid.UUID) -> Response:
        """Report a job's state and progress (404 for an unknown id)."""
        return Response(schema_dump(schema=JobOut, value=job_data(job=job_get(job_id=job_id))))
