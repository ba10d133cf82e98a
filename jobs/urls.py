"""API routes of jobs, mounted under /api/."""

from evesite.routers import api_router
from jobs.views import JobViewSet

router = api_router()
router.register("jobs", JobViewSet, basename="job")

urlpatterns = router.urls
