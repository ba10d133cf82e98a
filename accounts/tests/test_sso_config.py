"""SSO not configured: a 503 before any round trip to CCP, the system checks, and the debug run's local token key."""

from __future__ import annotations

import io
import stat
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from social_django.models import UserSocialAuth

from accounts.models import EveCharacter, EveToken
from accounts.tests.conftest import CLIENT_SECRET, FakeSso, login_start
from evesite.settings import accounts as evesite_settings
from evesite.testing.defaults import settings_defaults

pytestmark = pytest.mark.django_db


def _assert_not_configured(response: Any, missing: list[str]) -> dict[str, Any]:
    """Check a 503 ``sso_not_configured`` answer naming exactly ``missing``; return its body."""
    assert response.status_code == 503, response.content
    body: dict[str, Any] = response.json()
    assert body["error"] == "sso_not_configured"
    assert body["missing"] == missing
    assert body["detail"].startswith("SSO is not configured")
    for name in missing:
        assert name in body["detail"]
    assert CLIENT_SECRET not in response.content.decode()  # names, never values
    return body


def test_login_info_answers_503_naming_the_missing_variables(settings: Any) -> None:
    """GET /api/auth/login/ without a secret and a key: 503 naming both; the CSRF cookie is still set."""
    settings.EVE_CLIENT_SECRET = None
    settings.TOKEN_ENCRYPTION_KEY = ""
    client = Client()
    response = client.get("/api/auth/login/")
    _assert_not_configured(response, ["EVE_CLIENT_SECRET", "TOKEN_ENCRYPTION_KEY"])
    assert client.cookies[django_settings.CSRF_COOKIE_NAME].value

    settings.EVE_CLIENT_SECRET = CLIENT_SECRET
    _assert_not_configured(client.get("/api/auth/login/"), ["TOKEN_ENCRYPTION_KEY"])
    settings.EVE_CLIENT_ID = ""
    _assert_not_configured(client.get("/api/auth/login/"), ["EVE_CLIENT_ID", "TOKEN_ENCRYPTION_KEY"])


def test_login_start_answers_503_without_sending_anyone_to_sso(fake_sso: FakeSso, settings: Any) -> None:
    """The begin POST answers the same 503 instead of redirecting to CCP; no nonce, no SSO request."""
    settings.TOKEN_ENCRYPTION_KEY = None
    response = Client().post("/auth/login/eveonline/")
    _assert_not_configured(response, ["TOKEN_ENCRYPTION_KEY"])
    assert "Location" not in response
    assert fake_sso.server.count() == 0


def test_callback_without_a_token_key_answers_503_not_500(fake_sso: FakeSso, settings: Any) -> None:
    """The key disappears between the start and the callback: 503, no code exchange, nothing stored, no login."""
    client = Client()
    query = login_start(client)
    code = fake_sso.authorize(query["code_challenge"])
    settings.TOKEN_ENCRYPTION_KEY = None
    response = client.get("/auth/complete/eveonline/", {"code": code, "state": query["state"]})
    _assert_not_configured(response, ["TOKEN_ENCRYPTION_KEY"])
    assert fake_sso.server.count("POST", "/v2/oauth/token") == 0
    assert EveCharacter.objects.count() == 0
    assert EveToken.objects.count() == 0
    assert UserSocialAuth.objects.count() == 0
    settings.TOKEN_ENCRYPTION_KEY = "back-again"
    assert client.get("/api/me/").status_code == 403


def _check(*args: str) -> str:
    """Run ``manage.py check`` with arguments; return what it printed."""
    out, err = io.StringIO(), io.StringIO()
    call_command("check", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


@pytest.mark.parametrize("debug", [True, False])
def test_missing_sso_settings_are_a_warning_at_start_up(settings: Any, debug: bool) -> None:
    """Plain checks (migrate, runserver) warn accounts.W001 in both modes and never fail: the API still runs."""
    settings.DEBUG = debug
    settings.EVE_CLIENT_SECRET = None
    settings.TOKEN_ENCRYPTION_KEY = None
    printed = _check()
    assert "accounts.W001" in printed
    assert "EVE_CLIENT_SECRET, TOKEN_ENCRYPTION_KEY" in printed
    assert "accounts.E001" not in printed


def test_missing_sso_settings_fail_the_production_deploy_check(settings: Any) -> None:
    """``check --deploy`` with DEBUG off fails on accounts.E001; with DEBUG on it only warns."""
    settings.EVE_CLIENT_SECRET = None
    settings.TOKEN_ENCRYPTION_KEY = "set"
    settings.DEBUG = False
    with pytest.raises(SystemCheckError, match=r"accounts\.E001.*EVE_CLIENT_SECRET not set"):
        _check("--deploy", "--tag", "security")
    settings.DEBUG = True
    printed = _check("--deploy", "--tag", "security")
    assert "accounts.E001" not in printed
    assert "accounts.W001" in printed


def test_configured_sso_passes_the_checks(settings: Any) -> None:
    """With all three settings, neither check says anything."""
    settings.DEBUG = False
    settings.EVE_CLIENT_SECRET = CLIENT_SECRET
    settings.TOKEN_ENCRYPTION_KEY = "set"
    printed = _check("--deploy", "--tag", "security")
    assert "accounts." not in printed


def test_debug_runs_keep_a_generated_token_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``_local_token_key`` makes ``.local_token_key`` once (mode 600) and reads the same key back."""
    monkeypatch.setattr(evesite_settings, "BASE_DIR", tmp_path)
    key = evesite_settings._local_token_key()
    assert key is not None
    assert len(key) >= 60
    path = tmp_path / ".local_token_key"
    assert path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert evesite_settings._local_token_key() == key
    path.write_text("kept-by-make-run\n")  # scripts/local-secret writes the same file: both read it
    assert evesite_settings._local_token_key() == "kept-by-make-run"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".local_token_key"]


def test_production_settings_never_generate_a_token_key() -> None:
    """With DEBUG off and no TOKEN_ENCRYPTION_KEY the setting stays None (the checks then report it)."""
    assert settings_defaults("DEBUG", "TOKEN_ENCRYPTION_KEY") == [False, None]
