"""Ids or names: resolve what a request names (an SDE id, or an exact case-insensitive name) to SDE ids.

Unknown or ambiguous names answer 404 with the closest matches of :func:`universe.search.universe_search`,
so a client can offer "did you mean".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, Value
from django.db.models.functions import Lower

from evesite.exceptions import InvalidInputError, NotFoundError
from evesite.schemas import INT64_MAX
from universe import models as m
from universe.search import SearchKind, universe_search

CLOSEST_MATCHES = 5
_MODELS: dict[str, type[Model]] = {
    "type": m.ItemType,
    "system": m.SolarSystem,
    "station": m.Station,
    "region": m.Region,
}


@dataclass(frozen=True)
class NameRef:
    """What a request field names: a kind of SDE thing and the id or name given."""

    kind: SearchKind
    ref: int | str


def _candidates(kind: SearchKind, ref: int | str) -> list[tuple[int, str]]:
    """The (id, name) rows an id or an exact name designates (more than one: an ambiguous name)."""
    model = _MODELS[kind]
    number = _digits(ref)
    if number is not None:
        found = model.objects.filter(id=number) if 0 < number <= INT64_MAX else model.objects.none()  # type: ignore[attr-defined]
    else:
        # lower(name) = lower(ref): the btree index on lower(name) answers (name__iexact's upper() scans the table).
        found = model.objects.alias(lname=Lower("name")).filter(lname=Lower(Value(str(ref).strip())))  # type: ignore[attr-defined]
    return [(int(i), str(n)) for i, n in found.order_by("id").values_list("id", "name")[:CLOSEST_MATCHES]]


def _problem(field: str, name: NameRef, found: list[tuple[int, str]]) -> dict[str, Any]:
    """Describe an unknown or ambiguous reference, with the closest matches."""
    if found:
        matches = [{"id": i, "name": n, "label": ""} for i, n in found]
        problem = "ambiguous"
    else:
        hits = universe_search(q=str(name.ref), kinds=(name.kind,), limit=CLOSEST_MATCHES)
        matches = [{"id": h.id, "name": h.name, "label": h.label} for h in hits]
        problem = "unknown"
    return {"field": field, "kind": name.kind, "ref": str(name.ref), "problem": problem, "matches": matches}


def _digits(ref: int | str) -> int | None:
    """The id a reference gives as a number (None for a name)."""
    text = str(ref).strip()
    return int(text) if isinstance(ref, int) or (text.isascii() and text.isdigit()) else None


def universe_names_resolve(*, refs: Mapping[str, NameRef], check_ids: bool = True) -> dict[str, int]:
    """Resolve request fields that name SDE things by id or by exact, case-insensitive name.

    Args:
        refs: Field name -> what it names.
        check_ids: Ids must be in the SDE too (False: ids within 64 bits pass as they are, for things the SDE
            does not list, such as player structures).

    Returns:
        Field name -> id.

    Raises:
        NotFoundError: Naming every field whose reference is unknown or ambiguous, each with up to five closest
            matches (``unknown``: ``[{field, kind, ref, problem, matches: [{id, name, label}]}]``).
        InvalidInputError: For an id outside 64 bits when ids are not checked.
    """
    ids: dict[str, int] = {}
    problems = []
    for field, name in refs.items():
        number = _digits(name.ref)
        if number is not None and not check_ids:
            if number > INT64_MAX:
                raise InvalidInputError(f"{field} is out of range.", field=field)
            ids[field] = number
            continue
        found = _candidates(name.kind, name.ref)
        if len(found) == 1:
            ids[field] = found[0][0]
        else:
            problems.append(_problem(field, name, found))
    if problems:
        told = "; ".join(f"{p['problem']} {p['kind']} {p['ref']!r} ({p['field']})" for p in problems)
        raise NotFoundError(f"Not in the SDE: {told}.", unknown=problems)
    return ids


def universe_name_resolve(*, field: str, kind: SearchKind, ref: int | str, check_ids: bool = True) -> int:
    """Resolve one request field (see :func:`universe_names_resolve`).

    Args:
        field: The field's name, for the error.
        kind: What it names.
        ref: The id or name.
        check_ids: An id must be in the SDE too.

    Returns:
        The id.
    """
    return universe_names_resolve(refs={field: NameRef(kind=kind, ref=ref)}, check_ids=check_ids)[field]
