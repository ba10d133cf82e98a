"""API routes of appraisal, mounted under /api/."""

from appraisal.views import AppraisalViewSet
from evesite.routers import api_router

router = api_router()
router.register("appraisal", AppraisalViewSet, basename="appraisal")

urlpatterns = router.urls
