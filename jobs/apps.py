"""App configuration for jobs."""

from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Background jobs a user can watch."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "jobs"
    verbose_name = "Background jobs"
