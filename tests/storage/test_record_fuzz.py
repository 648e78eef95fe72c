"""Arbitrary bytes, strings and headers never break the write path or the archive."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from storage import Archive, ExtractedArticle, FetchRecord, InvalidFetchError, Outcome

# Controls, NULs and lone surrogates included: JSON-LD escapes and latin-1-decoded headers
# deliver them, and no database stores the last two as they are.
_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=300)
_articles = st.builds(
    ExtractedArticle,
    title=st.one_of(st.none(), _text),
    text=_text,
    authors=st.lists(_text, max_size=3).map(tuple),
    published=st.one_of(st.none(), st.datetimes(min_value=datetime(1900, 1, 1))),
    language=st.one_of(st.none(), st.text(max_size=40)),
    canonical_url=st.one_of(st.none(), _text, st.just("https://news.example.com/a")),
    tags=st.lists(_text, max_size=3).map(tuple),
)
_urls = st.one_of(
    st.just("https://news.example.com/a"),
    st.builds(lambda p: f"https://news.example.com/{p}", _text),
    _text,
)


@pytest.fixture(scope="module")
def fuzz_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    with Archive(f"sqlite:///{path}") as archive:
        yield archive


@given(
    url=_urls,
    status=st.integers(min_value=0, max_value=999),
    body=st.binary(max_size=2000),
    article=st.one_of(st.none(), _articles),
    etag=st.one_of(st.none(), _text),
    last_modified=st.one_of(st.none(), _text),
)
def test_any_fetch_is_recorded_or_rejected_cleanly(
    fuzz_archive: Archive,
    url: str,
    status: int,
    body: bytes,
    article: ExtractedArticle | None,
    etag: str | None,
    last_modified: str | None,
) -> None:
    record = FetchRecord(
        site="fuzz",
        url=url,
        final_url=url,
        status=status,
        body=body,
        article=article,
        etag=etag,
        last_modified=last_modified,
    )
    (batched,) = fuzz_archive.record_fetches([record])
    assert batched.outcome in set(Outcome)
    if batched.outcome is Outcome.REJECTED:
        with pytest.raises(InvalidFetchError):
            fuzz_archive.record_fetch(record)
        return
    if batched.outcome in (Outcome.NEW_ARTICLE, Outcome.NEW_VERSION):
        snapshot = fuzz_archive.snapshot(batched.article_id or 0)
        assert "\x00" not in snapshot.title + snapshot.text
        (snapshot.title + snapshot.text).encode("utf-8")  # no lone surrogates
        assert fuzz_archive.raw_html(batched.article_id or 0) == body
    # Recording the same fetch again never makes another version.
    again = fuzz_archive.record_fetch(record)
    assert again.outcome in (Outcome.UNCHANGED, Outcome.NOT_ARTICLE)


def test_unstorable_validators_and_urls_do_not_lose_the_story(archive: Archive) -> None:
    """Regression, on both databases: an ETag with a NUL made PostgreSQL reject the whole
    story, and a lone surrogate in an ETag or URL raised instead of being handled. Such
    validators are dropped (the next fetch is unconditional); such a URL is rejected."""
    article = ExtractedArticle(title="Ferry timetable", text="The council met again.")
    for number, (etag, last_modified) in enumerate(
        [('"a\x00b"', None), ('"\ud800"', "Tue, 03 Nov 2026 08:00:00 G\udcffT"), ('"ok"', None)]
    ):
        url = f"https://news.example.com/story-{number}"
        result = archive.record_fetch(
            FetchRecord(
                site="s", url=url, final_url=url, status=200, body=b"<p>x</p>", article=article,
                etag=etag, last_modified=last_modified,
            )
        )  # fmt: skip
        assert result.outcome is Outcome.NEW_ARTICLE
    assert sorted(archive.validators("s")) == [("https://news.example.com/story-2", '"ok"', None)]
    bad = FetchRecord(site="s", url="https://news.example.com/\ud800", final_url="", status=200)
    (batched,) = archive.record_fetches([bad])
    assert batched.outcome is Outcome.REJECTED
