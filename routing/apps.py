"""App configuration for routing."""

from typing import Any

from django.apps import AppConfig


def _graph_replaced(sender: Any, *, label: str, **kwargs: Any) -> None:
    """The gate graph was replaced: the jump tables built on it are outdated."""
    from routing.jumps_build import jump_tables_graph_replaced

    jump_tables_graph_replaced(label=label)


class RoutingConfig(AppConfig):
    """Routing."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        """Follow the gate graph's replacements (universe sends them)."""
        from universe.signals import graph_replaced

        graph_replaced.connect(_graph_replaced, dispatch_uid="routing.jump_tables")
