"""API views of jobs (thin: the selector does the work)."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jobs.selectors import job_data, job_get
from jobs.serializers import JobSerializer


class JobApi(APIView):
    """One background job and its progress."""

    @extend_schema(operation_id="job_get", responses=JobSerializer)
    def get(self, request: Request, job_id: uuid.UUID) -> Response:
        """Report a job's state and progress (404 for an unknown id).

        Args:
            request: The request.
            job_id: The job.

        Returns:
            The job.
        """
        return Response(JobSerializer(job_data(job=job_get(job_id=job_id))).data)
