"""Player-structure (citadel) markets (issue 18): a logged-in character's scan of a structure's orders.

A web request only calls :func:`market_structure_snapshot_state`: it checks the login, the remembered 403s and
where the structure is, and queues a refresh job when the structure's snapshot is missing or stale (never
waits). A worker runs :func:`market_structure_refresh_run`: ``GET /markets/structures/{structure_id}`` (paged,
with the character's token, through the ESI client and its walk slot), stored as the structure's own snapshot
(``MarketSnapshot.structure_id``), so its orders take part in the station scan of the structure and in the
region and global scans of its region. A 403 (no docking access) is remembered per (character, structure)
for ``MARKET_STRUCTURE_DENIAL_SECONDS``: asked again only after that.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.selectors import eve_character_get
from accounts.sso import SsoLoginRequiredError
from accounts.tokens import character_access_token_fresh
from esi.client import EsiClient
from esi.errors import EsiHttpError
from esi.walks import esi_walk_slot
from evesite.exceptions import DomainError, NotFoundError
from evesite.schemas import INT64_MAX
from jobs.services import job_progress_set, job_run, job_touch
from market.models import MarketOrder, MarketSnapshot
from market.refresh import RegionSnapshotState, refresh_job_queue, refresh_release
from market.selectors import snapshot_age
from market.services import market_snapshot_store
from market.structure_models import MarketStructure, StructureMarketDenial
from universe.models import SolarSystem

logger = logging.getLogger("market")

KIND_STRUCTURE = "market.refresh_structure"
STRUCTURE_TASK = "market.refresh_structure"
REFRESH_KEY = "market:refresh:structure:{structure_id}"
# Player structures have ids from 10**12 up (NPC stations are 60,000,000-ish SDE rows).
STRUCTURE_ID_MIN = 10**12


class StructureAccessDeniedError(DomainError):
    """ESI said the character may not read the structure's market (no docking access)."""

    status_code = 403
    code = "structure_access_denied"


def structure_id_is(*, location_id: int) -> bool:
    """Tell whether a location id is a player structure's.

    Args:
        location_id: A station or structure id.

    Returns:
        True from 10**12 up (within 64 bits).
    """
    return STRUCTURE_ID_MIN <= location_id <= INT64_MAX


def _key(structure_id: int) -> str:
    """The Redis key naming the job that holds a structure."""
    return REFRESH_KEY.format(structure_id=structure_id)


def _denied_since(*, character_id: int, structure_id: int) -> Any:
    """When ESI last refused this character the structure's market, if within the denial period."""
    cutoff = timezone.now() - timedelta(seconds=float(settings.MARKET_STRUCTURE_DENIAL_SECONDS))
    denial = StructureMarketDenial.objects.filter(
        character_id=character_id, structure_id=structure_id, denied_at__gt=cutoff
    ).first()
    return denial.denied_at if denial is not None else None


def _location(*, structure_id: int, system_id: int | None) -> MarketStructure:
    """Where a structure is: as the docked character's location says, as stored, or from its orders in a region."""
    if system_id is None:
        known = MarketStructure.objects.filter(structure_id=structure_id).first()
        if known is not None:
            return known
        seen = MarketOrder.objects.filter(location_id=structure_id).values("system_id").first()
        system_id = int(seen["system_id"]) if seen is not None else None
    region_id = None
    if system_id is not None:
        region_id = SolarSystem.objects.filter(id=system_id).values_list("region_id", flat=True).first()
    if system_id is None or region_id is None:
        raise NotFoundError(
            f"Structure {structure_id}: where it is is not known. Scan it once while docked there "
            "(station_id=current), or when its orders show in a region snapshot.",
            structure_id=structure_id,
        )
    found, _ = MarketStructure.objects.update_or_create(
        structure_id=structure_id, defaults={"system_id": system_id, "region_id": int(region_id)}
    )
    return found


