"""API routes of accounts, mounted under /api/."""

from django.urls import URLPattern, URLResolver, path

from accounts.views import LoginInfoApi, LogoutApi, MeApi, SavedRouteDetailApi, SavedRouteListApi, UserSettingsApi

urlpatterns: list[URLPattern | URLResolver] = [
    path("me/", MeApi.as_view(), name="me"),
    path("me/settings/", UserSettingsApi.as_view(), name="me-settings"),
    path("me/routes/", SavedRouteListApi.as_view(), name="me-routes"),
    path("me/routes/<int:route_id>/", SavedRouteDetailApi.as_view(), name="me-route-detail"),
    path("auth/login/", LoginInfoApi.as_view(), name="login-info"),
    path("auth/logout/", LogoutApi.as_view(), name="logout"),
]
