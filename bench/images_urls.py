"""URLconf of the image-cache benchmark: the site's routes plus a trivial JSON view to compare against."""

from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, URLResolver, path

from evesite.urls import urlpatterns as site_urlpatterns


def ping(request: HttpRequest) -> JsonResponse:
    """Answer a constant JSON document (the benchmark's baseline: no database, no cache).

    Args:
        request: The HTTP request.

    Returns:
        ``{"ok": true}``.
    """
    return JsonResponse({"ok": True})


urlpatterns: list[URLPattern | URLResolver] = [path("bench/ping/", ping)]
urlpatterns += site_urlpatterns  # type: ignore[arg-type]  # evesite.urls leaves its list untyped
