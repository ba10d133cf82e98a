"""API routes of contracts, mounted under /api/."""

from django.urls import URLPattern, URLResolver, path

from contracts.views import ContractDetailApi, ContractListApi

urlpatterns: list[URLPattern | URLResolver] = [
    path("contracts/", ContractListApi.as_view(), name="contract-list"),
    path("contracts/<int:contract_id>/", ContractDetailApi.as_view(), name="contract-detail"),
]
