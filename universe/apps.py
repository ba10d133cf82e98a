"""App configuration for universe."""

from __future__ import annotations

import logging
from typing import Any

from django.apps import AppConfig
from django.core.signals import setting_changed
from django.db.models.signals import post_migrate
from neo4j.exceptions import Neo4jError, ServiceUnavailable

from evesite.graph import graph_configure, graph_setting_changed
from universe.graph import graph_schema_install

logger = logging.getLogger("universe")


def graph_schema_after_migrate(*, plan: list[Any] | None = None, **kwargs: Any) -> None:
    """Install the gate graph's constraints after ``manage.py migrate`` (start-up), warning when Neo4j is down.

    A database flush (between tests) sends the same signal without a plan: the graph is left alone then.

    Args:
        plan: The migrations ``migrate`` ran (empty when none were due).
        **kwargs: The signal's other arguments.
    """
    if plan is None:
        return
    try:
        graph_schema_install()
    except (ServiceUnavailable, Neo4jError, OSError) as exc:
        logger.warning("Neo4j constraints not installed (%s); manage.py graph_install_labels installs them", exc)


class UniverseConfig(AppConfig):
    """Static data (SDE); owns the Neo4j connection set-up and the gate graph's schema."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "universe"
    verbose_name = "Static data (SDE)"

    def ready(self) -> None:
        """Configure neomodel from settings, follow changes of them, and install the graph schema after migrate."""
        graph_configure()
        setting_changed.connect(graph_setting_changed, dispatch_uid="evesite.graph.setting_changed")
        post_migrate.connect(graph_schema_after_migrate, sender=self, dispatch_uid="universe.graph_schema")
