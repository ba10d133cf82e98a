"""API views of appraisal (thin: the service parses, values and stores)."""

from __future__ import annotations

import uuid
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from appraisal.models import LINE_FIELDS, Appraisal
from appraisal.schemas import LINE_ROWS, AppraisalIn, AppraisalOut, AppraisalPendingOut
from appraisal.selectors import appraisal_data, appraisal_get
from appraisal.services import AppraisalPending, appraisal_create, gc_paused
from evesite.admission import ExpensiveAdmissionMixin
from evesite.schemas import schema_dump, schema_parse
from evesite.throttling import ExpensiveRateThrottle, throttles_with
from jobs.selectors import job_data
from market.selectors import market_trade_defaults

PENDING_DETAIL = "Fetching the market's orders; appraise again when the job is done."


def _appraisal_body(appraisal: Appraisal) -> dict[str, Any]:
    """The ``AppraisalOut`` answer: the model checks all but the lines, checked as rows (see ``LINE_ROWS``)."""
    body = schema_dump(schema=AppraisalOut, value=appraisal_data(appraisal=appraisal, lines=False))
    rows = LINE_ROWS.validate_python(appraisal.lines)  # each a tuple of len(LINE_FIELDS)
    body["lines"] = [dict(zip(LINE_FIELDS, row, strict=False)) for row in rows]
    return body


class AppraisalViewSet(ExpensiveAdmissionMixin, viewsets.ViewSet):
    """Appraisals of pasted items: value a paste (expensive rate), read a stored one back."""

    throttle_classes = throttles_with(ExpensiveRateThrottle)
    lookup_field = "appraisal_id"
    lookup_value_converter = "uuid"

    def get_throttles(self) -> list[BaseThrottle]:
        """The expensive rate counts appraising only; reading one back is an ordinary request."""
        throttles = list(super().get_throttles())
        if self.action == "create":
            return throttles
        return [t for t in throttles if not isinstance(t, ExpensiveRateThrottle)]

    @extend_schema(
        operation_id="appraisal_create",
        request=AppraisalIn.drf_serializer,
        examples=[
            OpenApiExample(
                "A cargo hold and a fitting line, valued at Jita",
                value={"text": "Tritanium\t10,000\nPyerite x 2500\n3 Warrior I\nRifter", "market": "jita"},
                request_only=True,
            )
        ],
        responses={
            201: AppraisalOut.drf_serializer,
            202: OpenApiResponse(
                AppraisalPendingOut.drf_serializer,
                description="No orders of the market's region are stored yet: a refresh job was queued "
                "(see Location, Retry-After); nothing was stored.",
            ),
            404: OpenApiResponse(
                description="An unknown market (not a hub nor an SDE station id), or no line naming an SDE type "
                "(`unparsed` lists the lines); nothing was stored."
            ),
            413: OpenApiResponse(description="More than 100 KiB of text or 5,000 lines (or a larger body)."),
        },
    )
    def create(self, request: Request) -> Response:
        """Parse and value a paste at a market station's stored order book, store it, answer it (201).

        Lines nothing could be made of are returned in ``unparsed`` with their line numbers.
        """
        data = schema_parse(schema=AppraisalIn, data=request.data)
        sales_tax = data.sales_tax if data.sales_tax is not None else market_trade_defaults(user=request.user)[0]
        with gc_paused():  # until the answer is built: its lines are freed before a collection would move them
            result = appraisal_create(text=data.text, market=data.market, sales_tax=sales_tax)
            if isinstance(result, AppraisalPending):
                headers = {
                    "Location": reverse("job-detail", args=[result.job.pk]),
                    "Retry-After": str(result.retry_after),
                }
                body = {"detail": PENDING_DETAIL, "job": job_data(job=result.job)}
                return Response(schema_dump(schema=AppraisalPendingOut, value=body), status=202, headers=headers)
            location = reverse("appraisal-detail", args=[result.pk])
            return Response(_appraisal_body(result), status=201, headers={"Location": location})

    @extend_schema(operation_id="appraisal_get", responses={200: AppraisalOut.drf_serializer})
    def retrieve(self, request: Request, appraisal_id: uuid.UUID) -> Response:
        """Return a stored appraisal (404 for an unknown id)."""
        with gc_paused():
            return Response(_appraisal_body(appraisal_get(appraisal_id=appraisal_id)))
