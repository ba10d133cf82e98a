"""The fake ESI of ``bench/bench_pipeline.py``: every region's order pages, served on loopback."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable
from email.utils import formatdate
from typing import Any

from evesite.testing.fakeserver import FakeHttpServer, FakeResponse

BUY_SHARE = 0.5  # buy orders among the fake ESI's orders


def esi_pages(*, region_id: int, pages: int, per_page: int) -> list[bytes]:
    """Encode a region's order pages once (what ESI would send).

    Args:
        region_id: The region.
        pages: Pages.
        per_page: Orders per page.

    Returns:
        The page bodies.
    """
    rng = random.Random(region_id)
    station = region_id + 50_000_000
    system = region_id + 20_000_000
    bodies = []
    for page in range(pages):
        orders = []
        for i in range(per_page):
            is_buy = rng.random() < BUY_SHARE
            orders.append(
                {
                    "duration": 90,
                    "is_buy_order": is_buy,
                    "issued": "2026-11-28T10:00:00Z",
                    "location_id": station,
                    "min_volume": 1,
                    "order_id": region_id * 1_000_000 + page * per_page + i,
                    "price": round(rng.uniform(50, 100) if is_buy else rng.uniform(100, 150), 2),
                    "range": "region",
                    "system_id": system,
                    "type_id": rng.randint(1, 5000),
                    "volume_remain": rng.randint(1, 500),
                    "volume_total": 500,
                }
            )
        bodies.append(json.dumps(orders).encode())
    return bodies


def fake_esi_start(*, regions: Iterable[int], pages: int, per_page: int) -> FakeHttpServer:
    """Start the fake ESI serving every region's pages.

    Args:
        regions: The regions.
        pages: Pages per region.
        per_page: Orders per page.

    Returns:
        The running server.
    """
    encoded = {region: esi_pages(region_id=region, pages=pages, per_page=per_page) for region in regions}
    headers = {
        "X-Pages": str(pages),
        "Last-Modified": "Sat, 28 Nov 2026 22:55:00 GMT",
        "Expires": formatdate(time.time() + 3600, usegmt=True),
        "Content-Type": "application/json",
    }

    def answer(request: Any) -> FakeResponse:
        """Serve one page."""
        region = int(request.path.split("/")[2])
        page = int(request.query.get("page", ["1"])[0])
        return FakeResponse(body=encoded[region][page - 1], headers=headers)

    fake = FakeHttpServer().start()
    fake.add("GET", r"/markets/\d+/orders", answer, regex=True, repeat_last=True)
    return fake
