"""API routes of routing, mounted under /api/: a route is computed (retrieved), the flagged systems listed.

Their names predate the viewsets (``routes``, ``risk``): each has one URL named by its basename.
"""

from evesite.routers import singleton_router
from routing.views import RiskViewSet, RouteViewSet

router = singleton_router()
router.register("routes", RouteViewSet, basename="routes")
router.register("risk", RiskViewSet, basename="risk")

urlpatterns = router.urls
