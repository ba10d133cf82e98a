"""Fixtures of the ESI client's tests: a fake ESI on loopback with shrunken delays."""

from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from esi.testing import esi_settings_for_tests
from evesite.testing.fakeserver import FakeHttpServer


@pytest.fixture
def esi_server(fake_server: FakeHttpServer, settings: SettingsWrapper) -> FakeHttpServer:
    """Point ``ESI_BASE_URL`` at a fake ESI and shrink every delay.

    Args:
        fake_server: The scripted loopback server.
        settings: pytest-django's settings fixture.

    Returns:
        The fake server.
    """
    esi_settings_for_tests(settings, fake_server.url)
    return fake_server
