"""A fresh PostgreSQL schema per test or benchmark: an empty archive on a shared server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

__all__ = ["fresh_schema"]


@contextmanager
def fresh_schema(admin_dsn: str, prefix: str = "t") -> Iterator[str]:
    """A database URL whose search_path is a new schema, dropped afterwards."""
    import psycopg

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{admin_dsn}?options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
