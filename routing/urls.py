"""API routes of routing, mounted under /api/.

Their names predate the viewsets (``routes``, ``risk``): DRF's default routes (``{basename}-list``) cannot
spell them, so each resource has one URL named by its basename. A route is computed (retrieved), the
flagged systems are listed.
"""

from rest_framework.routers import Route

from evesite.routers import api_router
from routing.views import RiskViewSet, RouteViewSet

router = api_router()
router.routes = [
    Route(
        url="{prefix}{trailing_slash}",
        mapping={"get": action},
        name="{basename}",
        detail=False,
        initkwargs={"suffix": suffix},
    )
    for action, suffix in (("retrieve", "Instance"), ("list", "List"))
]
router.register("routes", RouteViewSet, basename="routes")
router.register("risk", RiskViewSet, basename="risk")

urlpatterns = router.urls
