"""Fixtures of the ESI client's tests: a fake ESI on loopback with shrunken delays."""

from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

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
    settings.ESI_BASE_URL = fake_server.url
    settings.ESI_PAGE_DELAY_SECONDS = 0.05
    settings.ESI_REGION_DELAY_SECONDS = 0.05
    settings.ESI_ERROR_SLEEP_SECONDS = 0.05
    settings.ESI_LOCKDOWN_SECONDS = 2.0
    settings.ESI_TIMEOUT_SECONDS = 2.0
    settings.ESI_BUCKET_CAPACITY = 1000.0
    settings.ESI_BUCKET_REFILL_PER_SECOND = 1000.0
    return fake_server
