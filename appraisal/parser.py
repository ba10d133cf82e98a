"""Parse what players paste from the game into candidate (name, quantity) readings per line (no database).

Each line gets its readings in order of preference; :func:`paste_resolve` keeps, per line, the first
reading whose name is a known type (the names of every line are looked up in one query). Formats:

- inventory, cargo and contract item lists: ``name<TAB>quantity<TAB>...`` (an empty quantity is 1; a
  later column holding ``BLUEPRINT COPY`` marks a blueprint copy);
- ``name x quantity``, ``quantity x name``, ``quantity name``, ``name quantity`` and a bare name (1);
- EFT fittings: ``[Ship, Fitting name]`` is the ship, ``Module, Loaded charge`` the module (the loaded
  charge is not counted: EFT does not say how many), ``Name xN`` charges and drones; ``[Empty ... slot]``
  lines and `` /OFFLINE`` marks are ignored.

Names match the SDE's exactly except for case (ASCII letters); runs of spaces in the paste are also tried single.
Quantities may group thousands with ``,``, ``.``, ``'`` or a space (``1,000``, ``1.000``, ``1 000``).
A name followed by ``(Copy)`` is a blueprint copy; ``(Original)`` and a trailing ``*`` are dropped.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

INT64_MAX = 2**63 - 1
# Spaces the client writes inside numbers (no-break, narrow no-break, thin) read as plain spaces.
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_GROUPED = re.compile(r"\d{1,3}([,.' ])\d{3}(?:\1\d{3})*")
_EFT_HEADER = re.compile(r"\[\s*([^,\[\]]+?)\s*,[^\[\]]*\]")
_EMPTY_SLOT = re.compile(r"\[\s*empty [a-z ]*slot\s*\]", re.IGNORECASE)
_BPC_MARK = re.compile(r"\s*\(copy\)", re.IGNORECASE)
_BPO_MARK = re.compile(r"\s*\(original\)", re.IGNORECASE)
_OFFLINE = re.compile(r"\s*/\s*offline$", re.IGNORECASE)
_QTY_X = re.compile(r"(.+?)x$", re.IGNORECASE)  # "10x"
_GROUP_DIGITS = 3  # digits in each space-separated group of a quantity ("1 000 000")
_X_QTY = re.compile(r"x(.+)$", re.IGNORECASE)  # "x10"
# Readings of a line by how many tokens a quantity may span ("1 000 000" is three).
_MAX_QTY_TOKENS = 4


class Reading(NamedTuple):
    """One way to read a line: a type name (lowercased key) and a quantity."""

    key: str
    quantity: int


class PastedLine(NamedTuple):
    """A line with content: its number (1-based), text, readings in order of preference, and flags."""

    number: int
    text: str
    readings: tuple[Reading, ...]
    blueprint_copy: bool
    problem: str | None = None


@dataclass(frozen=True)
class ParsedPaste:
    """A paste split into lines with content (blank and ignored EFT lines are left out)."""

    lines: list[PastedLine]
    line_count: int


class ResolvedLine(NamedTuple):
    """A line whose name matched a type."""

    number: int
    key: str
    quantity: int
    blueprint_copy: bool


class UnparsedLine(NamedTuple):
    """A line nothing could be made of, and why."""

    number: int
    text: str
    reason: str


def text_lines(text: str) -> list[str]:
    """Split a text into lines as an editor numbers them (a final line break starts no new line)."""
    lines = _LINE_BREAK.split(text)
    return lines[:-1] if lines and lines[-1] == "" else lines


def quantity_parse(token: str) -> int | None:
    """Read a quantity: plain digits or thousands groups (``1,000``, ``1.000``, ``1'000``, ``1 000``).

    Args:
        token: The text.

    Returns:
        The quantity (at least 1 and at most 2**63 - 1), or None when the text is not one.
    """
    token = token.strip()
    if not token.isascii():
        return None
    if token.isdigit():
        value = int(token)
    elif _GROUPED.fullmatch(token):
        value = int(re.sub(r"\D", "", token))
    else:
        return None
    return value if 1 <= value <= INT64_MAX else None


def name_key(name: str) -> str:
    """The lookup key of a name: no trailing ``*``, ASCII letters lowercase (as PostgreSQL's ``lower`` in "C")."""
    key = name.strip()
    if key.endswith("*"):
        key = key.rstrip("*").rstrip()
    return key.lower() if key.isascii() else key.translate(_ASCII_LOWER)


def _name_readings(name: str, quantity: int) -> list[Reading]:
    """Readings of a name as written and with single spaces, also without an EFT `` /OFFLINE`` mark."""
    collapsed = " ".join(name.split())
    key = name_key(name)
    if "/" not in collapsed and collapsed == name.strip():  # the usual case: one reading
        return [Reading(key, quantity)] if key else []
    keys = [key]
    if collapsed != name.strip():
        keys.append(name_key(collapsed))
    if "/" in collapsed:
        keys.append(name_key(_OFFLINE.sub("", collapsed)))
    return [Reading(key, quantity) for key in dict.fromkeys(keys) if key]


def _tokens_readings(tokens: list[str], quantity: int) -> list[Reading]:
    """Readings of a name already split into tokens (so single-spaced)."""
    name = " ".join(tokens)
    if "/" in name:
        return _name_readings(name, quantity)
    key = name_key(name)
    return [Reading(key, quantity)] if key else []


def _group_span(following: list[str], most: int) -> int:
    """How many tokens a quantity may span: one, plus the 3-digit groups that follow it (``1 000 000``)."""
    span = 1
    for token in following[: _MAX_QTY_TOKENS - 1]:
        if len(token) != _GROUP_DIGITS or not token.isdigit():
            break
        span += 1
    return min(span, most)


def _quantity_first(tokens: list[str]) -> list[Reading]:
    """Readings ``quantity name`` and ``quantity x name`` (the quantity may span space-grouped tokens)."""
    out: list[Reading] = []
    if not tokens[0][0].isdigit():
        return out
    for k in range(_group_span(tokens[1:], len(tokens) - 1), 0, -1):
        head, rest = " ".join(tokens[:k]), tokens[k:]
        quantity = quantity_parse(head)
        if quantity is None and (m := _QTY_X.fullmatch(head)):  # "10x Tritanium"
            quantity = quantity_parse(m.group(1))
        if quantity is None:
            continue
        if rest[0] in ("x", "X") and len(rest) > 1:  # "10 x Tritanium"
            out += _tokens_readings(rest[1:], quantity)
        else:
            out += _tokens_readings(rest, quantity)
    return out


def _quantity_last(tokens: list[str]) -> list[Reading]:
    """Readings ``name x quantity`` and ``name quantity`` (the quantity may span space-grouped tokens)."""
    out: list[Reading] = []
    if not tokens[-1][-1].isdigit():
        return out
    for k in range(_group_span(tokens[::-1], len(tokens) - 1), 0, -1):
        rest, tail = tokens[:-k], " ".join(tokens[-k:])
        quantity = quantity_parse(tail)
        if quantity is None and (m := _X_QTY.fullmatch(tail)):  # "Hobgoblin II x5"
            quantity = quantity_parse(m.group(1))
        if quantity is None:
            continue
        if rest[-1] in ("x", "X") and len(rest) > 1:  # "Tritanium x 1000"
            out += _tokens_readings(rest[:-1], quantity)
        else:
            out += _tokens_readings(rest, quantity)
    return out


def _free_text_line(number: int, raw: str, text: str) -> PastedLine | None:
    """Read a line without tabs; None for a line to ignore (an empty EFT slot)."""
    if text.startswith("["):
        if _EMPTY_SLOT.fullmatch(" ".join(text.split())):
            return None
        if header := _EFT_HEADER.fullmatch(text):
            return PastedLine(number, raw, tuple(_name_readings(header.group(1), 1)), blueprint_copy=False)
    blueprint_copy = False
    if "(" in text:
        blueprint_copy = bool(_BPC_MARK.search(text))
        text = _BPO_MARK.sub("", _BPC_MARK.sub("", text))
    tokens = text.split()
    if not tokens:  # a blueprint mark alone
        return PastedLine(number, raw, (), blueprint_copy, problem="no item name")
    readings = _name_readings(text, 1)
    if tokens[-1][-1].isdigit():
        readings += _quantity_last(tokens)
    if tokens[0][0].isdigit():
        readings += _quantity_first(tokens)
    if "," in text:  # EFT "Module, Loaded charge": the module
        readings += _name_readings(text.split(",", 1)[0], 1)
    return PastedLine(number, raw, tuple(readings), blueprint_copy=blueprint_copy)


def _tab_line(number: int, raw: str, text: str) -> PastedLine:
    """Read an inventory, cargo or contract line: name, quantity, then any columns."""
    columns = text.split("\t")
    name, quantity_text = columns[0].strip(), columns[1].strip() if len(columns) > 1 else ""
    blueprint_copy = any("blueprint copy" in c.lower() for c in columns[1:])
    if "(" in name:  # both marks hold one
        blueprint_copy = blueprint_copy or bool(_BPC_MARK.search(name))
        name = _BPO_MARK.sub("", _BPC_MARK.sub("", name))
    quantity = quantity_parse(quantity_text) if quantity_text else 1
    if quantity is None:
        return PastedLine(number, raw, (), blueprint_copy, problem="the second column is not a quantity")
    return PastedLine(number, raw, tuple(_name_readings(name, quantity)), blueprint_copy)


def paste_parse(*, text: str) -> ParsedPaste:
    """Split a paste into lines and read each one (no limits checked here; see the service).

    Args:
        text: What the player pasted.

    Returns:
        The lines with content and their readings.
    """
    raw_lines = text_lines(text)
    lines: list[PastedLine] = []
    for number, raw in enumerate(raw_lines, start=1):
        text_line = (raw if raw.isascii() else raw.translate(_SPACES)).strip()
        if not text_line:
            continue
        if "\t" in text_line:
            lines.append(_tab_line(number, raw, text_line))
        elif (line := _free_text_line(number, raw, text_line)) is not None:
            lines.append(line)
    return ParsedPaste(lines=lines, line_count=len(raw_lines))


def paste_keys(*, paste: ParsedPaste) -> list[str]:
    """Every distinct name key the paste's readings mention (for one lookup), in no particular order."""
    return list({reading.key for line in paste.lines for reading in line.readings})


def paste_resolve(*, paste: ParsedPaste, known: Mapping[str, object]) -> tuple[list[ResolvedLine], list[UnparsedLine]]:
    """Keep, per line, the first reading whose name is known; the other lines are unparsed.

    Args:
        paste: The parsed paste.
        known: The name keys that are type names (any mapping keyed by :func:`name_key`).

    Returns:
        (resolved lines, unparsed lines), each in line order.
    """
    resolved: list[ResolvedLine] = []
    unparsed: list[UnparsedLine] = []
    for line in paste.lines:
        for reading in line.readings:
            if reading.key in known:
                resolved.append(ResolvedLine(line.number, reading.key, reading.quantity, line.blueprint_copy))
                break
        else:
            reason = line.problem or "no type name found (names must match the SDE exactly, any case)"
            unparsed.append(UnparsedLine(line.number, line.text, reason))
    return resolved, unparsed
