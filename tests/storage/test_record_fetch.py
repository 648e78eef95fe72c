"""The write entry point on both databases: identity, versions, blobs, duplicates, bad input."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from storage import Archive, ExtractedArticle, InvalidFetchError, Outcome
from tests.conftest import fetch
from tests.corpus import CorpusPage

URL = "https://www.example.com/2026/11/02/port-strike.html"

A = ExtractedArticle(
    title="Port strike ends after nine days",
    text="Dock workers returned to work on Monday.\nThe strike halted 40 ships.",
    authors=("Mara Lindqvist",),
    published=datetime(2026, 11, 2, 7, 30, tzinfo=UTC),
    language="en",
)
B = dataclasses.replace(A, title="Port strike ends as workers win pay rise")


def _count(archive: Archive, table: str) -> int:
    with archive.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_first_fetch_creates_article_and_same_content_only_touches(archive: Archive) -> None:
    first = archive.record_fetch(fetch(URL, A, body=b"<html>v1</html>"))
    assert (first.outcome, first.version) == (Outcome.NEW_ARTICLE, 1)
    before = archive.article(URL)
    again = archive.record_fetch(fetch(URL, A, body=b"<html>v1 with a new ad</html>", etag='"abc"'))
    assert (again.outcome, again.version) == (Outcome.UNCHANGED, 1)
    after = archive.article(URL)
    assert after.versions == 1
    assert after.last_seen > before.last_seen
    assert after.last_checked > before.last_checked
    assert _count(archive, "snapshots") == 1
    assert _count(archive, "blobs") == 1  # the unchanged fetch's HTML is not kept


def test_a_b_a_is_three_versions_with_changed_fields(archive: Archive) -> None:
    outcomes = [archive.record_fetch(fetch(URL, art)) for art in (A, B, A)]
    assert [o.outcome for o in outcomes] == [
        Outcome.NEW_ARTICLE,
        Outcome.NEW_VERSION,
        Outcome.NEW_VERSION,
    ]
    history = archive.history(URL)
    assert [v.version for v in history] == [1, 2, 3]
    assert [v.changed_fields for v in history] == [[], ["title"], ["title"]]
    assert history[0].content_hash == history[2].content_hash != history[1].content_hash
    assert archive.snapshot(URL).title == A.title
    assert archive.snapshot(URL, version=2).title == B.title


def test_whitespace_only_change_is_not_a_version(archive: Archive) -> None:
    archive.record_fetch(fetch(URL, A))
    spaced = dataclasses.replace(A, text=A.text.replace(" ", "  ") + "\n\n")
    assert archive.record_fetch(fetch(URL, spaced)).outcome is Outcome.UNCHANGED


def test_several_fields_changed_are_all_recorded(archive: Archive) -> None:
    archive.record_fetch(fetch(URL, A))
    edited = dataclasses.replace(
        A,
        text=A.text.replace("40", "41"),
        authors=("Mara Lindqvist", "Tom Okafor"),
        modified=datetime(2026, 11, 2, 15, 0, tzinfo=UTC),
    )
    result = archive.record_fetch(fetch(URL, edited))
    assert result.changed_fields == ("text", "authors", "modified")
    assert archive.history(URL)[-1].changed_fields == ["text", "authors", "modified"]


def test_url_variants_are_one_article_and_all_find_it(archive: Archive) -> None:
    variants = [
        URL + "?utm_source=twitter&utm_medium=social",
        URL.replace("https://www.example.com", "HTTPS://WWW.EXAMPLE.COM:443") + "#comments",
        URL + "?fbclid=abc",
    ]
    results = [archive.record_fetch(fetch(v, A)) for v in variants]
    assert {r.article_id for r in results} == {results[0].article_id}
    assert _count(archive, "articles") == 1
    for variant in [*variants, URL, URL + "?gclid=1", str(results[0].article_id)]:
        assert archive.resolve(variant) == results[0].article_id


def test_amp_variant_with_same_site_canonical_is_the_same_story(archive: Archive) -> None:
    first = archive.record_fetch(fetch(URL, dataclasses.replace(A, canonical_url=URL)))
    amp_url = "https://amp.example.com/2026/11/02/port-strike.html"
    amp = archive.record_fetch(fetch(amp_url, dataclasses.replace(A, canonical_url=URL)))
    assert amp.article_id == first.article_id
    assert amp.outcome is Outcome.UNCHANGED
    assert archive.resolve(amp_url) == first.article_id


def test_canonical_declared_later_still_finds_the_story(archive: Archive) -> None:
    printed = "https://www.example.com/print/port-strike"
    first = archive.record_fetch(fetch(printed, A))
    later = archive.record_fetch(fetch(printed, dataclasses.replace(A, canonical_url=URL)))
    assert later.article_id == first.article_id
    assert archive.resolve(URL) == first.article_id


def test_foreign_canonical_does_not_merge_sites(archive: Archive) -> None:
    ours = archive.record_fetch(fetch(URL, A))
    theirs = archive.record_fetch(
        fetch(
            "https://copycat.example.org/story",
            dataclasses.replace(A, canonical_url=URL),
            site="copycat",
        )
    )
    assert theirs.article_id != ours.article_id


def test_redirect_final_url_is_the_identity(archive: Archive) -> None:
    result = archive.record_fetch(fetch("https://example.com/s/abc", A, final_url=URL))
    assert result.canonical_url == URL
    assert archive.resolve("https://example.com/s/abc") == result.article_id


def test_not_modified_counts_as_a_check(archive: Archive) -> None:
    created = archive.record_fetch(fetch(URL, A))
    checked = archive.record_fetch(fetch(URL + "?utm_source=x", None, status=304, body=b""))
    assert (checked.outcome, checked.article_id) == (Outcome.UNCHANGED, created.article_id)
    unknown = archive.record_fetch(fetch("https://example.com/new", None, status=304, body=b""))
    assert unknown.outcome is Outcome.NOT_ARTICLE


def test_not_article_pages_write_nothing(archive: Archive) -> None:
    for record in (
        fetch("https://www.example.com/world/", None),
        fetch(URL, A, status=404),
        fetch(URL, ExtractedArticle(title="  ", text="\n")),
    ):
        assert archive.record_fetch(record).outcome is Outcome.NOT_ARTICLE
    assert _count(archive, "articles") == 0


def test_blobs_are_stored_once_and_round_trip(archive: Archive) -> None:
    body = b"<html><body>" + b"shared wire page " * 500 + b"</body></html>"
    archive.record_fetch(fetch(URL, A, body=body))
    archive.record_fetch(fetch("https://www.example.com/other", B, body=body))
    archive.record_fetch(fetch(URL, B, body=body))
    assert _count(archive, "snapshots") == 3
    assert _count(archive, "blobs") == 1
    assert archive.raw_html(URL, 1) == body
    assert archive.stats()["stored_html_bytes"] < len(body) / 10


def test_near_duplicates_share_a_group(archive: Archive, corpus: list[CorpusPage]) -> None:
    page = next(p for p in corpus if p.name == "bbc-1")
    other = next(p for p in corpus if p.name == "ars-1")
    wire = archive.record_fetch(fetch("https://news.example.com/a", page.article(), site="one"))
    copy_text = "By Wire Staff.\n" + page.expected.replace("the", "a", 3) + "\n(Reporting by X)"
    copy = archive.record_fetch(
        fetch(
            "https://other.example.org/b",
            page.article(text=copy_text, title="Another headline"),
            site="two",
        )
    )
    unrelated = archive.record_fetch(fetch("https://news.example.com/c", other.article()))
    group_of = {
        r.article_id: archive.article(r.article_id).duplicate_group for r in (wire, copy, unrelated)
    }
    assert group_of[wire.article_id] == group_of[copy.article_id] == wire.article_id
    assert group_of[unrelated.article_id] == unrelated.article_id
    assert archive.stats()["duplicate_groups"] == 1
    # When the copy is rewritten into a different story it leaves the group.
    archive.record_fetch(
        fetch(
            "https://other.example.org/b", other.article(text=other.expected + " more"), site="two"
        )
    )
    assert archive.article(copy.article_id).duplicate_group != wire.article_id


def test_batch_rejects_bad_records_and_keeps_the_rest(archive: Archive) -> None:
    results = archive.record_fetches(
        [
            fetch(URL, A),
            fetch("not a url", A),
            fetch("ftp://example.com/x", A),
            fetch("https://www.example.com/b", B, site=""),
            fetch("https://www.example.com/c", B),
        ]
    )
    assert [r.outcome for r in results] == [
        Outcome.NEW_ARTICLE,
        Outcome.REJECTED,
        Outcome.REJECTED,
        Outcome.REJECTED,
        Outcome.NEW_ARTICLE,
    ]
    assert "url" in (results[1].error or "")
    assert "site" in (results[3].error or "")
    with pytest.raises(InvalidFetchError, match="url"):
        archive.record_fetch(fetch("javascript:alert(1)", A))


def test_hostile_text_and_bytes_are_stored_safely(archive: Archive) -> None:
    nasty = ExtractedArticle(
        title="Nul\x00 byte and lone surrogate \ud800 in title",
        text="Body with \x00 NUL and \udcff surrogate and emoji 📰",
        authors=("A\x00uthor",),
    )
    body = bytes(range(256)) * 4  # not decodable as UTF-8
    result = archive.record_fetch(fetch(URL, nasty, body=body))
    assert result.outcome is Outcome.NEW_ARTICLE
    snap = archive.snapshot(URL)
    assert "\x00" not in snap.title + snap.text
    assert "📰" in snap.text
    assert archive.raw_html(URL) == body


def test_empty_and_huge_bodies(archive: Archive) -> None:
    empty = archive.record_fetch(fetch(URL, A, body=b""))
    assert empty.outcome is Outcome.NEW_ARTICLE
    assert archive.raw_html(URL) == b""
    big_body = (b"<p>" + b"x" * 1000 + b"</p>\n") * 5200  # about 5 MB
    big_text = "\n".join(f"Paragraph {i} of a very long story." for i in range(20000))
    big = archive.record_fetch(
        fetch(
            "https://www.example.com/long",
            ExtractedArticle(title="Long", text=big_text),
            body=big_body,
        )
    )
    assert big.outcome is Outcome.NEW_ARTICLE
    assert archive.raw_html("https://www.example.com/long") == big_body
    assert archive.snapshot("https://www.example.com/long").text == big_text


def test_runs_are_recorded(archive: Archive) -> None:
    run = archive.start_run("example", "manual")
    archive.record_fetch(fetch(URL, A, run_id=run))
    archive.finish_run(run, "succeeded", {"new_article": 1})
    (view,) = archive.runs()
    assert (view.site, view.trigger, view.status, view.counters) == (
        "example",
        "manual",
        "succeeded",
        {"new_article": 1},
    )
    assert view.finished_at is not None and view.finished_at >= view.started_at
    with pytest.raises(ValueError, match="trigger"):
        archive.start_run("example", "cron")


def test_redirect_source_never_decides_identity(archive: Archive) -> None:
    x = archive.record_fetch(fetch("https://www.example.com/latest", A, final_url=URL))
    other = "https://www.example.com/2026/11/03/library.html"
    y = archive.record_fetch(fetch("https://www.example.com/latest", B, final_url=other))
    assert y.outcome is Outcome.NEW_ARTICLE and y.article_id != x.article_id
    assert archive.snapshot(URL).title == A.title  # untouched by the second fetch
    assert archive.resolve("https://www.example.com/latest") == y.article_id  # newest target
    # A page later served at the redirect's own address is a story of its own.
    z = archive.record_fetch(
        fetch("https://www.example.com/latest", dataclasses.replace(A, title="Live"))
    )
    assert z.article_id not in (x.article_id, y.article_id)
    assert archive.resolve("https://www.example.com/latest") == z.article_id


def test_last_seen_never_moves_back(archive: Archive) -> None:
    archive.record_fetch(fetch(URL, A, fetched_at=datetime(2026, 11, 5, tzinfo=UTC)))
    archive.record_fetch(fetch(URL, A, fetched_at=datetime(2026, 11, 1, tzinfo=UTC)))
    view = archive.article(URL)
    assert view.last_seen == datetime(2026, 11, 5, tzinfo=UTC)
    assert view.first_seen <= view.last_seen


def test_authors_given_as_one_string_are_rejected(archive: Archive) -> None:
    bad = dataclasses.replace(A, authors="Jane Doe")  # type: ignore[arg-type]
    (result,) = archive.record_fetches([fetch(URL, bad)])
    assert result.outcome is Outcome.REJECTED and "authors" in (result.error or "")


def test_overlong_language_is_dropped_not_fatal(archive: Archive) -> None:
    result = archive.record_fetch(fetch(URL, dataclasses.replace(A, language="x" * 40)))
    assert result.outcome is Outcome.NEW_ARTICLE
    assert archive.snapshot(URL).language is None


def test_huge_body_of_distinct_words_is_indexed(archive: Archive) -> None:
    words = " ".join(f"w{i:07d}" for i in range(250_000))  # 2.25 MB, beyond a 1 MB tsvector
    result = archive.record_fetch(fetch(URL, dataclasses.replace(A, text=words)))
    assert result.outcome is Outcome.NEW_ARTICLE
    assert [h.url for h in archive.search("w0000042")] == [URL]


def test_database_failures_propagate_instead_of_rejecting(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    import storage.archive

    def down(*_: object) -> None:
        raise OperationalError("INSERT", {}, sqlite3.OperationalError("disk I/O error"))

    monkeypatch.setattr(storage.archive, "write_prepared", down)
    with pytest.raises(OperationalError):
        archive.record_fetches([fetch(URL, A), fetch("https://www.example.com/b", B)])


def test_run_start_retry_does_not_reuse_a_rolled_back_site(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    import storage.archive

    real_insert = storage.archive.insert
    calls: list[int] = []

    def flaky_insert(table: object) -> object:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))
        return real_insert(table)  # type: ignore[arg-type]

    monkeypatch.setattr(storage.archive, "insert", flaky_insert)
    run_id = archive.start_run("brand-new-site", "manual")
    assert archive.runs(site="brand-new-site")[0].id == run_id


def test_prepared_elsewhere_records_the_same(archive: Archive) -> None:
    import pickle

    from storage.prepare import prepare

    body = b"<html>" + b"a wire page " * 200 + b"</html>"
    shipped = pickle.loads(pickle.dumps(prepare(fetch(URL, A, body=body)).precompute()))
    assert shipped.compressed is not None
    (result,) = archive.record_fetches([shipped])
    assert result.outcome is Outcome.NEW_ARTICLE
    assert archive.raw_html(URL) == body
    again = prepare(fetch(URL, A, body=body)).precompute()
    assert archive.record_fetches([again, fetch(URL, B)])[1].outcome is Outcome.NEW_VERSION


def test_stats_count_a_site_without_articles_as_zero(archive: Archive) -> None:
    run = archive.start_run("empty-site")
    archive.finish_run(run, "succeeded")
    archive.record_fetch(
        fetch("https://a.example/news/1.html", ExtractedArticle(title="One", text="Body " * 30))
    )
    per_site = archive.stats()["per_site"]
    assert per_site["empty-site"] == 0
    assert sum(per_site.values()) == archive.stats()["articles"]
