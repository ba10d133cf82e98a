"""Pydantic schemas of universe's API (shapes only; no logic)."""

from __future__ import annotations

from typing import Literal

import pydantic

from evesite.schemas import Schema

SEARCH_MAX_LIMIT = 50


class SearchQuery(Schema):
    """Query parameters of ``GET /api/universe/search/``."""

    q: str = pydantic.Field(min_length=1, max_length=100, pattern=r"\S", description="Name or part of one.")
    kind: Literal["type", "system", "station", "region"] | None = pydantic.Field(
        None, description="Only this kind (default: every kind)."
    )
    limit: int = pydantic.Field(10, ge=1, le=SEARCH_MAX_LIMIT, description="Most hits.")


class SearchHit(Schema):
    """A name that matched: exact (case-insensitive) first, then prefix, then fuzzy (trigram similarity)."""

    kind: Literal["type", "system", "station", "region"]
    id: int
    name: str
    label: str = pydantic.Field(
        description="A type's group; a system's security (as EVE shows it) and region; a station's system."
    )
    match: Literal["exact", "prefix", "fuzzy"]
    similarity: float = pydantic.Field(ge=0, le=1, description="pg_trgm similarity of the names (lowercase).")
