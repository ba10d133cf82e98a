"""The paste parser on every format, without the database (names are resolved against a fixed set)."""

from __future__ import annotations

import pytest

from appraisal.parser import (
    ParsedPaste,
    ResolvedLine,
    UnparsedLine,
    name_key,
    paste_keys,
    paste_parse,
    paste_resolve,
    quantity_parse,
    text_lines,
)

KNOWN = {
    name_key(n): n
    for n in (
        "Tritanium",
        "Rifter",
        "Rifter Blueprint",
        "Damage Control I",
        "200mm AutoCannon I",
        "EMP S",
        "Hobgoblin I",
        "1MN Afterburner I",
        "Large Skill Injector",
        "Item 5",
    )
}


def resolve(text: str) -> tuple[list[ResolvedLine], list[UnparsedLine]]:
    return paste_resolve(paste=paste_parse(text=text), known=KNOWN)


def items(text: str) -> list[tuple[int, str, int, bool]]:
    resolved, _ = resolve(text)
    return [(r.number, r.key, r.quantity, r.blueprint_copy) for r in resolved]


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("1", 1),
        ("1000", 1000),
        ("1,000", 1000),
        ("1.000", 1000),
        ("1 000", 1000),
        ("1'000", 1000),
        ("12,345,678", 12_345_678),
        ("1.234.567", 1_234_567),
        (" 42 ", 42),
        ("0", None),
        ("1,00", None),
        ("1.5", None),
        ("1,000.000", None),  # two different separators
        ("1,0000", None),
        ("-5", None),
        ("٣", None),  # not ASCII digits
        ("", None),
        ("x", None),
        (str(2**63), None),
        (str(2**63 - 1), 2**63 - 1),
    ],
)
def test_quantities_take_thousands_separators(token: str, expected: int | None) -> None:
    assert quantity_parse(token) == expected


def test_inventory_and_cargo_lines() -> None:
    text = (
        "Tritanium\t1,500\tMineral\t\t\t15 m3\t6,000.00 ISK\n"
        "Rifter\t\tFrigate\tShip\t\t2,500 m3\n"  # an assembled ship: no quantity
        "EMP S\t1 000\tProjectile Ammo\tCharge\tSmall\t\t2.5 m3\n"
        "Hobgoblin I\t5"
    )
    assert items(text) == [
        (1, "tritanium", 1500, False),
        (2, "rifter", 1, False),
        (3, "emp s", 1000, False),
        (4, "hobgoblin i", 5, False),
    ]


def test_contract_lines_and_blueprint_copies() -> None:
    text = (
        "Rifter\t2\tFrigate\tShip\t\n"
        "Rifter Blueprint\t1\tFrigate Blueprint\tBlueprint\tBLUEPRINT COPY - Runs: 10 - Material Efficiency: 0\n"
        "Rifter Blueprint\t1\tFrigate Blueprint\tBlueprint\t\n"
        "Rifter Blueprint (Copy)\t3\n"
        "Rifter Blueprint (Copy) x 2\n"
        "Rifter Blueprint (Original)\n"
        "Hobgoblin I*\t10\tDrone*\tDrone*\tDrone Bay"  # a localised client marks names with *
    )
    assert items(text) == [
        (1, "rifter", 2, False),
        (2, "rifter blueprint", 1, True),
        (3, "rifter blueprint", 1, False),
        (4, "rifter blueprint", 3, True),
        (5, "rifter blueprint", 2, True),
        (6, "rifter blueprint", 1, False),
        (7, "hobgoblin i", 10, False),
    ]


def test_free_text_forms_and_odd_spacing() -> None:
    text = (
        "Tritanium x 1.000\n"
        "  2 000   tritanium   \n"
        "3x Rifter\n"
        "4 x  RIFTER\n"
        "rifter\n"
        "EMP S x1,000\n"
        "Damage Control I 7\n"
        "Hobgoblin\u00a0I x 1\u00a0000\n"  # no-break spaces from the client
        "Tritanium    12 345\n"
        "\t  Large Skill Injector  \n"
    )
    assert items(text) == [
        (1, "tritanium", 1000, False),
        (2, "tritanium", 2000, False),
        (3, "rifter", 3, False),
        (4, "rifter", 4, False),
        (5, "rifter", 1, False),
        (6, "emp s", 1000, False),
        (7, "damage control i", 7, False),
        (8, "hobgoblin i", 1000, False),
        (9, "tritanium", 12345, False),
        (10, "large skill injector", 1, False),
    ]


