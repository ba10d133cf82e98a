"""Issue 15: the accounts viewsets — saved-route PATCH, ids in paths, the validation error shape, singletons."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import resolve, reverse
from rest_framework.test import APIClient

from accounts.models import RouteMode, SavedRoute, UserSettings
from universe.models import SolarSystem

pytestmark = pytest.mark.django_db

JITA, PERIMETER, AMARR = 30000142, 30000144, 30002187


def _save(client: APIClient, name: str = "Trade", **fields: Any) -> dict[str, Any]:
    """Save a route Jita → Amarr (fields override) and return its body."""
    response = client.post(
        "/api/me/routes/", {"name": name, "origin": "Jita", "destination": "Amarr", **fields}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_patch_changes_only_the_fields_sent(alice: tuple[APIClient, Any], systems: dict[str, SolarSystem]) -> None:
    """PATCH renames, reroutes and changes the mode; what is not sent stays; GET shows the same route."""
    client, _ = alice
    route = _save(client, avoid=["Perimeter"])
    response = client.patch(f"/api/me/routes/{route['id']}/", {"name": " Back home ", "origin": "amarr"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "Back home"
    assert body["origin"] == {"id": AMARR, "name": "Amarr"}
    assert body["destination"] == {"id": AMARR, "name": "Amarr"}
    assert body["avoid"] == [{"id": PERIMETER, "name": "Perimeter"}]
    assert (body["id"], body["created"], body["mode"]) == (route["id"], route["created"], "shortest")

    response = client.patch(
        f"/api/me/routes/{route['id']}/",
        {"destination": str(JITA), "mode": "secure", "avoid": []},
        format="json",
    )
    assert response.status_code == 200, response.content
    saved = SavedRoute.objects.get(pk=route["id"])
    assert (saved.name, saved.origin_id, saved.destination_id) == ("Back home", AMARR, JITA)
    assert (saved.mode, saved.avoid) == (RouteMode.SECURE, [])
    assert client.get(f"/api/me/routes/{route['id']}/").json() == response.json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"mode": "warp"}, "mode"),
        ({"mode": "Secure"}, "mode"),
        ({"origin": True}, "origin"),
        ({"avoid": "Jita"}, "avoid"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"origin": "x" * 101}, "origin"),
        ({"avoid": ["x"] * 501}, "avoid"),
        ({"avoid": ["x" * 101]}, "avoid"),
    ],
)
def test_patch_refuses_invalid_fields_in_the_error_shape(
    alice: tuple[APIClient, Any], systems: dict[str, SolarSystem], change: dict[str, Any], field: str
) -> None:
    """A field the schema refuses answers 400 invalid_input naming it under ``fields``; the route is unchanged."""
    client, _ = alice
    route = _save(client)
    response = client.patch(f"/api/me/routes/{route['id']}/", change, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "invalid_input"
    assert isinstance(body["detail"], str)
    assert field in body["fields"], body
    assert client.get(f"/api/me/routes/{route['id']}/").json() == route


def test_ids_may_be_numbers_and_null_keeps_a_value(
    alice: tuple[APIClient, Any], systems: dict[str, SolarSystem]
) -> None:
    """Systems are ids (JSON numbers too, as before) or names; a PATCH's null leaves that field as it was."""
    client, _ = alice
    route = _save(client, origin=JITA, destination=AMARR, avoid=[PERIMETER, "Perimeter"])
    assert (route["origin"]["name"], route["destination"]["name"]) == ("Jita", "Amarr")
    assert route["avoid"] == [{"id": PERIMETER, "name": "Perimeter"}]
    nulls = {"name": None, "mode": None, "avoid": None}
    response = client.patch(f"/api/me/routes/{route['id']}/", nulls, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == route
    response = client.patch("/api/me/settings/", {"avoid": [JITA], "sales_tax": None}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["avoid"] == [{"id": JITA, "name": "Jita"}]


def test_patch_refuses_unknown_systems_and_a_taken_name(
    alice: tuple[APIClient, Any], systems: dict[str, SolarSystem]
) -> None:
    """Unknown systems are 404s and another route's name a 409 from the service; nothing changes."""
    client, _ = alice
    first = _save(client, "First")
    _save(client, "Second")
    url = f"/api/me/routes/{first['id']}/"
    unknown = client.patch(url, {"destination": "Nowhere", "name": "Renamed"}, format="json")
    assert unknown.status_code == 404
    assert unknown.json()["unknown"] == ["Nowhere"]
    taken = client.patch(url, {"name": "Second"}, format="json")
    assert taken.status_code == 409
    assert taken.json() == {
        "error": "conflict",
        "detail": "You already have a saved route named 'Second'.",
        "field": "name",
    }
    assert client.get(url).json() == first


def test_another_users_route_cannot_be_patched(
    alice: tuple[APIClient, Any], bob: tuple[APIClient, Any], systems: dict[str, SolarSystem]
) -> None:
    """Bob's PATCH of Alice's route answers 404 (as for an unknown id), and the route is unchanged."""
    route = _save(alice[0], "Mine")
    response = bob[0].patch(f"/api/me/routes/{route['id']}/", {"name": "Stolen"}, format="json")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert bob[0].patch("/api/me/routes/999999999/", {"name": "Nope"}, format="json").status_code == 404
    assert SavedRoute.objects.get(pk=route["id"]).name == "Mine"


@pytest.mark.parametrize("route_id", [str(2**63), str(2**70), "0"])
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_route_ids_past_64_bits_or_zero_are_a_400(alice: tuple[APIClient, Any], method: str, route_id: str) -> None:
    """A route id PostgreSQL's bigint cannot hold (or 0) is the client's error, never a query."""
    client, _ = alice
    response = getattr(client, method)(f"/api/me/routes/{route_id}/", {}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_input"
    assert "route_id" in response.json()["fields"]


@pytest.mark.parametrize("route_id", ["%D9%A3", "%C2%B2", "-1", "1.0", "abc"])
def test_route_ids_are_ascii_digits(alice: tuple[APIClient, Any], route_id: str) -> None:
    """Arabic-Indic or superscript digits, signs and decimals name no route: 404 JSON, not a 500."""
    client, _ = alice
    response = client.get(f"/api/me/routes/{route_id}/")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_the_largest_64_bit_id_is_an_unknown_route(alice: tuple[APIClient, Any]) -> None:
    """2**63 - 1 is a valid id: looked up, and 404 because there is no such route."""
    client, _ = alice
    assert client.get(f"/api/me/routes/{2**63 - 1}/").status_code == 404


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("put", "/api/me/routes/1/"),
        ("patch", "/api/me/routes/"),
        ("put", "/api/me/routes/"),
        ("post", "/api/me/"),
        ("delete", "/api/me/settings/"),
        ("post", "/api/auth/login/"),
        ("get", "/api/auth/logout/"),
    ],
)
def test_methods_the_resources_never_had_answer_405(alice: tuple[APIClient, Any], method: str, url: str) -> None:
    """The viewsets add no methods beyond the old views' (and PATCH of one saved route)."""
    client, _ = alice
    assert getattr(client, method)(url, {}, format="json").status_code == 405


def test_settings_validation_answers_the_error_shape(alice: tuple[APIClient, Any]) -> None:
    """Schema failures name each field; a rate of 100 % or more is refused (percent_field: at most 99.99)."""
    client, user = alice
    response = client.patch(
        "/api/me/settings/", {"sales_tax": 100, "broker_fee": -1, "default_route_mode": "fast"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_input"
    assert set(body["fields"]) == {"sales_tax", "broker_fee", "default_route_mode"}
    response = client.put("/api/me/settings/", {"sales_tax": 5}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"broker_fee", "home_station_id", "default_route_mode", "avoid"}
    response = client.put("/api/me/settings/", ["not", "an", "object"], format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_input"
    assert not UserSettings.objects.filter(user=user).exists()
    response = client.patch("/api/me/settings/", {"sales_tax": 99.99, "broker_fee": 0}, format="json")
    assert response.status_code == 200, response.content


def test_settings_patch_keeps_what_is_not_sent(alice: tuple[APIClient, Any], systems: dict[str, SolarSystem]) -> None:
    """A PATCH without home_station_id keeps it; one with null unsets it; PUT with null unsets it too."""
    client, user = alice
    structure = 1_035_466_617_946
    assert client.patch("/api/me/settings/", {"home_station_id": structure}, format="json").status_code == 200
    response = client.patch("/api/me/settings/", {"sales_tax": 4, "avoid": ["Jita"]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["home_station_id"] == structure
    assert response.json()["avoid"] == [{"id": JITA, "name": "Jita"}]
    assert client.patch("/api/me/settings/", {"home_station_id": None}, format="json").json()["home_station_id"] is None
    client.patch("/api/me/settings/", {"home_station_id": structure}, format="json")
    body: dict[str, Any] = {
        "sales_tax": 1,
        "broker_fee": 2,
        "home_station_id": None,
        "default_route_mode": "insecure",
        "avoid": [],
    }
    response = client.put("/api/me/settings/", body, format="json")
    assert response.status_code == 200, response.content
    saved = UserSettings.objects.get(user=user)
    assert (saved.sales_tax, saved.broker_fee, saved.home_station_id) == (1, 2, None)
    assert (saved.default_route_mode, saved.avoid) == ("insecure", [])


@pytest.mark.parametrize(
    ("name", "path", "view"),
    [
        ("me", "/api/me/", "MeViewSet"),
        ("me-settings", "/api/me/settings/", "UserSettingsViewSet"),
        ("me-routes", "/api/me/routes/", "SavedRouteViewSet"),
        ("login-info", "/api/auth/login/", "LoginInfoViewSet"),
        ("logout", "/api/auth/logout/", "LogoutViewSet"),
    ],
)
def test_each_resource_is_its_viewset(name: str, path: str, view: str) -> None:
    """The old names resolve to the accounts viewsets (no APIView is left)."""
    assert reverse(name) == path
    assert resolve(path).func.cls.__name__ == view  # type: ignore[attr-defined]
