"""Shared fixtures: real archives on SQLite (a temp file) and PostgreSQL (127.0.0.1:5432).

Each PostgreSQL test gets its own schema in database `test`, so tests never see each
other's rows and the suite can run beside a benchmark or another checkout's CI.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from crawler.siteserver import SiteServer
from storage import Archive, ExtractedArticle, FetchRecord

PG_ADMIN_DSN = os.environ.get("NEWSARCHIVE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
from tests.corpus_path import CORPUS  # noqa: E402


def _pg_available() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


_PG_PROBLEM = _pg_available()


def require_pg() -> None:
    """Skip without PostgreSQL on a developer's machine; fail in CI, where it must be up."""
    if _PG_PROBLEM is None:
        return
    message = f"PostgreSQL not reachable at {PG_ADMIN_DSN}: {_PG_PROBLEM}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A database URL whose search_path is a fresh schema, dropped afterwards."""
    require_pg()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_ADMIN_DSN}?options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'archive.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'archive.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def archive(db_url: str) -> Iterator[Archive]:
    with Archive(db_url) as opened:
        yield opened


# ---------------------------------------------------------------------- corpus pages


@dataclass(frozen=True)
class CorpusPage:
    name: str
    html: bytes
    expected: str
    metadata: dict[str, object]

    def article(self, **overrides: object) -> ExtractedArticle:
        published = self.metadata.get("publishedTime")
        fields: dict[str, object] = {
            "title": self.metadata.get("title") or self.name,
            "text": self.expected,
            "authors": (str(self.metadata["byline"]),) if self.metadata.get("byline") else (),
            "published": _parse_date(published) if isinstance(published, str) else None,
            "language": self.metadata.get("lang"),
            "description": self.metadata.get("excerpt"),
            "site_name": self.metadata.get("siteName"),
        }
        fields.update(overrides)
        return ExtractedArticle(**fields)  # type: ignore[arg-type]


def _parse_date(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def load_corpus() -> list[CorpusPage]:
    if not CORPUS.is_dir():
        pytest.fail(f"corpus not found at {CORPUS} (set NEWSARCHIVE_CORPUS)")
    pages = []
    for folder in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        pages.append(
            CorpusPage(
                name=folder.name,
                html=(folder / "source.html").read_bytes(),
                expected=(folder / "expected.txt").read_text("utf-8"),
                metadata=json.loads((folder / "metadata.json").read_text("utf-8")),
            )
        )
    return pages


@pytest.fixture(scope="session")
def corpus() -> list[CorpusPage]:
    return load_corpus()


def fetch(
    url: str,
    article: ExtractedArticle | None,
    *,
    site: str = "example",
    body: bytes = b"<html><body>page</body></html>",
    final_url: str | None = None,
    status: int = 200,
    **extra: object,
) -> FetchRecord:
    """A FetchRecord with sensible defaults for tests."""
    return FetchRecord(
        site=site,
        url=url,
        final_url=final_url or url,
        status=status,
        body=body,
        article=article,
        **extra,  # type: ignore[arg-type]
    )


# The local news site for crawl tests (tests/corpus_site.py).
from tests.corpus_site import corpus_site  # noqa: E402, F401


@pytest.fixture
def demo() -> Iterator[SiteServer]:
    """The bundled demo newspaper (day 1) on 127.0.0.1, for crawl and scheduler tests."""
    from crawler.demo_site import demo_routes

    server = SiteServer({}).start()
    server.set_routes(demo_routes(server.url, day=1))
    try:
        yield server
    finally:
        server.stop()
