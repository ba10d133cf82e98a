"""The routing API, command and pictures on the tiny graph (real Neo4j, PostgreSQL and Redis)."""

from __future__ import annotations

import io
import re
import time
from typing import get_args
from xml.etree import ElementTree

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from accounts.models import UserSettings
from evesite.settings import production as site_settings
from routing.cache import KILLS_KEY
from routing.graph import MODES
from routing.risk import RISK_LEVELS, KillEntry
from routing.schemas import RiskLevel, RouteMode
from routing.services import risk_graph_sync

pytestmark = pytest.mark.usefixtures("tiny_sde")


def _get(path: str, client: APIClient | None = None, **params: str):
    """GET an API path with query parameters."""
    return (client or APIClient()).get(path, params)


def _camp(system_id: int, kills: int = 5) -> None:
    """Put a fresh gate camp of ``kills`` kills in a system and write the risk to the graph."""
    now = time.time()
    entries = {KillEntry(70000 + n, system_id, now - 60, False, None).member(): now - 60 for n in range(kills)}
    get_redis_connection("default").zadd(KILLS_KEY, entries)
    risk_graph_sync()


def test_route_response_shape() -> None:
    """The documented fields, jumps == len(systems) - 1, security_display per EVE rounding."""
    response = _get("/api/routes/", origin="alpha", destination="Delta", mode="secure")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["mode"] == "secure"
    assert body["jumps"] == 4 == len(body["systems"]) - 1
    assert body["origin"]["name"] == "Alpha"
    assert body["destination"]["id"] == 4
    echo = body["systems"][1]
    assert echo == {
        "id": 5,
        "name": "Echo",
        "security": 0.45,
        "security_display": 0.5,
        "region": "Tiny",
        "risk": None,
        "kills_last_hour": 0,
        "risk_reasons": [],
    }
    assert body["total_weight"] == 4.0


def test_unknown_system_is_a_404_naming_it() -> None:
    """An unknown origin answers 404 and names it."""
    response = _get("/api/routes/", origin="Nowhere", destination="Delta")
    assert response.status_code == 404
    assert "Nowhere" in response.json()["detail"]


def test_no_route_is_a_404_saying_so() -> None:
    """An unreachable destination answers 404 saying there is no route."""
    response = _get("/api/routes/", origin="Alpha", destination="Island")
    assert response.status_code == 404
    assert response.json()["detail"].startswith("No route from Alpha to Island")


def test_bad_mode_is_a_400() -> None:
    """A mode other than shortest, secure, insecure answers 400."""
    response = _get("/api/routes/", origin="Alpha", destination="Delta", mode="fast")
    assert response.status_code == 400
    assert "mode" in response.json()["detail"]


def test_avoid_and_avoid_risk_parameters() -> None:
    """Avoid takes names and ids; avoid_risk=false ignores a critical camp."""
    body = _get("/api/routes/", origin="Alpha", destination="Delta", avoid="xray, 3").json()
    assert [s["name"] for s in body["systems"]] == ["Alpha", "Echo", "Foxtrot", "Golf", "Delta"]
    assert body["avoid"] == [3, 8]
    _camp(8)
    assert _get("/api/routes/", origin="Alpha", destination="Delta").json()["jumps"] == 3
    body = _get("/api/routes/", origin="Alpha", destination="Delta", avoid_risk="false").json()
    assert body["jumps"] == 2
    assert body["systems"][1]["risk"] == "critical"
    assert body["systems"][1]["risk_reasons"] == ["5 kills in 10 min", "5 ship/pod kills in the last hour"]


def test_risk_list_filters_by_level() -> None:
    """GET /api/risk/?level=critical lists the camp with its reasons; other levels are filtered out."""
    _camp(8)
    _camp(3, kills=3)
    critical = _get("/api/risk/", level="critical").json()
    assert critical == [
        {
            "system_id": 8,
            "name": "Xray",
            "level": "critical",
            "reasons": ["5 kills in 10 min", "5 ship/pod kills in the last hour"],
            "kills_last_hour": 5,
            "penalty": 50.0,
        }
    ]
    assert [r["name"] for r in _get("/api/risk/").json()] == ["Xray", "Charlie"]
    assert _get("/api/risk/", level="scary").status_code == 400


@pytest.mark.django_db
def test_logged_in_users_defaults_apply() -> None:
    """A user's default mode and avoid list are used when the query gives none; the query wins otherwise."""
    user = get_user_model().objects.create_user("pilot")
    UserSettings.objects.create(user=user, sales_tax=8, broker_fee=3, default_route_mode="secure", avoid=[7])
    client = APIClient()
    client.force_authenticate(user)
    body = _get("/api/routes/", client, origin="Alpha", destination="Delta").json()
    assert body["mode"] == "secure"
    assert body["avoid"] == [7]
    # Golf avoided: no all-high-sec road is left; the best has one low-sec jump (Xray) in 2 jumps.
    assert [s["name"] for s in body["systems"]] == ["Alpha", "Xray", "Delta"]
    assert body["total_weight"] == 2.0 + 1_000_000.0
    body = _get("/api/routes/", client, origin="Alpha", destination="Delta", mode="shortest", avoid="").json()
    assert (body["mode"], body["avoid"], body["jumps"]) == ("shortest", [], 2)


