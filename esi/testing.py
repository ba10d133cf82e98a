"""Test support for code that calls ESI: point the client at a fake ESI with shrunken delays.

Example (in an app's ``tests/conftest.py``)::

    @pytest.fixture
    def esi(fake_server, settings):
        esi_settings_for_tests(settings, fake_server.url, ESI_LOCKDOWN_SECONDS=30.0)
        return fake_server
"""

from __future__ import annotations

from typing import Any

# Small enough for quick tests, long enough to measure; the budgets never throttle a test by accident.
TEST_SETTINGS: dict[str, Any] = {
    "ESI_PAGE_DELAY_SECONDS": 0.05,
    "ESI_REGION_DELAY_SECONDS": 0.05,
    "ESI_ERROR_SLEEP_SECONDS": 0.05,
    "ESI_LOCKDOWN_SECONDS": 2.0,
    "ESI_TIMEOUT_SECONDS": 2.0,
    "ESI_BUCKET_CAPACITY": 1000.0,
    "ESI_BUCKET_REFILL_PER_SECOND": 1000.0,
}


def esi_settings_for_tests(settings: Any, base_url: str, **overrides: Any) -> None:
    """Point ``ESI_BASE_URL`` at a fake server and shrink the client's delays.

    Args:
        settings: pytest-django's ``settings`` fixture (changes are undone after the test).
        base_url: The fake server's URL.
        **overrides: Other ``ESI_*`` values for this test.
    """
    settings.ESI_BASE_URL = base_url
    for name, value in {**TEST_SETTINGS, **overrides}.items():
        setattr(settings, name, value)
