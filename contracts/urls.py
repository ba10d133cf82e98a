"""API routes of contracts, mounted under /api/ (``contract-list``, ``contract-detail``)."""

from contracts.views import ContractViewSet
from evesite.routers import api_router

router = api_router()
router.register("contracts", ContractViewSet, basename="contract")

urlpatterns = router.urls
