"""API routes of accounts, mounted under /api/.

Their paths and names predate the viewsets (clients and ``reverse()`` use them): the singletons' router names
each URL by its basename, and the saved routes' router declares the two names they always had.
"""

from django.urls import URLPattern, URLResolver
from rest_framework.routers import Route

from accounts.views import (
    LoginInfoViewSet,
    LogoutViewSet,
    MeViewSet,
    SavedRouteViewSet,
    UserSettingsViewSet,
)
from evesite.routers import api_router, singleton_router

# A resource without an id (the user's own data, a step of the login): one URL, named by its basename.
singletons = singleton_router()
singletons.register("me", MeViewSet, basename="me")
singletons.register("me/settings", UserSettingsViewSet, basename="me-settings")
singletons.register("auth/login", LoginInfoViewSet, basename="login-info")
singletons.register("auth/logout", LogoutViewSet, basename="logout")

# The saved routes: ``me-routes`` (list, create, delete all) and ``me-route-detail`` (one route by id).
saved_routes = api_router()
saved_routes.routes = [
    Route(
        url="{prefix}{trailing_slash}",
        mapping={"get": "list", "post": "create", "delete": "destroy_all"},
        name="{basename}s",
        detail=False,
        initkwargs={"suffix": "List"},
    ),
    Route(
        url="{prefix}/{lookup}{trailing_slash}",
        mapping={"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"},
        name="{basename}-detail",
        detail=True,
        initkwargs={"suffix": "Instance"},
    ),
]
saved_routes.register("me/routes", SavedRouteViewSet, basename="me-route")

urlpatterns: list[URLPattern | URLResolver] = [*singletons.urls, *saved_routes.urls]
