"""API routes of universe, mounted under /api/."""

from evesite.routers import singleton_router
from universe.views import UniverseSearchViewSet

router = singleton_router()
router.register("universe/search", UniverseSearchViewSet, basename="universe-search")

urlpatterns = router.urls
