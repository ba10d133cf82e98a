"""Admin pages of the SDE tables: listed, searchable, viewable, and read-only."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from universe import models as m
from universe.services import sde_ingest
from universe.tests.sde_synthetic import MODELS as SYNTHETIC_MODELS
from universe.tests.sde_synthetic import base, write_dump

pytestmark = pytest.mark.django_db

MODELS = (*SYNTHETIC_MODELS, m.SolarSystemJump)


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_changelist_search_and_view(admin_client: Client, tmp_path: Path, model: type[m.models.Model]) -> None:
    """Each table's list, search and row page answer 200; adding is refused."""
    sde_ingest(source=write_dump(tmp_path / "d", base()))
    info = (model._meta.app_label, model._meta.model_name)
    listing = admin_client.get(reverse("admin:{}_{}_changelist".format(*info)))
    assert listing.status_code == 200
    row = model._default_manager.order_by("pk").first()
    assert row is not None
    assert html.escape(str(row)) in listing.content.decode()
    assert admin_client.get(reverse("admin:{}_{}_changelist".format(*info)), {"q": "a"}).status_code == 200
    assert admin_client.get(reverse("admin:{}_{}_change".format(*info), args=[row.pk])).status_code == 200
    assert admin_client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 403
