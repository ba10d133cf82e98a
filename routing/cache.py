"""Routing's state in Redis: the keys and the client (shared by selectors and services)."""

from __future__ import annotations

from typing import Any

from django_redis import get_redis_connection

# Redis keys (per graph label) of the routing engine's state.
KILLS_KEY = "routing:kills"
SYSTEM_KILLS_KEY = "routing:system_kills"
WEIGHTS_OK_KEY = "routing:{label}:weights_ok"
RISK_FRESH_KEY = "routing:{label}:risk_fresh"
# The fingerprint of the graph as last read (routing.jumps): forgotten when the graph or its weights change.
JUMP_GRAPH_KEY = "routing:{label}:jumps_graph_key"


def routing_redis() -> Any:
    """The raw Redis client of the default cache."""
    return get_redis_connection("default")
