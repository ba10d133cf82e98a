"""App configuration for esi."""

from django.apps import AppConfig


class EsiConfig(AppConfig):
    """ESI client."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "esi"
    verbose_name = "ESI client"
