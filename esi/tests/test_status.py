"""GET /api/esi/status/ (staff only) and the admin status page."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.test import Client
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from esi.client import EsiClient
from esi.errors import EsiHttpError
from esi.limits import LOCKDOWN_KEY
from evesite.testing.fakeserver import FakeHttpServer, FakeResponse


@pytest.fixture
def staff(db: None) -> AbstractBaseUser:
    """A staff user.

    Args:
        db: Database access.

    Returns:
        The user.
    """
    return get_user_model().objects.create_user("ops", password="pw-ops-1234", is_staff=True)


def _some_calls(server: FakeHttpServer) -> None:
    """Make one good and one failing call (the failure sets the lockdown).

    Args:
        server: The fake ESI.
    """
    server.add(
        "GET",
        "/status",
        FakeResponse(
            json={},
            headers={
                "X-ESI-Error-Limit-Remain": "97",
                "X-ESI-Error-Limit-Reset": "40",
                "X-Ratelimit-Group": "status",
                "X-Ratelimit-Limit": "600/15m",
                "X-Ratelimit-Remaining": "598",
                "X-Ratelimit-Used": "2",
            },
        ),
    )
    server.add("GET", "/boom", FakeResponse(status=503, headers={"X-ESI-Error-Limit-Remain": "96"}))
    EsiClient().get("/status")
    with pytest.raises(EsiHttpError):
        EsiClient().get("/boom")


@pytest.mark.django_db
def test_status_is_staff_only(esi_server: FakeHttpServer) -> None:
    """Anonymous and ordinary users are refused."""
    assert APIClient().get("/api/esi/status/").status_code == 403
    user = get_user_model().objects.create_user("pilot", password="pw-pilot-1234")
    client = APIClient()
    client.force_authenticate(user)
    assert client.get("/api/esi/status/").status_code == 403


@pytest.mark.django_db
def test_status_reports_lockdown_budgets_and_calls(esi_server: FakeHttpServer, staff: AbstractBaseUser) -> None:
    """Staff see the lockdown with its TTL, the last Remain/Reset, the bucket, the groups and the calls."""
    _some_calls(esi_server)
    client = APIClient()
    client.force_authenticate(staff)
    body = client.get("/api/esi/status/").json()
    assert body["lockdown_active"] is True
    assert 0 < body["lockdown_ttl_seconds"] <= 2.05
    assert "503" in body["lockdown_reason"]["reason"]
    assert body["error_limit_remain"] == 96
    assert 30 < body["error_limit_reset_seconds"] <= 40
    assert body["bucket"]["capacity"] == 1000.0
    assert body["rate_groups"][0]["group"] == "status"
    assert body["rate_groups"][0]["remaining"] == 598
    assert [c["status"] for c in body["calls"]] == ["503", "200"]
    assert body["calls"][0]["url"] == f"{esi_server.url}/boom"
    assert body["counters"]["requests"] == 2
    assert body["counters"]["errors"] == 1


@pytest.mark.django_db
def test_status_keeps_only_the_last_50_calls(esi_server: FakeHttpServer, staff: AbstractBaseUser) -> None:
    """The call list is capped at 50, newest first."""
    esi_server.add("GET", "/status", FakeResponse(json={}))
    for n in range(55):
        EsiClient().get("/status", params={"n": n})
    client = APIClient()
    client.force_authenticate(staff)
    calls = client.get("/api/esi/status/").json()["calls"]
    assert len(calls) == 50
    assert calls[0]["url"].endswith("n=54")
    assert calls[-1]["url"].endswith("n=5")


@pytest.mark.django_db
def test_status_keeps_its_documented_operation() -> None:
    """Clients generated from the document keep the id, the staff-only 403 and the body's schema (issue 15)."""
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/esi/status/"]["get"]
    assert operation["operationId"] == "esi_status_retrieve"
    assert set(operation["responses"]) == {"200", "403", "429", "503"}
    body = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/EsiStatusOutput"}


@pytest.mark.django_db
def test_admin_status_page(esi_server: FakeHttpServer) -> None:
    """The admin page shows the lockdown and the last calls to a superuser."""
    _some_calls(esi_server)
    get_user_model().objects.create_superuser("root", "root@example.org", "pw-root-1234")
    client = Client()
    assert client.login(username="root", password="pw-root-1234")
    page = client.get("/admin/esi/esistatus/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "ESI_GLOBAL_LOCKDOWN is set" in html
    assert f"{esi_server.url}/boom" in html
    get_redis_connection("default").delete(LOCKDOWN_KEY)
    assert "No lockdown." in client.get("/admin/esi/esistatus/").content.decode()
