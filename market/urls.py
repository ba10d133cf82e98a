"""API routes of market, mounted under /api/."""

from django.urls import URLPattern, URLResolver, path

from market.views import GlobalScanApi, ProfitApi, RegionScanApi, StationScanApi

urlpatterns: list[URLPattern | URLResolver] = [
    path("market/stations/<str:station_id>/scan/", StationScanApi.as_view(), name="market-station-scan"),
    path("market/regions/<int:region_id>/scan/", RegionScanApi.as_view(), name="market-region-scan"),
    path("market/global/scan/", GlobalScanApi.as_view(), name="market-global-scan"),
    path("market/profit/", ProfitApi.as_view(), name="market-profit"),
]
