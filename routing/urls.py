"""API routes of routing, mounted under /api/."""

from django.urls import URLPattern, URLResolver, path

from routing.views import RiskListApi, RouteFindApi

urlpatterns: list[URLPattern | URLResolver] = [
    path("routes/", RouteFindApi.as_view(), name="routes"),
    path("risk/", RiskListApi.as_view(), name="risk"),
]
