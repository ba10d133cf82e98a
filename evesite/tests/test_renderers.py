"""The orjson renderer writes the same JSON as DRF's for every kind of value an answer holds."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from typing import Any

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer

from evesite.renderers import FastJSONRenderer

_INT64 = 2**63 - 1
_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-_INT64, max_value=_INT64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from('\u2028\u2029"\\\n'))
    | st.datetimes(timezones=st.none() | st.just(dt.UTC))
    | st.dates()
    | st.decimals(allow_nan=False, allow_infinity=False, places=3)
    | st.uuids()
)
_values = st.recursive(
    _leaves,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.text(max_size=8) | st.integers(min_value=0, max_value=999), inner, max_size=5)
    ),
    max_leaves=30,
)


@given(data=_values)
def test_same_json_as_drf(data: Any) -> None:
    fast = FastJSONRenderer().render([data])  # a bare None renders as no body at all
    drf = JSONRenderer().render([data])
    assert json.loads(fast) == json.loads(drf)
    # U+2028 and U+2029 stay escaped (JSON that is also JavaScript), as DRF writes them.
    assert "\u2028".encode() not in fast
    assert "\u2029".encode() not in fast


def test_datetimes_and_odd_values_are_drfs() -> None:
    moment = dt.datetime(2026, 12, 2, 16, 38, 36, 123456, tzinfo=dt.UTC)
    data = {"at": moment, 7: decimal.Decimal("1.50"), "id": uuid.UUID(int=5), "big": 2**70}
    assert FastJSONRenderer().render(data) == JSONRenderer().render(data)  # falls back for the 70-bit integer
    del data["big"]
    assert json.loads(FastJSONRenderer().render(data)) == {
        "at": "2026-12-02T16:38:36.123456Z",
        "7": 1.5,
        "id": str(uuid.UUID(int=5)),
    }
    assert FastJSONRenderer().render(None) == b""
    with pytest.raises(TypeError):
        FastJSONRenderer().render({"x": object()})


def test_line_and_paragraph_separators_are_escaped_like_drfs() -> None:
    data = {"name": "a\u2028b\u2029c"}
    assert FastJSONRenderer().render(data) == JSONRenderer().render(data) == b'{"name":"a\\u2028b\\u2029c"}'


def test_pretty_printing_is_left_to_drf() -> None:
    data = {"a": [1, 2]}
    fast = FastJSONRenderer().render(data, "application/json; indent=2")
    assert fast == JSONRenderer().render(data, "application/json; indent=2")
    assert b"\n  " in fast


@pytest.mark.django_db
def test_the_api_answers_through_it() -> None:
    response = Client().get("/api/health/", HTTP_ACCEPT="application/json")
    assert isinstance(response.accepted_renderer, FastJSONRenderer)  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/json"
    assert response.json() == json.loads(JSONRenderer().render(response.data))  # type: ignore[attr-defined]
