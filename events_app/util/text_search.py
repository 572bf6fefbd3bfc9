"""Substring search in SQL that means the same on SQLite and PostgreSQL.

The visitor's text is matched literally and ignoring case: `%`, `_` and `\\` in it are escaped,
so a search for "50%" finds "50%" and not everything that starts with 50.
"""

from __future__ import annotations

from sqlalchemy import func, or_
from sqlalchemy.sql.elements import ColumnElement


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains_text(text: str, *columns) -> ColumnElement[bool]:
    """Any of `columns` contains `text` (trimmed), ignoring letter case."""
    pattern = f"%{escape_like(text.strip().lower())}%"
    return or_(*(func.lower(c).like(pattern, escape="\\") for c in columns))
