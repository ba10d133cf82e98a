"""The mysqldump syntax the MySQL source reads: INSERT and CREATE TABLE starts, VALUES rows, string escapes.

Only what Fuzzwork's dumps use: multi-row ``VALUES``, single- and double-quoted
strings with backslash or doubled-quote escapes, character-set introducers,
``NULL`` and bare words.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from universe.sde.compressed import DumpFormatError

# The start of an INSERT (or REPLACE) statement: the table and its optional column list.
INSERT_START = re.compile(
    r"\s*(?:INSERT|REPLACE)(?:\s+(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY|IGNORE))*\s+INTO\s+"
    r"(?:`[^`]+`\.|\w+\.)?(?:`(?P<qname>[^`]+)`|(?P<name>\w+))\s*"
    r"(?:\((?P<cols>[^)]*)\)\s*)?VALUES\s*",
    re.IGNORECASE,
)
# The start of a CREATE TABLE statement: the table.
CREATE_TABLE_START = re.compile(
    r"\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:`[^`]+`\.|\w+\.)?(?:`(?P<qname>[^`]+)`|(?P<name>\w+))",
    re.IGNORECASE,
)
_STRING = r"'(?:[^'\\]|\\.|'')*+'" + r'|"(?:[^"\\]|\\.|"")*+"'
# One parenthesised row of VALUES (strings may hold parentheses, commas and newlines).
_ROW = re.compile(r"\s*,?\s*\((?P<body>(?:" + _STRING + r"""|[^'"()]++)*+)\)""", re.DOTALL)
# One value inside a row: a string (optionally after a character-set introducer such as _binary) or a bare word.
_FIELD = re.compile(
    r"""\s*(?:_\w+\s*(?=['"]))?(?:(""" + _STRING + r""")|([^,\s'"]+(?:\s+[^,\s'"]+)*))\s*(?:,|$)""",
    re.DOTALL,
)
_END = re.compile(r"\s*;\s*$")
_ESCAPE = re.compile(r"\\(.)|''|\"\"", re.DOTALL)
_ESCAPES = {"0": "\x00", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a", "%": "\\%", "_": "\\_"}
_NOT_COLUMNS = {"PRIMARY", "KEY", "UNIQUE", "INDEX", "CONSTRAINT", "FULLTEXT", "SPATIAL", "FOREIGN", "CHECK"}


def _unescape_match(match: re.Match[str]) -> str:
    """Return the character one MySQL escape sequence (a match of ``_ESCAPE``) stands for."""
    text = match.group(0)
    if text in ("''", '""'):
        return text[0]
    char = match.group(1)
    return _ESCAPES.get(char, char)


def unescape(text: str) -> str:
    """Decode the body of a MySQL string literal.

    Args:
        text: The characters between the quotes.

    Returns:
        The string value.
    """
    if "\\" not in text and "''" not in text and '""' not in text:
        return text
    return _ESCAPE.sub(_unescape_match, text)


def column_list(text: str) -> list[str]:
    r"""Split a comma-separated list of (back-quoted) column names.

    Args:
        text: E.g. ``typeID``, ``groupID`` in back-quotes.

    Returns:
        The names.
    """
    return [part.strip().strip("`").strip() for part in text.split(",") if part.strip()]


def _split_top_level(text: str) -> list[str]:
    """Split a CREATE TABLE body at commas outside parentheses and quotes (one part per definition)."""
    parts: list[str] = []
    depth = 0
    quote = ""
    start = 0
    i = 0
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in "'\"`":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def create_table_columns(statement: str) -> list[str]:
    """Read the column names of a ``CREATE TABLE`` statement.

    Args:
        statement: The whole statement.

    Returns:
        The column names in order.
    """
    body = statement[statement.index("(") + 1 : statement.rindex(")")]
    columns: list[str] = []
    for definition in _split_top_level(body):
        if definition.startswith("`"):
            columns.append(definition[1 : definition.index("`", 1)])
            continue
        word = definition.split(None, 1)[0]
        if word.upper() not in _NOT_COLUMNS:
            columns.append(word.strip('"'))
    return columns


class InsertParser:
    """Parses the VALUES of one INSERT statement, fed line by line."""

    def __init__(self, add: Callable[[list[str | None]], None], width: int | None, origin: str) -> None:
        """Start a statement.

        Args:
            add: Where its rows go, one by one.
            width: The number of values each row must have, when known.
            origin: File and table, named in errors.
        """
        self.add = add
        self.width = width
        self.origin = origin
        self.pending = ""

    def feed(self, text: str) -> bool:
        """Parse more of the statement.

        Args:
            text: The next piece of text (a line, or the rest of the first line).

        Returns:
            True once the statement's closing ``;`` was read.

        Raises:
            DumpFormatError: On a syntax error or a row of the wrong width.
        """
        if self.pending:
            text = self.pending + text
            self.pending = ""
        pos = 0
        match_row = _ROW.match
        while (match := match_row(text, pos)) is not None:
            row = [
                unescape(quoted[1:-1]) if quoted else (None if word.upper() == "NULL" else word)
                for quoted, word in _FIELD.findall(match.group("body"))
            ]
            if self.width is not None and len(row) != self.width:
                raise DumpFormatError(
                    f"{self.origin}: a row has {len(row)} values but the table has {self.width} columns"
                )
            self.add(row)
            pos = match.end()
        rest = text[pos:]
        if _END.match(rest):
            return True
        stripped = rest.strip().lstrip(",").lstrip()
        if stripped and not stripped.startswith("("):
            raise DumpFormatError(f"{self.origin}: unexpected {stripped[:20]!r} in INSERT")
        self.pending = rest
        return False
