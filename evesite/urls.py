"""Root URL configuration."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

from evesite.views import HealthApi, SchemaApi

urlpatterns = [
    # First: image hits are the busiest route, and Django tries the patterns in order (each include costs).
    path("api/", include("imagecache.urls")),
    path("admin/", admin.site.urls),
    path("api/health/", HealthApi.as_view(), name="health"),
    path("api/schema/", SchemaApi.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("api/", include("universe.urls")),
    path("api/", include("esi.urls")),
    path("api/", include("market.urls")),
    path("api/", include("routing.urls")),
    path("api/", include("contracts.urls")),
    path("api/", include("accounts.urls")),
    path("api/", include("jobs.urls")),
    path("api/", include("appraisal.urls")),
    path("auth/", include("social_django.urls", namespace="social")),
]

# Errors outside DRF's views answer JSON in the API's error shape (never Django's debug or HTML pages).
handler400 = "evesite.handlers.bad_request"
handler403 = "evesite.handlers.permission_denied"
handler404 = "evesite.handlers.page_not_found"
handler500 = "evesite.handlers.server_error"
