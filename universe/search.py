"""Name search over the SDE: exact, prefix and fuzzy (``pg_trgm``) matches of types, systems, stations, regions.

Every name, with its kind, short label and security, is a row of the materialized view ``universe_searchname``
(migration 0003; the ingestion refreshes it). Its ``lname`` (lower-case name) has a btree index
(``text_pattern_ops``) for exact and prefix matches and a trigram GIN index for fuzzy ones (``%``: similarity at
least ``pg_trgm.similarity_threshold``).
Ranking: exact names (case-insensitive) first, then names starting with the query, shortest first. Only when no
name starts with the query (a typo), fuzzy matches instead, most similar first (then shorter, then by name): a
trigram scan costs ten times an index range scan, and a prefix that matches is what a person typing wants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from django.db import connection, transaction

from universe.security import security_display

SearchKind = Literal["type", "system", "station", "region"]
KINDS: tuple[SearchKind, ...] = ("type", "system", "station", "region")

_COLUMNS = "kind, id, name, label, security"
_KIND_FILTER = "AND kind = ANY(%(kinds)s)"
_PREFIX_SQL = f"""SELECT {_COLUMNS}, CASE WHEN lname = %(q)s THEN 0 ELSE 1 END AS rank, similarity(lname, %(q)s)
FROM universe_searchname WHERE lname LIKE %(prefix)s {{kinds}}
ORDER BY rank, length(lname), lname, kind, id LIMIT %(limit)s"""  # noqa: S608 (fixed clauses)
# Fuzzy passes: a strict similarity first (few index candidates to recheck: ~10x faster), then pg_trgm's default.
FUZZY_THRESHOLDS = (0.5, 0.3)
_FUZZY_SQL = f"""SELECT {_COLUMNS}, 2, similarity(lname, %(q)s) AS sim
FROM universe_searchname WHERE lname %% %(q)s {{kinds}}
ORDER BY sim DESC, length(lname), lname, kind, id LIMIT %(limit)s"""  # noqa: S608


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


def _hits(sql: str, params: dict[str, Any], *, threshold: float | None = None) -> list[tuple[Any, ...]]:
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
    params: dict[str, Any] = {"q": text, "prefix": _like_prefix(text), "limit": limit, "kinds": list(kinds)}
    kind_filter = "" if set(kinds) >= set(KINDS) else _KIND_FILTER
    rows = _hits(_PREFIX_SQL.format(kinds=kind_filter), params)
    for threshold in FUZZY_THRESHOLDS if not rows else ():
        # Only a name that nothing starts with (a typo) pays for trigram scans: strict first, then looser.
        rows = _hits(_FUZZY_SQL.format(kinds=kind_filter), params, threshold=threshold)
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
