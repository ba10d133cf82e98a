"""A corpus of pasted texts in every format, valued on the fixed Jita book with totals computed by hand.

The book (``conftest.BOOK``) at Jita IV-4, sales tax 10 % (buy values are 0.9 x gross):

- Tritanium: sells 1,000 @ 4, 2,000 @ 4.5, 10,000 @ 5; buys 3,000 @ 3.5, 5,000 @ 3, 100,000 @ 2
- Pyerite: sells 500 @ 10, 500 @ 12; buys 600 @ 8
- Mexallon: sells 1,000 @ 60; buys 5,000 @ 50 (min_volume 1,000), 500 @ 40
- Rifter: sells 2 @ 500k, 3 @ 550k; buys 1 @ 400k, 10 @ 350k. Rifter Blueprint: sells 5 @ 1M; buys 1 @ 900k
- Damage Control I 50 @ 10k / 50 @ 8k; 1MN Afterburner I 10 @ 20k / no buys; 200mm AutoCannon I
  100 @ 5k / 100 @ 4k; EMP S 100,000 @ 20 / 100,000 @ 15; Hobgoblin I 100 @ 3k / 100 @ 2.5k

Volumes (SDE): minerals and blueprints 0.01 m3, EMP S 0.0025, modules and drones 5, Rifter 2,500 packaged.
Another station of The Forge sells everything at 0.01 and buys at 1e9: its orders must never count.
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from appraisal.models import Appraisal
from appraisal.tests.conftest import (
    AFTERBURNER_1MN_I,
    AUTOCANNON_200MM_I,
    DAMAGE_CONTROL_I,
    EMP_S,
    HOBGOBLIN_I,
    MEXALLON,
    PYERITE,
    RIFTER,
    RIFTER_BLUEPRINT,
    TRITANIUM,
)
from universe.models import Station

pytestmark = pytest.mark.django_db


def appraise(text: str, **extra: Any) -> dict[str, Any]:
    response = APIClient().post("/api/appraisal/", {"text": text, "sales_tax": 10, **extra}, format="json")
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def lines_of(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    """(line, type, quantity, sell, buy, split, volume, sell_unfilled, buy_unfilled, flags) per line."""
    return [
        (
            r["line"],
            r["type_id"],
            r["quantity"],
            r["sell"],
            r["buy"],
            r["split"],
            r["volume"],
            r["sell_unfilled"],
            r["buy_unfilled"],
            r["flags"],
        )
        for r in body["lines"]
    ]


def assert_totals(body: dict[str, Any], sell: float, buy: float, split: float, volume: float) -> None:
    totals = body["totals"]
    assert totals["sell"] == pytest.approx(sell, abs=1e-6)
    assert totals["buy"] == pytest.approx(buy, abs=1e-6)
    assert totals["split"] == pytest.approx(split, abs=1e-6)
    assert totals["volume"] == pytest.approx(volume, abs=1e-9)
    assert totals["lines"] == len(body["lines"])


def approx_lines(expected: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [tuple(pytest.approx(v, abs=1e-6) if isinstance(v, float) else v for v in row) for row in expected]


def test_inventory_list_with_thousands_separators_and_a_thin_buy_book(jita_book: Station) -> None:
    body = appraise("Tritanium\t1,500\tMineral\t\t\t15 m3\nPyerite\t700\tMineral\t\t\t7 m3\n")
    # Tritanium 1,500: sell 1,000 x 4 + 500 x 4.5 = 6,250; buy 1,500 x 3.5 = 5,250 -> 4,725.
    # Pyerite 700: sell 500 x 10 + 200 x 12 = 7,400; buy 600 x 8 + 100 past the book x 8 = 5,600 -> 5,040.
    assert lines_of(body) == approx_lines(
        [
            (1, TRITANIUM, 1500, 6250.0, 4725.0, 5487.5, 15.0, 0, 0, []),
            (2, PYERITE, 700, 7400.0, 5040.0, 6220.0, 7.0, 0, 100, ["thin_book"]),
        ]
    )
    assert_totals(body, sell=13_650, buy=9_765, split=11_707.5, volume=22)
    assert body["unparsed"] == []
    assert body["market"]["station_id"] == 60003760
    assert body["market"]["name"] == "jita"
    assert body["sales_tax"] == 10


def test_contract_items_with_a_blueprint_copy(jita_book: Station) -> None:
    text = (
        "Rifter\t2\tFrigate\tShip\t\n"
        "Rifter Blueprint\t1\tFrigate Blueprint\tBlueprint\tBLUEPRINT COPY - Runs: 10 - Material Efficiency: 0\n"
        "Rifter Blueprint\t1\tFrigate Blueprint\tBlueprint\t\n"
    )
    body = appraise(text)
    # Rifter x2: sell 2 x 500k; buy 400k + 350k = 750k -> 675k. The copy: 0. The original: 1M / 900k -> 810k.
    assert lines_of(body) == approx_lines(
        [
            (1, RIFTER, 2, 1_000_000.0, 675_000.0, 837_500.0, 5000.0, 0, 0, []),
            (2, RIFTER_BLUEPRINT, 1, 0.0, 0.0, 0.0, 0.01, 0, 0, ["blueprint_copy"]),
            (3, RIFTER_BLUEPRINT, 1, 1_000_000.0, 810_000.0, 905_000.0, 0.01, 0, 0, []),
        ]
    )
    assert_totals(body, sell=2_000_000, buy=1_485_000, split=1_742_500, volume=5000.02)


def test_free_text_forms_odd_spacing_repeated_types_and_an_unknown_name(jita_book: Station) -> None:
    text = "Tritanium x 1.000\n  2 000   tritanium    \n3x Rifter\nRifter\nEMP S x 1 000\nNot A Real Item x 5\n"
    body = appraise(text)
    # Tritanium 1,000 + 2,000 walk the book once: 1,000 @ 4, then 2,000 @ 4.5; buys 3,000 @ 3.5.
    # Rifter 3 + 1: sells 2 @ 500k + 1 @ 550k, then 1 @ 550k; buys 400k + 2 x 350k, then 350k.
    assert lines_of(body) == approx_lines(
        [
            (1, TRITANIUM, 1000, 4000.0, 3150.0, 3575.0, 10.0, 0, 0, []),
            (2, TRITANIUM, 2000, 9000.0, 6300.0, 7650.0, 20.0, 0, 0, []),
            (3, RIFTER, 3, 1_550_000.0, 990_000.0, 1_270_000.0, 7500.0, 0, 0, []),
            (4, RIFTER, 1, 550_000.0, 315_000.0, 432_500.0, 2500.0, 0, 0, []),
            (5, EMP_S, 1000, 20_000.0, 13_500.0, 16_750.0, 2.5, 0, 0, []),
        ]
    )
    assert_totals(body, sell=2_133_000, buy=1_327_950, split=1_730_475, volume=10_032.5)
    assert body["unparsed"] == [{"line": 6, "text": "Not A Real Item x 5", "reason": body["unparsed"][0]["reason"]}]
    assert "no type name" in body["unparsed"][0]["reason"]


EFT = """[Rifter, Corpus Rifter]
Damage Control I
[Empty Low slot]

