"""App configuration for market."""

from django.apps import AppConfig


class MarketConfig(AppConfig):
    """Market."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "market"
    verbose_name = "Market"
