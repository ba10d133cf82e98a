"""The ImageCache admin: thumbnails, byte counts, filters."""

from __future__ import annotations

import base64

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from imagecache.testing import make_png
from imagecache.tests.conftest import store_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in() -> Client:
    """A client logged in as a superuser."""
    user = get_user_model().objects.create_superuser("root", "root@example.org", "pw")
    client = Client()
    client.force_login(user)
    return client


def test_list_shows_thumbnail_bytes_and_filters(admin_client_logged_in: Client) -> None:
    """The list embeds the image as a data: URI, shows its byte count, and filters by type and variant."""
    icon_png = make_png(width=8, height=8)
    store_image("type", 34, "icon", icon_png)
    store_image("corporation", 98000001, "logo", make_png(rgb=(0, 0, 255)))
    page = admin_client_logged_in.get("/admin/imagecache/imagecache/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"data:image/png;base64,{base64.b64encode(icon_png).decode()}" in html
    assert f'<td class="field-byte_count">{len(icon_png)}</td>' in html
    assert "?resource_type__exact=type" in html
    assert "?variant__exact=logo" in html

    filtered = admin_client_logged_in.get("/admin/imagecache/imagecache/?variant__exact=logo").content.decode()
    assert "98000001" in filtered
    assert base64.b64encode(icon_png).decode() not in filtered
    by_type = admin_client_logged_in.get("/admin/imagecache/imagecache/?resource_type__exact=type").content.decode()
    assert "98000001" not in by_type


def test_change_page_previews_the_image(admin_client_logged_in: Client) -> None:
    """The change page shows the preview without the raw blob field."""
    png = make_png()
    row = store_image("character", 90000001, "portrait", png)
    page = admin_client_logged_in.get(f"/admin/imagecache/imagecache/{row.pk}/change/")
    assert page.status_code == 200
    assert base64.b64encode(png).decode() in page.content.decode()


def test_search_by_id(admin_client_logged_in: Client) -> None:
    """Searching an id finds its rows; a non-numeric search is no error."""
    store_image("type", 34, "icon", make_png())
    store_image("type", 35, "icon", make_png(rgb=(0, 255, 0)))
    found = admin_client_logged_in.get("/admin/imagecache/imagecache/?q=35")
    assert found.status_code == 200
    assert found.context["cl"].result_count == 1
    assert admin_client_logged_in.get("/admin/imagecache/imagecache/?q=abc").status_code == 200
