"""Project-level API views."""

from __future__ import annotations

from typing import Any, ClassVar

import pydantic
from django.http import HttpResponse
from django.utils import translation
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SCHEMA_KWARGS, SpectacularAPIView
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from evesite.health import health_public, health_status
from evesite.schemas import Schema, schema_dump

_STORE = '"ok" or "failing"; staff read the error instead of "failing".'


class Health(Schema):
    """The state of each datastore and of the background pipeline."""

    postgres: str = pydantic.Field(description=_STORE)
    redis: str = pydantic.Field(description=_STORE)
    neo4j: str = pydantic.Field(description=_STORE)
    apoc: str = pydantic.Field(
        description='"ok" or "failing". Staff read APOC\'s version instead of "ok", and "unavailable" '
        '(Neo4j down) or the error instead of "failing".'
    )
    worker: str = pydantic.Field(
        description='"ok" when a Celery worker answered a ping within 2 s, "no reply", "unknown" while Redis '
        'is down, or "failing" when the broker failed (staff read its error). Cached for 10 s; then the '
        "last answer is shown while the workers are pinged again in the background. Never makes the answer 503."
    )
    beat: pydantic.JsonValue = pydantic.Field(
        description='A number: seconds since Celery beat\'s last tick; or a text: "missing" when beat never ran '
        'against this Redis, "unknown" while Redis is down, "failing" when it cannot be read (staff read the '
        "error). Never makes the answer 503."
    )
    sde: str = pydantic.Field(
        description='"ok" when an SDE is ingested, "missing" when not (run `manage.py ingest_data`), '
        '"unknown" while PostgreSQL is down, "failing" when it cannot be read (staff read the error). '
        "Never makes the answer 503."
    )
    market_snapshot_oldest_age_seconds: float | None = pydantic.Field(
        description="Age in seconds of the oldest current market snapshot among MARKET_SNAPSHOT_REGIONS; "
        "null while one of them has none (see market_snapshot_missing_regions) or PostgreSQL is down."
    )
    market_snapshot_missing_regions: list[int] | None = pydantic.Field(
        description="MARKET_SNAPSHOT_REGIONS without a snapshot yet; null while PostgreSQL is down."
    )


class HealthFailing(Health):
    """The same, when a datastore is down (503)."""

    failing: list[str] = pydantic.Field(description="The failing datastores among postgres, redis, neo4j and apoc.")


class HealthApi(APIView):
    """State of the datastores (PostgreSQL, Redis, Neo4j, APOC) and of the background pipeline.

    Anyone may ask; only staff (session login) read the error texts and APOC's version,
    everyone else reads the states alone (see :func:`evesite.health.health_public`).
    """

    authentication_classes: list[type] = [SessionAuthentication]
    permission_classes: list[type] = [AllowAny]
    # Monitors poll it; it never counts against a client's rate.
    throttle_classes: list[type] = []

    def perform_authentication(self, request: Request) -> None:
        """Do not authenticate up front: :meth:`get` reads the session, and a session it cannot read is a stranger.

        Args:
            request: The HTTP request.
        """

    @staticmethod
    def _caller_is_staff(request: Request) -> bool:
        """Tell whether the caller is a logged-in staff user."""
        try:
            return bool(request.user.is_staff)
        except Exception:  # noqa: BLE001 - a datastore down hides the texts, it does not break health
            return False

    @extend_schema(
        description="Anyone gets each part's state; an error text (and APOC's version) only reaches staff "
        'logged in with a session. Anonymous and non-staff callers read "failing" instead of an error.',
        responses={200: Health.drf_serializer, 503: HealthFailing.drf_serializer},
    )
    def get(self, request: Request) -> Response:
        """Answer 200 when every datastore is up, else 503 naming the failing ones.

        The pipeline's parts (worker, beat, SDE, market snapshots) are reported in
        both cases and never cause a 503. Error texts are shown to staff only.

        Args:
            request: The HTTP request.

        Returns:
            The JSON status.
        """
        status, failing = health_status()
        if not self._caller_is_staff(request):
            status = health_public(status, failing)
        if failing:
            return Response(schema_dump(schema=HealthFailing, value={**status, "failing": failing}), status=503)
        return Response(schema_dump(schema=Health, value=status))


class SchemaApi(SpectacularAPIView):
    """The OpenAPI document, generated and rendered once per process, language and format.

    It changes only with the code. Keeping the rendered bytes (not the dict) costs no
    rendering and no garbage-collector work on later requests.

    The API has one version, and its languages are ``settings.LANGUAGES``: ``?version=`` is ignored and
    ``?lang=`` is honoured only when it names one of them. Otherwise each new value would generate (0.1 s)
    and keep one more document, and ``?version=`` went into the Content-Disposition header, where a
    control character made gunicorn answer 500.
    """

    _documents: ClassVar[dict[tuple[str | None, str | None, str], tuple[bytes, str]]] = {}

    @extend_schema(**SCHEMA_KWARGS)  # as drf-spectacular's: not in the document (SERVE_INCLUDE_SCHEMA)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        """Serve the document in the ``?lang=`` language when it is one of the site's, else in the default one.

        (drf-spectacular's own ``get`` activates any ``?lang=``; its urlconf and custom settings are unused here.)

        Args:
            request: The request.
            *args: Unused.
            **kwargs: Unused.

        Returns:
            The rendered schema.
        """
        try:
            language = translation.get_supported_language_variant(request.GET.get("lang") or "")
        except LookupError:
            return self._get_schema_response(request)
        with translation.override(language):
            return self._get_schema_response(request)

    def _get_version_parameter(self, request: Request) -> str | None:
        """Ignore ``?version=``: the API is not versioned."""
        return None

    def _get_schema_response(self, request: Request) -> HttpResponse:
        """Serve the document, generating and rendering it on the first request."""
        version = self.api_version or request.version or self._get_version_parameter(request)
        renderer = request.accepted_renderer
        key = (version, translation.get_language(), renderer.media_type)
        if key not in self._documents:
            generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
            schema = generator.get_schema(request=request, public=self.serve_public)
            body = renderer.render(schema, renderer.media_type, {"request": request})
            content_type = renderer.media_type + (f"; charset={renderer.charset}" if renderer.charset else "")
            self._documents[key] = (body if isinstance(body, bytes) else body.encode(), content_type)
        body, content_type = self._documents[key]
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'inline; filename="{self._get_filename(request, version)}"'
        return response
