"""The environment readers used by settings.py."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from evesite import env


def test_env_bool_parses_and_rejects(monkeypatch: pytest.MonkeyPatch) -> None:
    """Known spellings parse; anything else is a configuration error."""
    monkeypatch.setenv("X_FLAG", "yes")
    assert env.env_bool("X_FLAG", False) is True
    monkeypatch.setenv("X_FLAG", "0")
    assert env.env_bool("X_FLAG", True) is False
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured):
        env.env_bool("X_FLAG", True)


def test_env_required_has_no_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """A secret that is not set stops start-up with its name."""
    monkeypatch.delenv("X_SECRET", raising=False)
    with pytest.raises(ImproperlyConfigured, match="X_SECRET"):
        env.env_required("X_SECRET")
    monkeypatch.setenv("X_SECRET", "s3")
    assert env.env_required("X_SECRET") == "s3"


def test_env_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    """Comma lists drop blanks; integer lists convert."""
    monkeypatch.setenv("X_LIST", " a, ,b ")
    assert env.env_list("X_LIST", []) == ["a", "b"]
    monkeypatch.setenv("X_INTS", "1,2")
    assert env.env_int_list("X_INTS", [9]) == [1, 2]
    monkeypatch.delenv("X_INTS")
    assert env.env_int_list("X_INTS", [9]) == [9]
