"""Reads of routing: the routed systems, looked up through the graph's model (``universe.graph.SolarSystem``).

Single systems (by id, by name, the systems of a route) are read with
``SolarSystem.nodes`` under the routed label. Names, security and regions of
every system are also kept in an in-process index, loaded with one projected
read (:func:`routing.graph.names_query`, one record: neomodel reads whole nodes,
which is several times slower for all ~8,400) and trusted for ``NAMES_TTL_SECONDS``; a
system it lacks is looked up through the model and added.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings

from evesite.exceptions import NotFoundError
from evesite.graph import graph_query, graph_reads_bounded
from routing import graph
from universe.graph import SolarSystem
from universe.security import security_display

# How long the in-process name index is trusted.
NAMES_TTL_SECONDS = 300.0
# The largest id worth asking Neo4j about (its integers are 64-bit).
MAX_SYSTEM_ID = 2**63 - 1


@dataclass(frozen=True)
class StaticSystem:
    """What the index keeps of a system (static SDE data)."""

    name: str
    security: float
    security_display: float
    region: str | None
    region_id: int | None


@dataclass
class _NameIndex:
    """System ids by lower-cased name, and each system's static data, for one graph label."""

    by_name: dict[str, int] = field(default_factory=dict)
    systems: dict[int, StaticSystem] = field(default_factory=dict)
    loaded_at: float = 0.0


_names_lock = threading.Lock()
_name_indexes: dict[str, _NameIndex] = {}


def query_timeout() -> float:
    """Return the bound of a web request's graph reads (``NEO4J_QUERY_TIMEOUT_SECONDS``; past it: a 503).

    Returns:
        Seconds.
    """
    return float(settings.NEO4J_QUERY_TIMEOUT_SECONDS)


def _static(name: str, security: float, region: str | None, region_id: int | None) -> StaticSystem:
    """Build what the index keeps of a system."""
    return StaticSystem(
        name=str(name),
        security=float(security),
        security_display=security_display(float(security)),
        region=region,
        region_id=region_id,
    )


def _name_index(label: str) -> _NameIndex:
    """Return the name index of a label, loading it from Neo4j when missing or old."""
    with _names_lock:
        index = _name_indexes.get(label)
        now = time.monotonic()
        if index is None or now - index.loaded_at > NAMES_TTL_SECONDS:
            rows = graph_query(graph.names_query(label))[0]["rows"]
            index = _NameIndex(
                by_name={str(name).lower(): int(i) for i, name, *_ in rows if name is not None},
                systems={int(i): _static(name, sec, region, region_id) for i, name, sec, region, region_id in rows},
                loaded_at=now,
            )
            _name_indexes[label] = index
        return index


def _index_add(label: str, nodes: Iterable[SolarSystem]) -> None:
    """Add systems read through the model (new since the index was loaded) to a label's index."""
    with _names_lock:
        index = _name_indexes.get(label)
        if index is None:
            return
        for node in nodes:
            index.systems[node.system_id] = _static(node.name, node.security, node.region_name, node.region_id)
            if node.name is not None:
                index.by_name[node.name.lower()] = node.system_id


def system_names_forget() -> None:
    """Forget the in-process name indexes (after an ingestion changed the systems)."""
    with _names_lock:
        _name_indexes.clear()


def system_get(*, system_id: int) -> SolarSystem | None:
    """Read one routed system through the model, with its risk, bounded by :func:`query_timeout`.

    Args:
        system_id: The system id.

    Returns:
        The node, or None when the graph has no such system.
    """
    with graph_reads_bounded(timeout=query_timeout()):
        return graph.graph_model().nodes.get_or_none(system_id=system_id)


def _graph_lookup(text: str) -> SolarSystem | None:
    """Look a system up through the model: by id (digits), else by case-insensitive exact name."""
    model = graph.graph_model()
    node = None
    with graph_reads_bounded(timeout=query_timeout()):
        if text.isascii() and text.isdigit() and int(text) <= MAX_SYSTEM_ID:
            node = model.nodes.get_or_none(system_id=int(text))
        if node is None and text:
            node = model.nodes.filter(name__iexact=text).first_or_none()
    return node


def _lookup(index: _NameIndex, text: str) -> int | None:
    """Find a system in the index by id or case-insensitive exact name."""
    if text.isascii() and text.isdigit() and int(text) in index.systems:
        return int(text)
    return index.by_name.get(text.lower())


def system_resolve(*, ref: int | str) -> int:
    """Turn a system id or name (case-insensitive, exact) into its id.

    Args:
        ref: An id, or a name such as ``jita``.

    Returns:
        The system id.

    Raises:
        NotFoundError: When no routed system has that id or name (the message names it).
    """
    label = graph.graph_label()
    text = str(ref).strip()
    found = _lookup(_name_index(label), text)
    if found is None and (node := _graph_lookup(text)) is not None:
        _index_add(label, [node])
        found = node.system_id
    if found is None:
        raise NotFoundError(f"Unknown solar system {text!r}.", system=text)
    return found


def system_name(*, system_id: int) -> str:
    """Return a routed system's name (its id as text when unknown).

    Args:
        system_id: The system id.

    Returns:
        The name.
    """
    found = _name_index(graph.graph_label()).systems.get(system_id)
    return found.name if found else str(system_id)


def systems_static(*, system_ids: Sequence[int]) -> dict[int, StaticSystem]:
    """Return the static data of some systems, reading those the index lacks through the model.

    Args:
        system_ids: The systems (e.g. of a route).

    Returns:
        Static data by system id (systems the graph lacks are left out).
    """
    label = graph.graph_label()
    index = _name_index(label)
    missing = [i for i in system_ids if i not in index.systems]
    if missing:
        with graph_reads_bounded(timeout=query_timeout()):
            _index_add(label, graph.graph_model().nodes.filter(system_id__in=missing).all())
    return {i: index.systems[i] for i in system_ids if i in index.systems}
