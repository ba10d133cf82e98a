"""App configuration for universe."""

from django.apps import AppConfig


class UniverseConfig(AppConfig):
    """Static data (SDE); owns the Neo4j connection set-up."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "universe"
    verbose_name = "Static data (SDE)"

    def ready(self) -> None:
        """Configure neomodel from settings at app start."""
        from evesite.graph import graph_configure

        graph_configure()
