"""API routes of esi, mounted under /api/: the status, one resource without an id (``esi-status``)."""

from esi.views import EsiStatusViewSet
from evesite.routers import singleton_router

router = singleton_router()
router.register("esi/status", EsiStatusViewSet, basename="esi-status")

urlpatterns = router.urls