def test_a_name_ending_in_a_number_is_the_name_first() -> None:
    expected = [(1, "item 5", 1, False), (2, "item 5", 3, False), (3, "item 5", 2, False)]
    assert items("Item 5\nItem 5 x 3\n2 Item 5") == expected


def test_eft_fitting() -> None:
    text = (
        "[Rifter, My PvP Rifter]\n"
        "Damage Control I\n"
        "[Empty Low slot]\n"
        "\n"
        "1MN Afterburner I\n"
        "[Empty Med slot]\n"
        "\n"
        "200mm AutoCannon I, EMP S\n"
        "200mm AutoCannon I, EMP S /OFFLINE\n"
        "[Empty High slot]\n"
        "[empty rig slot]\n"
        "\n"
        "\n"
        "Hobgoblin I x2\n"
        "\n"
        "EMP S x200\n"
    )
    resolved, unparsed = resolve(text)
    assert unparsed == []
    assert [(r.number, r.key, r.quantity) for r in resolved] == [
        (1, "rifter", 1),
        (2, "damage control i", 1),
        (5, "1mn afterburner i", 1),
        (8, "200mm autocannon i", 1),
        (9, "200mm autocannon i", 1),
        (14, "hobgoblin i", 2),
        (16, "emp s", 200),
    ]


def test_unparsed_lines_keep_their_numbers_and_text() -> None:
    text = "Tritanium 5\r\nNot A Real Item x 5\r\n\r\nTritanium\tlots\n[Some bracket]\nRifter"
    resolved, unparsed = resolve(text)
    assert [(r.number, r.key) for r in resolved] == [(1, "tritanium"), (6, "rifter")]
    assert [(u.number, u.text) for u in unparsed] == [
        (2, "Not A Real Item x 5"),
        (4, "Tritanium\tlots"),
        (5, "[Some bracket]"),
    ]
    assert unparsed[1].reason == "the second column is not a quantity"
    assert "no type name" in unparsed[0].reason


def test_lines_are_numbered_as_an_editor_does() -> None:
    assert text_lines("a\nb\r\nc\rd\n") == ["a", "b", "c", "d"]
    assert text_lines("") == []
    assert text_lines("\n\n") == ["", ""]
    paste = paste_parse(text="\n\nTritanium\n\n")
    assert isinstance(paste, ParsedPaste)
    assert paste.line_count == 4
    assert [line.number for line in paste.lines] == [3]


def test_every_name_of_the_paste_goes_into_one_lookup() -> None:
    keys = paste_keys(paste=paste_parse(text="3 Tritanium\nRifter x 2\nRifter"))
    assert {"tritanium", "rifter", "3 tritanium", "rifter x 2"} <= set(keys)
    assert len(keys) == len(set(keys))


def test_space_grouped_quantities_span_several_tokens() -> None:
    text = "Tritanium 1 000 000\n1 000 000 Tritanium\nTritanium x 12 345\n12 345 x Tritanium\nTritanium 345"
    expected = [(1, 1_000_000), (2, 1_000_000), (3, 12_345), (4, 12_345), (5, 345)]
    assert [(n, q) for n, _, q, _ in items(text)] == expected


@pytest.mark.parametrize("mark", ["(Copy)", " (original) ", "(Copy) (Original)"])
def test_a_blueprint_mark_alone_is_an_unparsed_line(mark: str) -> None:
    """A line that is only a blueprint mark used to raise IndexError (a 500): it is listed as unparsed."""
    resolved, unparsed = resolve(f"Tritanium 5\n{mark}")
    assert [r.number for r in resolved] == [1]
    assert [(u.number, u.reason) for u in unparsed] == [(2, "no item name")]
