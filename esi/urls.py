"""API routes of esi, mounted under /api/.

The status is one resource without an id, named ``esi-status`` before the viewsets: DRF's default routes
(``{basename}-list``) cannot spell that, so its one URL is named by its basename.
"""

from rest_framework.routers import Route

from esi.views import EsiStatusViewSet
from evesite.routers import api_router

router = api_router()
router.routes = [
    Route(
        url="{prefix}{trailing_slash}",
        mapping={"get": "retrieve"},
        name="{basename}",
        detail=False,
        initkwargs={"suffix": "Instance"},
    )
]
router.register("esi/status", EsiStatusViewSet, basename="esi-status")

urlpatterns = router.urls
