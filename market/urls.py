"""API routes of market, mounted under /api/."""

from evesite.routers import api_router
from market.views import MarketViewSet

router = api_router()
router.register("market", MarketViewSet, basename="market")

urlpatterns = router.urls
