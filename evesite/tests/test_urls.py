"""Issue 15: every API URL that existed before the viewsets still exists, and resources are served by viewsets."""

from __future__ import annotations

import uuid

import pytest
from django.urls import get_resolver, resolve, reverse
from rest_framework.viewsets import ViewSetMixin

# (name, kwargs, path): the paths of the API before viewsets and routers; clients rely on them.
URLS = [
    ("image", {"resource_type": "types", "resource_id": "34_64.png"}, "/api/images/types/34_64.png"),
    ("esi-status", {}, "/api/esi/status/"),
    ("market-station-scan", {"station_id": "60003760"}, "/api/market/stations/60003760/scan/"),
    ("market-station-scan", {"station_id": "current"}, "/api/market/stations/current/scan/"),
    ("market-region-scan", {"region_id": 10000002}, "/api/market/regions/10000002/scan/"),
    ("market-global-scan", {}, "/api/market/global/scan/"),
    ("market-profit", {}, "/api/market/profit/"),
    ("routes", {}, "/api/routes/"),
    ("risk", {}, "/api/risk/"),
    ("contract-list", {}, "/api/contracts/"),
    ("contract-detail", {"contract_id": 7}, "/api/contracts/7/"),
    ("me", {}, "/api/me/"),
    ("me-settings", {}, "/api/me/settings/"),
    ("me-routes", {}, "/api/me/routes/"),
    ("me-route-detail", {"route_id": 3}, "/api/me/routes/3/"),
    ("login-info", {}, "/api/auth/login/"),
    ("logout", {}, "/api/auth/logout/"),
    ("job-detail", {"job_id": uuid.UUID(int=5)}, f"/api/jobs/{uuid.UUID(int=5)}/"),
]
# Not resources: the probe, the document and its pages.
NOT_RESOURCES = {"/api/health/", "/api/schema/", "/api/docs/", "/api/redoc/"}


@pytest.mark.parametrize(("name", "kwargs", "path"), URLS, ids=[f"{n}:{p}" for n, _, p in URLS])
def test_the_old_urls_keep_their_paths_and_names(name: str, kwargs: dict[str, object], path: str) -> None:
    assert reverse(name, kwargs=kwargs) == path
    assert resolve(path).url_name == name


@pytest.mark.parametrize(("name", "kwargs", "path"), URLS, ids=[f"{n}:{p}" for n, _, p in URLS])
def test_every_resource_is_served_by_a_viewset(name: str, kwargs: dict[str, object], path: str) -> None:
    view = resolve(path).func
    assert issubclass(view.cls, ViewSetMixin), f"{path} is served by {view.cls.__name__}, not a viewset"  # type: ignore[attr-defined]


def test_only_the_probe_and_the_document_are_plain_views() -> None:
    def walk(resolver: object, prefix: str = "") -> list[tuple[str, object]]:
        found: list[tuple[str, object]] = []
        for pattern in resolver.url_patterns:  # type: ignore[attr-defined]
            if hasattr(pattern, "url_patterns"):
                found += walk(pattern, prefix + str(pattern.pattern))
            else:
                found.append((prefix + str(pattern.pattern), pattern.callback))
        return found

    plain = {
        "/" + route
        for route, callback in walk(get_resolver())
        if route.startswith("api/") and not issubclass(getattr(callback, "cls", object), ViewSetMixin)
    }
    assert plain <= NOT_RESOURCES
