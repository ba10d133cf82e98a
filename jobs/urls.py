"""API routes of jobs, mounted under /api/."""

from django.urls import URLPattern, URLResolver, path

from jobs.views import JobApi

urlpatterns: list[URLPattern | URLResolver] = [
    path("jobs/<uuid:job_id>/", JobApi.as_view(), name="job-detail"),
]
