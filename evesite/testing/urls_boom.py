"""The site's URLconf plus views that fail on purpose, for the error-page tests."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from evesite.urls import handler400, handler403, handler404, handler500
from evesite.urls import urlpatterns as site_patterns


def _secret_failure() -> RuntimeError:
    return RuntimeError(f"failed while connected to {settings.DATABASES['default']} and {settings.NEO4J_BOLT_URL}")


def boom_view(request: HttpRequest) -> HttpResponse:
    """A plain Django view that raises with secrets in the message."""
    raise _secret_failure()


class BoomApi(APIView):
    """A DRF view that raises with secrets in the message."""

    def get(self, request: Request) -> Response:
        """Fail."""
        raise _secret_failure()


urlpatterns = [path("boom/", boom_view), path("api/boom/", BoomApi.as_view()), *site_patterns]
__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
