"""App configuration for routing."""

from django.apps import AppConfig


class RoutingConfig(AppConfig):
    """Routing."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "routing"
    verbose_name = "Routing"
