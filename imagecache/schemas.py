"""Pydantic schemas of imagecache's API (shapes only; no logic)."""

from __future__ import annotations

from evesite.schemas import Schema


class ImageError(Schema):
    """An image's error answer (the images themselves are bytes)."""

    error: str
    detail: str
