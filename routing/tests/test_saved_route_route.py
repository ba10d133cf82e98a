"""``GET /api/me/routes/{id}/route/``: a saved route computed now, on the tiny graph."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import SavedRoute

pytestmark = pytest.mark.django_db

ALPHA, DELTA, XRAY = 1, 4, 8


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def user() -> Any:
    return get_user_model().objects.create_user("hauler", password="x")


def _saved(user: Any, **fields: Any) -> SavedRoute:
    return SavedRoute.objects.create(user=user, name=fields.pop("name", "home run"), **fields)


def test_the_saved_mode_and_avoid_list_are_used(tiny_sde: dict[str, int], user: Any) -> None:
    client = _client(user)
    shortest = _saved(user, name="short", origin_id=ALPHA, destination_id=DELTA, mode="shortest")
    secure = _saved(user, name="safe", origin_id=ALPHA, destination_id=DELTA, mode="secure")
    avoiding = _saved(user, name="no xray", origin_id=ALPHA, destination_id=DELTA, mode="shortest", avoid=[XRAY])
    answers = {
        saved.name: client.get(f"/api/me/routes/{saved.pk}/route/").json() for saved in (shortest, secure, avoiding)
    }
    assert [s["id"] for s in answers["short"]["systems"]] == [ALPHA, XRAY, DELTA]
    assert [s["id"] for s in answers["safe"]["systems"]] == [ALPHA, 5, 6, 7, DELTA]
    assert answers["no xray"]["avoid"] == [XRAY]
    assert answers["no xray"]["jumps"] == 3
    assert XRAY not in [s["id"] for s in answers["no xray"]["systems"]]
    assert answers["safe"]["mode"] == "secure"


def test_the_route_is_drawn_as_svg(tiny_sde: dict[str, int], user: Any) -> None:
    saved = _saved(user, origin_id=ALPHA, destination_id=DELTA, mode="shortest")
    response = _client(user).get(f"/api/me/routes/{saved.pk}/route/", {"format": "svg"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in response.content


def test_another_users_route_and_strangers(tiny_sde: dict[str, int], user: Any) -> None:
    saved = _saved(user, origin_id=ALPHA, destination_id=DELTA)
    other = get_user_model().objects.create_user("thief", password="x")
    assert _client(other).get(f"/api/me/routes/{saved.pk}/route/").status_code == 404
    assert Client().get(f"/api/me/routes/{saved.pk}/route/").status_code in (401, 403)
    assert _client(user).get("/api/me/routes/9223372036854775808/route/").status_code == 400


def test_no_route_now_is_404(tiny_sde: dict[str, int], user: Any) -> None:
    saved = _saved(user, origin_id=ALPHA, destination_id=20)  # Island has no gates
    response = _client(user).get(f"/api/me/routes/{saved.pk}/route/")
    assert response.status_code == 404
    assert "No route" in response.json()["detail"]
