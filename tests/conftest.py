"""Shared fixtures: real archives on SQLite (a temp file) and PostgreSQL (127.0.0.1:5432).

Each PostgreSQL test gets its own schema in database `test`, so tests never see each
other's rows and the suite can run beside a benchmark or another checkout's CI.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, settings

from crawler.demo.siteserver import SiteServer
from storage import Archive, ExtractedArticle, FetchRecord
from tests.corpus import CorpusPage, bundled_pages, full_corpus_pages, missing_full_corpus
from tests.pg_schema import fresh_schema

# Property tests take their budget from a profile, not from settings written in each test:
# `make test` runs "default", `make test-fast` "fast" (--hypothesis-profile), and
# `--hypothesis-profile=thorough` is there for a long hunt after a change to a parser.
# No deadlines and no too_slow check: analysis examples run trafilatura, whose time per
# page says nothing about correctness and varies with the machine's load.
_PROPERTY_TESTS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("default", max_examples=150, **_PROPERTY_TESTS)
settings.register_profile("fast", max_examples=15, **_PROPERTY_TESTS)
settings.register_profile("thorough", max_examples=2000, **_PROPERTY_TESTS)
settings.load_profile("default")

PG_ADMIN_DSN = os.environ.get("NEWSARCHIVE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that take the PostgreSQL fixture carry the `postgres` marker (for -m)."""
    for item in items:
        if "pg_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A database URL whose search_path is a fresh schema, dropped afterwards."""
    require_pg()
    with fresh_schema(PG_ADMIN_DSN) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'archive.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'archive.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def archive(db_url: str) -> Iterator[Archive]:
    with Archive(db_url) as opened:
        yield opened


# ---------------------------------------------------------------------- corpus pages


@pytest.fixture(scope="session")
def corpus() -> list[CorpusPage]:
    """The bundled subset of real pages (tests/data/corpus): there on every clone."""
    return list(bundled_pages())


@pytest.fixture(scope="session")
def full_corpus() -> list[CorpusPage]:
    """All 81 real pages, read from outside the repository; skipped when absent."""
    problem = missing_full_corpus()
    if problem is not None:
        pytest.skip(problem)
    return list(full_corpus_pages())


@pytest.fixture(
    scope="session",
    params=[
        pytest.param("bundled"),
        pytest.param("full", marks=pytest.mark.slow),
    ],
)
def every_corpus(request: pytest.FixtureRequest) -> list[CorpusPage]:
    """For rules that must hold on every real page: the bundled subset, then the full
    corpus when it is there (skipped with one line otherwise)."""
    name = "corpus" if request.param == "bundled" else "full_corpus"
    pages: list[CorpusPage] = request.getfixturevalue(name)
    return pages


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
    from crawler.demo.newspaper import demo_routes

    server = SiteServer({}).start()
    server.set_routes(demo_routes(server.url, day=1))
    try:
        yield server
    finally:
        server.stop()