1MN Afterburner I
[Empty Med slot]

200mm AutoCannon I, EMP S
200mm AutoCannon I, EMP S /OFFLINE
[Empty High slot]


Hobgoblin I x2

EMP S x200
"""


def test_eft_fitting(jita_book: Station) -> None:
    body = appraise(EFT)
    assert lines_of(body) == approx_lines(
        [
            (1, RIFTER, 1, 500_000.0, 360_000.0, 430_000.0, 2500.0, 0, 0, []),
            (2, DAMAGE_CONTROL_I, 1, 10_000.0, 7_200.0, 8_600.0, 5.0, 0, 0, []),
            # No buy orders at all: worth 0 on that side.
            (5, AFTERBURNER_1MN_I, 1, 20_000.0, 0.0, 10_000.0, 5.0, 0, 1, ["thin_book", "no_buy_orders"]),
            (8, AUTOCANNON_200MM_I, 1, 5_000.0, 3_600.0, 4_300.0, 5.0, 0, 0, []),
            (9, AUTOCANNON_200MM_I, 1, 5_000.0, 3_600.0, 4_300.0, 5.0, 0, 0, []),
            (13, HOBGOBLIN_I, 2, 6_000.0, 4_500.0, 5_250.0, 10.0, 0, 0, []),
            (15, EMP_S, 200, 4_000.0, 2_700.0, 3_350.0, 0.5, 0, 0, []),
        ]
    )
    assert_totals(body, sell=550_000, buy=381_600, split=465_800, volume=2530.5)
    assert body["unparsed"] == []


def test_a_quantity_deeper_than_the_sell_book(jita_book: Station) -> None:
    body = appraise("Tritanium\n50'000 x Tritanium")
    # 50,001 units: the sell book holds 13,000 (63,000 ISK); 37,001 more at the last price 5 -> 248,005.
    # Line 1 takes the first unit (4 / 3.5); line 2 the other 50,000.
    # Buys: 2,999 @ 3.5 + 5,000 @ 3 + 42,001 @ 2 = 109,498.5 -> 98,548.65.
    assert lines_of(body) == approx_lines(
        [
            (1, TRITANIUM, 1, 4.0, 3.15, 3.575, 0.01, 0, 0, []),
            (2, TRITANIUM, 50_000, 248_001.0, 98_548.65, 173_274.825, 500.0, 37_001, 0, ["thin_book"]),
        ]
    )
    assert_totals(body, sell=248_005, buy=98_551.8, split=173_278.4, volume=500.01)


@pytest.mark.parametrize(
    ("text", "sell", "buy", "sell_unfilled", "buy_unfilled"),
    [
        # 600 units: the 50 ISK order wants at least 1,000, so 500 @ 40 + 100 past the book @ 40 = 24,000.
        ("Mexallon 600", 36_000.0, 21_600.0, 0, 100),
        # 1,200 units: the 50 ISK order takes them all; the sell book has 1,000 (200 more @ 60).
        ("1,200 Mexallon", 72_000.0, 54_000.0, 200, 0),
    ],
)
def test_min_volume_of_buy_orders(
    *, jita_book: Station, text: str, sell: float, buy: float, sell_unfilled: int, buy_unfilled: int
) -> None:
    body = appraise(text)
    quantity = body["lines"][0]["quantity"]
    split, volume = (sell + buy) / 2, quantity * 0.01
    expected = (1, MEXALLON, quantity, sell, buy, split, volume, sell_unfilled, buy_unfilled, ["thin_book"])
    assert lines_of(body) == approx_lines([expected])


def test_the_default_sales_tax_is_the_sites(jita_book: Station, settings: Any) -> None:
    settings.MARKET_DEFAULT_SALES_TAX = 8.0
    response = APIClient().post("/api/appraisal/", {"text": "Tritanium\t1000"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sales_tax"] == 8.0
    assert body["totals"]["buy"] == pytest.approx(3_500 * 0.92)
    assert body["totals"]["sell"] == pytest.approx(4_000)


def test_a_paste_of_unknown_names_only_is_refused_and_nothing_is_stored(jita_book: Station) -> None:
    response = APIClient().post("/api/appraisal/", {"text": "Foo x 3\n\nBar Baz"}, format="json")
    assert response.status_code == 404, response.content
    body = response.json()
    assert body["error"] == "not_found"
    assert [u["line"] for u in body["unparsed"]] == [1, 3]
    assert not Appraisal.objects.exists()
