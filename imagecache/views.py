"""API views of imagecache: images served from PostgreSQL, never from the client's side of the image server."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotModified
from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

from evesite.exceptions import DomainError
from evesite.throttling import client_address
from imagecache.lru import image_use_mark
from imagecache.models import ALLOWED_SIZES, DEFAULT_SIZE, VARIANT_BY_TYPE
from imagecache.schemas import ImageError
from imagecache.selectors import CachedImage, image_cached_get, image_etag_use_get, image_key_parse
from imagecache.services import image_get


class FirstRendererNegotiation(BaseContentNegotiation):
    """Ignore ``Accept``: images are sent as they are, errors as JSON (``Accept: image/png`` is no 406)."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        """Pick the first parser.

        Args:
            request: The request.
            parsers: The view's parsers.

        Returns:
            The first one.
        """
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        """Pick the first renderer (JSON), whatever the client accepts.

        Args:
            request: The request.
            renderers: The view's renderers.
            format_suffix: Unused.

        Returns:
            The renderer and its media type.
        """
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


def _etag_matches(header: str, etag: str) -> bool:
    """Apply ``If-None-Match`` (weak comparison, lists and ``*``)."""
    for raw in header.split(","):
        candidate = raw.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False


def _caching_headers(response: HttpResponse, etag: str) -> HttpResponse:
    """Add the client-caching headers."""
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={settings.IMAGE_CLIENT_MAX_AGE_SECONDS}"
    return response


def _image_response(image: CachedImage) -> HttpResponse:
    """Build the 200 answer of an image."""
    response = HttpResponse(image.content, content_type=image.content_type)
    response["Last-Modified"] = http_date(image.last_updated.timestamp())
    return _caching_headers(response, image.etag)


_ERROR = ImageError.drf_serializer


class ImageViewSet(viewsets.ViewSet):
    """One EVE image (type icon, character portrait, corporation or alliance logo), cached in PostgreSQL."""

    authentication_classes: list[type] = []
    permission_classes: list[type] = []
    # No DRF throttle, even a project default: hits are free, and misses have their own budget (imagecache.budget).
    throttle_classes = ()
    # Misses have their own budget (429) and ask the image server (502); read by evesite.openapi.
    error_statuses = (429, 502)
    content_negotiation_class = FirstRendererNegotiation
    # The route is ``images/<str:resource_type>/<str:resource_id>`` (imagecache.urls): ids stay text here,
    # so a bad one is this view's JSON 404 instead of Django's page.
    lookup_field = "resource_id"
    lookup_value_converter = "str"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """Serve cache hits straight from PostgreSQL; everything else goes through DRF.

        A hit (the common case) needs no DRF request wrapping, negotiation or
        exception handling: one indexed query and a plain ``HttpResponse``.
        Misses, 304s and errors take DRF's path (:meth:`retrieve`), which re-checks.

        Args:
            request: The Django request.
            *args: URL arguments.
            **kwargs: URL keyword arguments (``resource_type``, ``resource_id``).

        Returns:
            The answer.
        """
        if request.method == "GET" and "HTTP_IF_NONE_MATCH" not in request.META:
            try:
                key = image_key_parse(
                    resource_type=kwargs["resource_type"],
                    resource_id=kwargs["resource_id"],
                    size=request.GET.get("size"),
                )
            except DomainError:
                key = None
            image = image_cached_get(key=key) if key is not None else None
            if key is not None and image is not None:
                image_use_mark(key=key, last_used_at=image.last_used_at)
                return _image_response(image)
        return super().dispatch(request, *args, **kwargs)

    @extend_schema(
        operation_id="image_get",
        summary="An EVE image, served from the cache",
        description=(
            "Returns the PNG or JPEG bytes of `{resource_type}` `{resource_id}` at `size` pixels. "
            "The variant follows from the type: type → icon, character → portrait, corporation and "
            "alliance → logo. A miss is downloaded once from the image server and stored; type ids must "
            "be in the static data, and misses are limited per client address and in total per minute "
            "(429 with `Retry-After`). Answers carry an `ETag` and a long `Cache-Control`; send "
            "`If-None-Match` to get a 304 without a body."
        ),
        parameters=[
            OpenApiParameter("resource_type", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(VARIANT_BY_TYPE)),
            OpenApiParameter("resource_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The EVE id."),
            OpenApiParameter(
                "size", OpenApiTypes.INT, OpenApiParameter.QUERY, enum=list(ALLOWED_SIZES), default=DEFAULT_SIZE
            ),
            OpenApiParameter("If-None-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False),
        ],
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="The image."),
            (200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="The image."),
            304: OpenApiResponse(description="Not modified (the `If-None-Match` ETag is current)."),
            400: OpenApiResponse(_ERROR, description="`size` is not one of the allowed sizes."),
            404: OpenApiResponse(
                _ERROR, description="Unknown resource type, bad id, type id not in the SDE, or no such image upstream."
            ),
            429: OpenApiResponse(_ERROR, description="Too many misses (downloads) per minute; see `Retry-After`."),
            502: OpenApiResponse(
                _ERROR, description="The image server failed, redirected, or sent something unusable."
            ),
            503: OpenApiResponse(_ERROR, description="Redis is down and the image is not cached yet."),
        },
    )
    def retrieve(self, request: Request, resource_type: str, resource_id: str) -> HttpResponse:
        """Serve the image, a 304, or a JSON error.

        Args:
            request: The HTTP request.
            resource_type: From the URL.
            resource_id: From the URL.

        Returns:
            The answer.
        """
        key = image_key_parse(
            resource_type=resource_type, resource_id=resource_id, size=request.query_params.get("size")
        )
        if_none_match = request.headers.get("If-None-Match")
        if if_none_match:
            stored = image_etag_use_get(key=key)
            if stored is not None and _etag_matches(if_none_match, stored[0]):
                image_use_mark(key=key, last_used_at=stored[1])  # a revalidation is a use too
                return _caching_headers(HttpResponseNotModified(), stored[0])
        # As the throttles see it: X-Forwarded-For counts only behind API_NUM_PROXIES trusted proxies.
        return _image_response(image_get(key=key, client_ip=client_address(request)))
