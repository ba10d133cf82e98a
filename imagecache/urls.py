"""API routes of imagecache, mounted under /api/."""

from django.urls import URLPattern, URLResolver, path

from imagecache.views import ImageApi

urlpatterns: list[URLPattern | URLResolver] = [
    # Ids stay text here: the view answers a bad one with a JSON 404 instead of Django's HTML page.
    path("images/<str:resource_type>/<str:resource_id>", ImageApi.as_view(), name="image"),
]
