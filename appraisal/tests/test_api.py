"""The appraisal API through DRF's test client: 201/200/202/400/404/413/429, retrieval, nothing stored on errors."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

from appraisal.limits import MAX_BODY_BYTES, MAX_LINES, MAX_TEXT_BYTES
from appraisal.models import Appraisal
from jobs.models import Job
from universe.models import Station

pytestmark = pytest.mark.django_db

PASTE = "Tritanium\t1,500\nRifter x 2\nNot A Real Item\n"


def post(body: Any, client: APIClient | None = None) -> Any:
    return (client or APIClient()).post("/api/appraisal/", body, format="json")


def test_an_appraisal_is_stored_and_read_back(jita_book: Station) -> None:
    response = post({"text": PASTE, "market": "Jita", "sales_tax": 10})
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"/api/appraisal/{body['id']}/"
    assert body["market"] == {
        "name": "jita",
        "station_id": 60003760,
        "station_name": "Jita IV - Moon 4 - Caldari Navy Assembly Plant",
        "region_id": 10000002,
        "snapshot_id": body["market"]["snapshot_id"],
        "prices_as_of": body["market"]["prices_as_of"],
    }
    assert [line["name"] for line in body["lines"]] == ["Tritanium", "Rifter"]
    assert body["unparsed"] == [{"line": 3, "text": "Not A Real Item", "reason": body["unparsed"][0]["reason"]}]
    assert body["totals"]["lines"] == 2
    assert body["totals"]["unparsed"] == 1
    stored = Appraisal.objects.get()
    assert str(stored.pk) == body["id"]
    again = APIClient().get(response["Location"])
    assert again.status_code == 200
    assert again.json() == body


def test_a_station_id_is_a_market_too(jita_book: Station) -> None:
    by_name = post({"text": PASTE, "market": "jita", "sales_tax": 10}).json()
    by_id = post({"text": PASTE, "market": " 60003760 ", "sales_tax": 10}).json()
    assert by_id["market"]["name"] == "60003760"
    assert by_id["totals"] == by_name["totals"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": PASTE, "market": ""}, "market"),
        ({"text": PASTE, "market": "x" * 33}, "market"),
        ({"market": "jita"}, "text"),
        ({"text": ""}, "text"),
        ({"text": " \n\t\n \u00a0"}, "text"),
        ({"text": None}, "text"),
        ({"text": PASTE, "sales_tax": 100}, "sales_tax"),
        ({"text": PASTE, "sales_tax": -1}, "sales_tax"),
        ({"text": PASTE, "sales_tax": "eight"}, "sales_tax"),
        (["Tritanium"], None),
    ],
)
def test_bad_input_is_a_400_and_nothing_is_stored(jita_book: Station, body: Any, field: str | None) -> None:
    response = post(body)
    assert response.status_code == 400, response.content
    answer = response.json()
    assert answer["error"] == "invalid_input"
    assert answer["detail"]
    if field is not None:
        assert field in answer["fields"]
    assert not Appraisal.objects.exists()
    assert not Job.objects.exists()


@pytest.mark.parametrize("market", ["gotham", "123", "9223372036854775807", "9223372036854775808", "1" * 20])
def test_an_unknown_market_is_a_404(jita_book: Station, market: str) -> None:
    response = post({"text": PASTE, "market": market})
    assert response.status_code == 404, response.content
    assert response.json()["error"] == "not_found"
    assert not Appraisal.objects.exists()


@pytest.mark.parametrize("text", ["Foo\nBar x 2", "[Empty High slot]", "Not A Real Item\t5"])
def test_a_paste_naming_no_type_is_a_404_listing_its_lines(jita_book: Station, text: str) -> None:
    response = post({"text": text})
    assert response.status_code == 404, response.content
    body = response.json()
    assert body["error"] == "not_found"
    assert [u["text"] for u in body["unparsed"]] == [line for line in text.split("\n") if "Empty" not in line]
    assert not Appraisal.objects.exists()


def test_unknown_appraisals_are_404(db: None) -> None:
    response = APIClient().get(f"/api/appraisal/{uuid.uuid4()}/")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert Client().get("/api/appraisal/not-a-uuid/").status_code == 404


def test_the_limits_are_100_kib_and_5000_lines(jita_book: Station, settings: SettingsWrapper) -> None:
    settings.API_MAX_BODY_BYTES = 65536
    line = "Tritanium\t1\t"
    at_limit = line + "x" * (MAX_TEXT_BYTES - len(line))
    assert len(at_limit.encode()) == MAX_TEXT_BYTES
    ok = post({"text": at_limit, "sales_tax": 10})  # a body past API_MAX_BODY_BYTES: this path takes more
    assert ok.status_code == 201, ok.content
    assert ok.json()["totals"]["sell"] == 4.0
    lines_ok = post({"text": "Tritanium\n" * MAX_LINES})
    assert lines_ok.status_code == 201, lines_ok.content
    Appraisal.objects.all().delete()
    for text in (at_limit + "x", "é" * (MAX_TEXT_BYTES // 2 + 1), "Tritanium\n" * (MAX_LINES + 1), "a\n" * 6000):
        response = post({"text": text})
        assert response.status_code == 413, response.content
        assert response.json()["error"] == "payload_too_large"
    assert not Appraisal.objects.exists()


def test_the_body_cap_is_raised_on_this_path_only(jita_book: Station, settings: SettingsWrapper) -> None:
    settings.API_MAX_BODY_BYTES = 1000
    body = json.dumps({"text": "Tritanium\n" * 200})
    assert Client().post("/api/market/profit/", body, content_type="application/json").status_code == 413
    assert Client().post("/api/appraisal/", body, content_type="application/json").status_code == 201
    huge = json.dumps({"text": "x" * MAX_BODY_BYTES})
    response = Client().post("/api/appraisal/", huge, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


def test_a_region_without_orders_answers_202_with_the_refresh_job(jita_book: Station) -> None:
    response = post({"text": PASTE, "market": "hek"})  # Metropolis: no snapshot stored
    assert response.status_code == 202, response.content
    body = response.json()
    job = Job.objects.get()
    assert response["Location"] == f"/api/jobs/{job.pk}/"
    assert int(response["Retry-After"]) >= 1
    assert body["job"]["id"] == str(job.pk)
    assert body["job"]["kind"] == "market.refresh_region"
    assert body["job"]["params"] == {"region_id": 10000042}
    assert not Appraisal.objects.exists()
    # Asking again while the job is queued gets the same job.
    assert post({"text": PASTE, "market": "hek"}).json()["job"]["id"] == str(job.pk)


def test_a_stale_snapshot_is_used_and_a_refresh_queued(jita_book: Station, settings: SettingsWrapper) -> None:
    settings.MARKET_CACHE_SECONDS = 0
    response = post({"text": PASTE})
    assert response.status_code == 201, response.content
    assert Job.objects.get().params == {"region_id": 10000002}


def test_appraising_counts_against_the_expensive_rate_reading_does_not(
    jita_book: Station, settings: SettingsWrapper
) -> None:
    rest = settings.REST_FRAMEWORK
    rates = {**rest["DEFAULT_THROTTLE_RATES"], "anon": "1000/min", "expensive": "2/min"}
    settings.REST_FRAMEWORK = {**rest, "DEFAULT_THROTTLE_RATES": rates}
    client = APIClient()
    first = post({"text": PASTE}, client)
    assert first.status_code == 201
    assert post({"text": PASTE}, client).status_code == 201
    refused = post({"text": PASTE}, client)
    assert refused.status_code == 429
    assert refused.json()["error"] == "throttled"
    assert "Retry-After" in refused
    for _ in range(3):
        assert client.get(first["Location"]).status_code == 200
    assert Appraisal.objects.count() == 2


def test_the_schema_documents_both_operations(db: None) -> None:
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    create = schema["paths"]["/api/appraisal/"]["post"]
    assert create["operationId"] == "appraisal_create"
    assert {"201", "202", "400", "404", "413", "429", "503"} <= set(create["responses"])
    assert "More than 100 KiB" in create["responses"]["413"]["description"]
    request = create["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(schema["components"]["schemas"][request]["properties"]) == {"text", "market", "sales_tax"}
    read = schema["paths"]["/api/appraisal/{appraisal_id}/"]["get"]
    assert read["operationId"] == "appraisal_get"
    assert {"200", "404", "429", "503"} <= set(read["responses"])
    assert "get" not in schema["paths"]["/api/appraisal/"]


def test_nul_characters_are_a_400_as_the_schema_says(jita_book: Station) -> None:
    raw = '{"text": "Trita\\u0000nium x 5\\nabc\\n\\u0000"}'
    response = Client().post("/api/appraisal/", raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_input"
    assert not Appraisal.objects.exists()


@pytest.mark.parametrize("raw", ['{"text": 5}', '{"text": "Tritanium \\ud800"}', "[]", "{"])
def test_malformed_bodies_are_400(jita_book: Station, raw: str) -> None:
    response = Client().post("/api/appraisal/", raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert not Appraisal.objects.exists()


def test_leading_blank_lines_keep_the_line_numbers(jita_book: Station) -> None:
    response = post({"text": "\n\n  Tritanium 5  \n"})
    assert response.status_code == 201, response.content
    assert response.json()["lines"][0]["line"] == 3
