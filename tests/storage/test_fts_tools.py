"""The SQLite full-text index as standard data tools see it (issue 18, item 7): Datasette
finds it and searches the snapshots table with it, and FTS5's own `rebuild` (what
`sqlite-utils rebuild-fts` runs) leaves searches as they were; old versions never come up
as if current, on either database, whichever path the search takes."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import sqlite_utils
from datasette.app import Datasette
from datasette.utils import detect_fts

from storage import Archive, ExtractedArticle
from storage.engine import build_engine
from storage.migrate import upgrade
from tests.conftest import fetch
from tests.storage.downgrades import downgrade

STORY = "https://harbor.example/news/strike"


def _versions(archive: Archive) -> None:
    """A story edited twice (each version with a word of its own) and a second story."""
    for n, word in enumerate(("walkout", "stoppage", "agreement")):
        article = ExtractedArticle(
            title=f"Port {word} at the harbor",
            text=f"Dockers and the port authority: {word}. " * 20 + f"Edit {n}.",
        )
        archive.record_fetch(fetch(STORY, article))
    other = ExtractedArticle(title="Harbor ferry timetable", text="Ferries every hour. " * 20)
    archive.record_fetch(fetch("https://harbor.example/news/ferry", other))


def _searches(archive: Archive) -> dict[str, list[tuple[int, str]]]:
    return {
        query: [(h.article_id, h.title) for h in archive.search(query)]
        for query in ("walkout", "stoppage", "agreement", "harbor", "port OR ferry")
    }


def _path(url: str) -> str:
    return url.removeprefix("sqlite:///")


def test_datasette_finds_the_index_and_searches_snapshots(sqlite_url: str) -> None:
    with Archive(sqlite_url) as archive:
        _versions(archive)
    with sqlite3.connect(_path(sqlite_url)) as conn:
        assert detect_fts(conn, "snapshots") == "snapshot_fts"
    datasette = Datasette([_path(sqlite_url)], immutables=[])
    name = Path(_path(sqlite_url)).stem

    async def search(term: str) -> list[str]:
        answer = await datasette.client.get(
            f"/{name}/snapshots.json?_search={term}&_shape=array&_col=title"
        )
        assert answer.status_code == 200, answer.text
        return [row["title"] for row in answer.json()]

    # The snapshots table holds every version, and Datasette searches every one.
    assert asyncio.run(search("walkout")) == ["Port walkout at the harbor"]
    assert sorted(asyncio.run(search("harbor"))) == [
        "Harbor ferry timetable",
        "Port agreement at the harbor",
        "Port stoppage at the harbor",
        "Port walkout at the harbor",
    ]


def test_a_standard_rebuild_changes_no_search(sqlite_url: str) -> None:
    with Archive(sqlite_url) as archive:
        _versions(archive)
        before = _searches(archive)
        facets = archive.search_facets("harbor")
    assert before["walkout"] == [] and before["stoppage"] == []
    assert [title for _, title in before["agreement"]] == ["Port agreement at the harbor"]
    assert len(before["harbor"]) == 2
    sqlite_utils.Database(_path(sqlite_url))["snapshots"].rebuild_fts()
    with sqlite3.connect(_path(sqlite_url)) as conn:
        conn.execute("INSERT INTO snapshot_fts(snapshot_fts, rank) VALUES ('integrity-check', 1)")
    with Archive(sqlite_url) as archive:
        assert _searches(archive) == before
        assert archive.search_facets("harbor") == facets
        # And the index is kept as a rebuild would make it: a new version after it.
        archive.record_fetch(
            fetch(STORY, ExtractedArticle(title="Port deal signed", text="Signed. " * 40))
        )
        assert archive.search("agreement") == []
        assert [h.title for h in archive.search("signed")] == ["Port deal signed"]
    with sqlite3.connect(_path(sqlite_url)) as conn:
        conn.execute("INSERT INTO snapshot_fts(snapshot_fts, rank) VALUES ('integrity-check', 1)")


def test_old_versions_crowding_the_best_matches_do_not_shorten_a_page(db_url: str) -> None:
    """The fast path ranks inside FTS5 before joining the latest snapshots; when old
    versions (here ranked above every latest one) fill its candidates, the page must still
    be whole: the search takes the full path."""
    with Archive(db_url) as archive:
        for n in range(30):
            url = f"https://harbor.example/news/{n}"
            for edit in range(6):  # old versions say "harbor" far more often
                count = 40 if edit < 5 else 1
                article = ExtractedArticle(
                    title=f"Story {n} edit {edit}",
                    text=("harbor " * count) + f"filler words number {n} and {edit}. " * 30,
                )
                archive.record_fetch(fetch(url, article))
        first = archive.search("harbor", limit=20)
        rest = archive.search("harbor", limit=20, offset=20)
        assert archive.search_facets("harbor").total == 30
    assert len(first) == 20 and len(rest) == 10
    assert len({h.article_id for h in first + rest}) == 30
    assert all(h.title.endswith("edit 5") for h in first + rest)


def test_an_archive_indexed_before_0006_is_reindexed_by_the_migration(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    with Archive(url) as archive:
        _versions(archive)
        before = _searches(archive)
    engine = build_engine(url)
    try:
        downgrade(engine, "0005")
        with sqlite3.connect(tmp_path / "old.db") as conn:
            assert detect_fts(conn, "snapshots") is None  # content='snapshots' then
            assert conn.execute("SELECT count(*) FROM snapshot_fts_docsize").fetchone() == (2,)
        assert upgrade(engine) == "0005"
    finally:
        engine.dispose()
    with sqlite3.connect(tmp_path / "old.db") as conn:
        assert detect_fts(conn, "snapshots") == "snapshot_fts"
        assert conn.execute("SELECT count(*) FROM snapshot_fts_docsize").fetchone() == (4,)
    with Archive(url) as archive:
        assert _searches(archive) == before


def test_pages_of_tied_matches_neither_skip_nor_repeat(db_url: str) -> None:
    """150 identical wire copies rank exactly alike; the fast path's cut to its best
    candidates falls among them, which must not decide which copies a page shows."""
    copy = ExtractedArticle(title="Ferry strike called off", text="Ferry crews agree. " * 30)
    with Archive(db_url) as archive:
        for n in range(150):
            archive.record_fetch(fetch(f"https://wire{n}.example/ferry", copy, site=f"s{n % 5}"))
        pages = [archive.search("ferry", limit=20, offset=offset) for offset in range(0, 160, 20)]
        ids = [hit.article_id for page in pages for hit in page]
    assert len(ids) == len(set(ids)) == 150
    assert ids == sorted(ids)  # ties in article id order, as the full path orders them
