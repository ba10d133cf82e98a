"""App configuration for contracts."""

from django.apps import AppConfig


class ContractsConfig(AppConfig):
    """Contracts."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "contracts"
    verbose_name = "Contracts"
