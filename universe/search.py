"""Name search over the SDE: exact, prefix and fuzzy (``pg_trgm``) matches of types, systems, stations, regions.

Every kind's ``lower(name)`` has a btree index (``text_pattern_ops``) for exact and prefix matches and a trigram
GIN index for fuzzy ones (``%``: similarity at least ``pg_trgm.similarity_threshold``); see migration 0002.
Ranking: exact names (case-insensitive) first, then names starting with the query in name order. Only when no name
starts with the query (a typo), fuzzy matches instead, most similar first (then shorter, then by name): a trigram
scan costs ten times an index range scan, and a prefix that matches is what a person typing wants.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from django.db import connection, transaction

from universe.security import security_display

SearchKind = Literal["type", "system", "station", "region"]
KINDS: tuple[SearchKind, ...] = ("type", "system", "station", "region")

# Per kind: the columns (id, name, label, security) and the FROM clause; labels are joined in, one round trip.
_SOURCES: dict[str, tuple[str, str]] = {
    "type": (
        "t.id::bigint, t.name, g.name AS label, NULL::float8 AS security",
        "universe_itemtype t JOIN universe_itemgroup g ON g.id = t.group_id",
    ),
    "system": (
        "s.id::bigint, s.name, r.name AS label, s.security",
        "universe_solarsystem s JOIN universe_region r ON r.id = s.region_id",
    ),
    "station": (
        "st.id, st.name, s.name AS label, st.security",
        "universe_station st JOIN universe_solarsystem s ON s.id = st.system_id",
    ),
    "region": ("r.id::bigint, r.name, NULL AS label, NULL::float8 AS security", "universe_region r"),
}
_TABLE_ALIAS = {"type": "t", "system": "s", "station": "st", "region": "r"}
_PREFIX_ORDER = "ORDER BY rank, length(name), lower(name), id LIMIT %(limit)s"
# Fuzzy passes: a strict similarity first (few index candidates to recheck: ~10x faster), then pg_trgm's default.
FUZZY_THRESHOLDS = (0.5, 0.3)
_FUZZY_ORDER = "ORDER BY sim DESC, length(name), name, id LIMIT %(limit)s"


@dataclass(frozen=True)
class SearchHit:
    """One match: what it is, its id and name, a short label, and how well it matched."""

    kind: SearchKind
    id: int
    name: str
    label: str
    match: Literal["exact", "prefix", "fuzzy"]
    similarity: float


def _like_prefix(text: str) -> str:
    """``text`` as a LIKE prefix pattern, its wildcards escaped."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _prefix_sql(kind: str) -> str:
    """Exact and prefix matches of one kind, shortest first (the exact name is the shortest), from the btree index."""
    columns, tables = _SOURCES[kind]
    name = f"lower({_TABLE_ALIAS[kind]}.name)"
    return f"""(
SELECT '{kind}', {columns}, CASE WHEN {name} = %(q)s THEN 0 ELSE 1 END, similarity({name}, %(q)s)
FROM {tables} WHERE {name} LIKE %(prefix)s ORDER BY length({name}), {name} LIMIT %(limit)s)"""  # noqa: S608 (fixed clauses)


def _fuzzy_sql(kind: str) -> str:
    """Fuzzy matches of one kind, most similar first, from the trigram index."""
    columns, tables = _SOURCES[kind]
    name = f"lower({_TABLE_ALIAS[kind]}.name)"
    return f"""(
SELECT '{kind}', {columns}, 2, similarity({name}, %(q)s) AS sim
FROM {tables} WHERE {name} %% %(q)s ORDER BY sim DESC LIMIT %(limit)s)"""  # noqa: S608


def _union(part: Callable[[str], str], kinds: tuple[SearchKind, ...], order: str) -> str:
    """One query over every kind: the parts of each, ordered and cut."""
    union = " UNION ALL ".join(part(kind) for kind in kinds)
    return f"SELECT * FROM ({union}) AS hits(kind, id, name, label, security, rank, sim) {order}"  # noqa: S608


def _hits(sql: str, params: dict[str, str | int], *, threshold: float | None = None) -> list[tuple[Any, ...]]:
    """Run one search query; a fuzzy one (``threshold``) in a transaction that sets it and forces the indexes."""
    if threshold is None:  # one statement: no transaction of its own (two round trips fewer)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.similarity_threshold', %s, true), set_config('enable_seqscan', 'off', true)",
            [str(threshold)],
        )
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _label(kind: str, label: str | None, security: float | None) -> str:
    """The short label: a type's group, a system's security and region, a station's system."""
    if kind == "system" and security is not None:
        return f"{security_display(security):.1f} · {label}"
    if kind == "region":
        return "region"
    return label or ""


def universe_search(*, q: str, kinds: tuple[SearchKind, ...] = KINDS, limit: int = 10) -> list[SearchHit]:
    """Find SDE names matching a query, best first.

    Args:
        q: The text (case-insensitive; surrounding whitespace ignored).
        kinds: What to search.
        limit: Most hits.

    Returns:
        Exact matches first, then prefix matches; fuzzy matches when there is neither; empty for a blank query.
    """
    text = q.strip().lower()
    if not text:
        return []
    params: dict[str, str | int] = {"q": text, "prefix": _like_prefix(text), "limit": limit}
    rows = _hits(_union(_prefix_sql, kinds, _PREFIX_ORDER), params)
    for threshold in FUZZY_THRESHOLDS if not rows else ():
        # Only a name that nothing starts with (a typo) pays for trigram scans: strict first, then looser.
        rows = _hits(_union(_fuzzy_sql, kinds, _FUZZY_ORDER), params, threshold=threshold)
        if rows:
            break
    matches: tuple[Literal["exact", "prefix", "fuzzy"], ...] = ("exact", "prefix", "fuzzy")
    return [
        SearchHit(
            kind=kind,
            id=int(hit_id),
            name=name,
            label=_label(kind, label, security),
            match=matches[rank],
            similarity=round(float(sim), 4),
        )
        for kind, hit_id, name, label, security, rank, sim in rows
    ]
