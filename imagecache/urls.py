"""API routes of imagecache, mounted under /api/ (first: image hits are the busiest route).

The image URL predates the viewsets: ``images/<resource_type>/<resource_id>`` without a trailing slash,
named ``image``. DRF's default routes cannot spell it, so the router has this one route.
"""

from rest_framework.routers import Route

from evesite.routers import api_router
from imagecache.views import ImageViewSet

router = api_router()
router.routes = [
    Route(
        url="{prefix}/<str:resource_type>/{lookup}",
        mapping={"get": "retrieve"},
        name="{basename}",
        detail=True,
        initkwargs={"suffix": "Instance"},
    )
]
router.register("images", ImageViewSet, basename="image")

urlpatterns = router.urls
