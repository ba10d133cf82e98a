"""API routes of esi, mounted under /api/."""

from django.urls import URLPattern, URLResolver, path

from esi.views import EsiStatusApi

urlpatterns: list[URLPattern | URLResolver] = [
    path("esi/status/", EsiStatusApi.as_view(), name="esi-status"),
]