def market_structure_snapshot_state(
    *, user: Any, structure_id: int, system_id: int | None = None
) -> tuple[RegionSnapshotState, int]:
    """Say what a scan of a structure can read, queueing a refresh with the user's character when stale.

    Never waits and never calls ESI.

    Args:
        user: The requesting user (must be logged in with EVE Online).
        structure_id: The structure.
        system_id: Its system, when known (the docked character's location).

    Returns:
        The structure's snapshot state (as a region's), and its region.

    Raises:
        SsoLoginRequiredError: Without a logged-in character (HTTP 401).
        StructureAccessDeniedError: While a 403 from ESI for this character and structure is remembered.
        NotFoundError: When where the structure is is unknown.
    """
    character = eve_character_get(user=user)
    if character is None:
        raise SsoLoginRequiredError("Log in with EVE Online to scan a player structure's market.")
    denied = _denied_since(character_id=character.character_id, structure_id=structure_id)
    if denied is not None:
        raise StructureAccessDeniedError(
            f"ESI refused your character the market of structure {structure_id} (no docking access) at "
            f"{denied:%Y-%m-%d %H:%M} UTC; it is not asked again until a day later.",
            structure_id=structure_id,
        )
    where = _location(structure_id=structure_id, system_id=system_id)
    current = MarketSnapshot.objects.filter(structure_id=structure_id).order_by("-fetched_at", "-id").first()
    age = snapshot_age(fetched_at=current.fetched_at) if current is not None else None
    stale = age is None or age > float(settings.MARKET_CACHE_SECONDS)
    job = None
    if stale:
        params = {
            "structure_id": structure_id,
            "region_id": where.region_id,
            "system_id": where.system_id,
            "user_id": user.pk,
            "character_id": character.character_id,
        }
        job = refresh_job_queue(key=_key(structure_id), kind=KIND_STRUCTURE, params=params, task=STRUCTURE_TASK)
    return RegionSnapshotState(snapshot=current, age_seconds=age, stale=stale, job=job), where.region_id


def _structure_walk(*, job_id: str, params: dict[str, Any]) -> MarketSnapshot:
    """Fetch the structure's pages with the character's token inside the walk slot, then store them."""
    structure_id, system_id = int(params["structure_id"]), int(params["system_id"])
    user = get_user_model().objects.get(pk=params["user_id"])
    character_id, token = character_access_token_fresh(user=user)
    fetched_at = timezone.now()
    waiting = partial(job_touch, job_id=job_id)
    try:
        with esi_walk_slot(what=f"market of structure {structure_id}", waiting=waiting) as keep_alive:

            def page_done(done: int, total: int) -> None:
                """Keep the slot and report the page."""
                keep_alive()
                job_progress_set(job_id=job_id, done=done, total=total)

            orders = EsiClient().get_all_pages(f"/markets/structures/{structure_id}", token=token, progress=page_done)
    except EsiHttpError as exc:
        if exc.status == 403:  # noqa: PLR2004 - HTTP Forbidden: no docking access
            StructureMarketDenial.objects.update_or_create(
                character_id=character_id, structure_id=structure_id, defaults={"denied_at": timezone.now()}
            )
        raise
    located = [{**order, "system_id": system_id} for order in orders]
    return market_snapshot_store(
        region_id=int(params["region_id"]), orders=located, fetched_at=fetched_at, structure_id=structure_id
    )


def market_structure_refresh_run(*, job_id: uuid.UUID | str) -> int | None:
    """Run a structure refresh job (worker side). Safe to run twice: an ended or running job is left alone.

    Args:
        job_id: A ``market.refresh_structure`` job.

    Returns:
        The new snapshot id, or None when this call did not run the job.

    Raises:
        EsiError: When ESI failed (the job is failed; a 403 is remembered for the character and structure).
        SsoLoginRequiredError: When the character's login expired (the job is failed).
    """
    job_id = str(job_id)

    def work(params: dict[str, Any]) -> tuple[int, dict[str, int]]:
        """Fetch and store the structure's orders."""
        snapshot = _structure_walk(job_id=job_id, params=params)
        return snapshot.pk, {"snapshot_id": snapshot.pk, "orders": snapshot.order_count}

    def release(params: dict[str, Any], failed: bool) -> None:
        """Free the structure (held a while after a failure)."""
        refresh_release(key=_key(int(params["structure_id"])), job_id=job_id, failed=failed)

    return job_run(job_id=job_id, work=work, release=release)
