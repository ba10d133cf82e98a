r"""PostgreSQL's text formats as ``pg_restore`` writes them: COPY fields and identifiers, CREATE TABLE columns."""

from __future__ import annotations

import re

COPY_LINE = re.compile(r"^COPY\s+.+?\s+\((?P<cols>.*)\)\s+FROM\s+stdin;\s*$")
_IDENT = re.compile(r'"((?:[^"]|"")*)"|([^,\s]+)')
CREATE_TABLE = re.compile(r"^CREATE (?:UNLOGGED )?TABLE (\S+) \((.*?)\n\);", re.MULTILINE | re.DOTALL)
_QUALIFIED = re.compile(r'"((?:[^"]|"")*)"|([^".\s]+)')
_COPY_ESCAPE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|(.))", re.DOTALL)
_COPY_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
ENCODINGS = {"UTF8": "utf-8", "SQL_ASCII": "utf-8", "LATIN1": "latin-1", "WIN1252": "cp1252"}
BOOLEANS = {"t": "1", "f": "0"}


def _copy_unescape_match(match: re.Match[str]) -> str:
    """Replace one COPY text escape."""
    octal, hexa, char = match.groups()
    if octal is not None:
        return chr(int(octal, 8))
    if hexa is not None:
        return chr(int(hexa, 16))
    return _COPY_ESCAPES.get(char, char)


def copy_field(text: str) -> str | None:
    r"""Decode one field of PostgreSQL's COPY text format.

    Args:
        text: The field as written between tabs.

    Returns:
        The value, or None for ``\N``.
    """
    if text == "\\N":
        return None
    if "\\" not in text:
        return text
    return _COPY_ESCAPE.sub(_copy_unescape_match, text)


def copy_identifiers(text: str) -> list[str]:
    """Split the column list of a COPY statement.

    Args:
        text: E.g. ``"typeID", "groupID", published``.

    Returns:
        The column names, unquoted.
    """
    return [quoted.replace('""', '"') if quoted else plain for quoted, plain in _IDENT.findall(text)]


def ddl_columns(body: str) -> tuple[list[str], set[str]]:
    """Read column names and boolean columns from the body of a CREATE TABLE.

    Args:
        body: The text between the statement's parentheses, one definition per line.

    Returns:
        (column names, names of boolean columns).
    """
    columns: list[str] = []
    booleans: set[str] = set()
    for raw in body.splitlines():
        line = raw.strip().rstrip(",")
        if not line or line.upper().startswith(("CONSTRAINT ", "PRIMARY KEY", "UNIQUE ", "CHECK ")):
            continue
        match = _IDENT.match(line)
        if match is None:
            continue
        name = match.group(1).replace('""', '"') if match.group(1) else match.group(2)
        columns.append(name)
        if line[match.end() :].strip().lower().startswith("boolean"):
            booleans.add(name)
    return columns, booleans


def qualified_name(text: str) -> tuple[str, str] | None:
    """Split a possibly schema-qualified, possibly quoted table name into (schema, name); schema "" if absent."""
    parts = [quoted.replace('""', '"') if quoted else plain for quoted, plain in _QUALIFIED.findall(text)]
    if not parts:
        return None
    return (parts[0], parts[-1]) if len(parts) > 1 else ("", parts[0])
