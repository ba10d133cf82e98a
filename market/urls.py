"""API routes of market, mounted under /api/."""

from evesite.routers import api_router
from market.history_views import MarketHistoryViewSet
from market.planner_views import HaulPlanViewSet
from market.views import MarketViewSet

router = api_router()
router.register("market/haul-plan", HaulPlanViewSet, basename="market-haul-plan")
router.register("market", MarketHistoryViewSet, basename="market-history")
router.register("market", MarketViewSet, basename="market")

urlpatterns = router.urls