def test_svg_picture_of_a_route() -> None:
    """format=svg draws the route: one circle per system, coloured by security, the camp ringed."""
    _camp(8)
    response = _get("/api/routes/", origin="Alpha", destination="Delta", avoid_risk="false", format="svg")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(response.content)  # noqa: S314 - our own output
    ns = "{http://www.w3.org/2000/svg}"
    systems = [c for c in root.iter(f"{ns}circle") if "system" in (c.get("class") or "")]
    assert [c.get("data-id") for c in systems] == ["1", "8", "4"]
    assert systems[0].get("fill") == "#2fefef"  # 1.0
    assert systems[1].get("fill") == "#d77700"  # 0.4499 shows 0.4
    assert "risk-critical" in (systems[1].get("class") or "")
    assert systems[1].get("stroke") == "#ff00ff"
    # Every other system of the region is drawn as a grey dot.
    assert len(list(root.iter(f"{ns}circle"))) == 13


def test_svg_errors_stay_json() -> None:
    """An unknown system with format=svg still answers a JSON 404."""
    response = _get("/api/routes/", origin="Nowhere", destination="Delta", format="svg")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "Nowhere" in response.json()["detail"]


def test_route_command_prints_a_table() -> None:
    """manage.py route Alpha Delta --mode secure prints system, security, region and risk per line."""
    _camp(6)
    out = io.StringIO()
    call_command("route", "Alpha", "Delta", "--mode", "secure", "--avoid", "Golf", stdout=out)
    text = out.getvalue()
    lines = text.strip().splitlines()
    assert re.match(r"#\s+system\s+security\s+region\s+risk", lines[0])
    assert re.match(r"1\s+Xray\s+0\.4\s+Tiny\s+-", lines[2])
    assert "Alpha -> Delta" in lines[-1]
    out = io.StringIO()
    call_command("route", "Alpha", "Delta", "--mode", "secure", stdout=out)
    assert re.search(r"Foxtrot\s+0\.6\s+Tiny\s+critical \(5 kills in 10 min", out.getvalue())


def test_route_command_reports_errors() -> None:
    """Unknown systems become a CommandError naming them."""
    with pytest.raises(CommandError, match="Unknown solar system 'Nowhere'"):
        call_command("route", "Alpha", "Nowhere", stdout=io.StringIO())


def test_defaults_are_pinned() -> None:
    """The documented defaults of the routing settings (5 kills in 10 minutes, penalties, TTLs, politeness)."""
    assert (site_settings.ROUTING_CRITICAL_KILLS, site_settings.ROUTING_CRITICAL_WINDOW_MINUTES) == (5, 10.0)
    assert (site_settings.ROUTING_HIGH_KILLS_PER_HOUR, site_settings.ROUTING_ELEVATED_KILLS_PER_HOUR) == (10, 3)
    assert (
        site_settings.ROUTING_PENALTY_CRITICAL,
        site_settings.ROUTING_PENALTY_HIGH,
        site_settings.ROUTING_PENALTY_ELEVATED,
    ) == (50.0, 5.0, 1.0)
    assert site_settings.ROUTING_SECURITY_PENALTY == 1_000_000.0
    assert site_settings.ROUTING_GATE_RADIUS_KM == 100.0
    assert (site_settings.ROUTING_KILL_TTL_SECONDS, site_settings.ROUTING_SYSTEM_KILLS_TTL_SECONDS) == (3600, 7200)
    assert site_settings.ZKILLBOARD_REQUEST_DELAY_SECONDS == 0.2
    assert site_settings.ZKILLBOARD_R2Z2_URL == "https://r2z2.zkillboard.com"
    # A critical camp outweighs any detour of up to 20 extra jumps.
    assert site_settings.ROUTING_PENALTY_CRITICAL > 20


def test_svg_pictures_use_the_expensive_rate(settings) -> None:
    """format=svg counts against THROTTLE_EXPENSIVE_RATE; JSON routes of the same client do not."""
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "expensive": "2/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    client = APIClient()
    query = {"origin": "Alpha", "destination": "Delta"}
    assert [_get("/api/routes/", client, **query, format="svg").status_code for _ in range(3)] == [200, 200, 429]
    assert [_get("/api/routes/", client, **query).status_code for _ in range(3)] == [200, 200, 200]


def test_schema_choices_follow_the_engine() -> None:
    """The documented modes and risk levels are the ones the graph and the risk model use, in order."""
    assert get_args(RouteMode) == MODES
    assert get_args(RiskLevel) == RISK_LEVELS


def test_routes_and_risk_keep_their_documented_operations() -> None:
    """Clients generated from the document keep their ids, parameters and error answers (issue 15's viewsets)."""
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    route = schema["paths"]["/api/routes/"]["get"]
    assert route["operationId"] == "routes_find"
    names = {p["name"] for p in route["parameters"]}
    assert names == {"origin", "destination", "mode", "avoid", "avoid_risk", "format"}
    assert {p["name"] for p in route["parameters"] if p.get("required")} == {"origin", "destination"}
    assert set(route["responses"]) == {"200", "400", "404", "414", "429", "503"}
    assert route["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Route"}
    risk = schema["paths"]["/api/risk/"]["get"]
    assert risk["operationId"] == "risk_list"
    assert [p["name"] for p in risk["parameters"]] == ["level"]
    assert risk["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "array"
    assert set(risk["responses"]) == {"200", "400", "414", "429", "503"}
