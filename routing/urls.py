"""API routes of routing, mounted under /api/: a route is computed (retrieved), the flagged systems listed.

Their names predate the viewsets (``routes``, ``risk``): each has one URL named by its basename. A saved route
(accounts) is computed under its own URL, ``me/routes/{route_id}/route/``.
"""

from django.urls import path

from evesite.routers import singleton_router
from routing.saved_views import SavedRouteRouteViewSet
from routing.views import RiskViewSet, RouteViewSet

router = singleton_router()
router.register("routes", RouteViewSet, basename="routes")
router.register("risk", RiskViewSet, basename="risk")

urlpatterns = [
    *router.urls,
    path(
        "me/routes/<int:route_id>/route/",
        SavedRouteRouteViewSet.as_view({"get": "retrieve"}),
        name="me-route-route",
    ),
]
