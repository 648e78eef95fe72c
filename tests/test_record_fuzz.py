"""Arbitrary bytes, strings and headers never break the write path or the archive."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from storage import Archive, ExtractedArticle, FetchRecord, InvalidFetchError, Outcome

_text = st.text(max_size=300)
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


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    url=_urls,
    status=st.integers(min_value=0, max_value=999),
    body=st.binary(max_size=2000),
    article=st.one_of(st.none(), _articles),
    etag=st.one_of(st.none(), _text),
)
def test_any_fetch_is_recorded_or_rejected_cleanly(
    fuzz_archive: Archive,
    url: str,
    status: int,
    body: bytes,
    article: ExtractedArticle | None,
    etag: str | None,
) -> None:
    record = FetchRecord(
        site="fuzz", url=url, final_url=url, status=status, body=body, article=article, etag=etag
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
        assert fuzz_archive.raw_html(batched.article_id or 0) == body
    # Recording the same fetch again never makes another version.
    again = fuzz_archive.record_fetch(record)
    assert again.outcome in (Outcome.UNCHANGED, Outcome.NOT_ARTICLE)
