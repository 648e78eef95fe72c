"""Versioning rules: which differences make a new version, and which fields changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, strategies as st

from storage.records import ExtractedArticle
from storage.versioning import changed_fields, normalize_article, normalize_line, normalize_text

BASE = ExtractedArticle(
    title="Port strike ends",
    text="First paragraph.\nSecond paragraph.",
    authors=("Mara Lindqvist",),
    published=datetime(2026, 11, 2, 7, 30, tzinfo=UTC),
)


def _hash(article: ExtractedArticle) -> str:
    return normalize_article(article).content_hash


def test_whitespace_and_unicode_forms_do_not_make_a_version() -> None:
    variant = ExtractedArticle(
        title="  Port\u00a0strike   ends ",  # no-break space, extra spaces
        text="First   paragraph.\n\n\n  Second paragraph.\u200b\n",  # blank lines, zero-width
        authors=("Mara  Lindqvist",),
        published=datetime(2026, 11, 2, 8, 30, tzinfo=timezone(timedelta(hours=1))),
    )
    assert _hash(variant) == _hash(BASE)


def test_fullwidth_characters_fold_under_nfkc() -> None:
    assert normalize_line("ＡＢＣ　１２３") == "ABC 123"


def test_paragraph_breaks_are_kept() -> None:
    assert normalize_text("a\n\nb") == "a\nb"
    joined = ExtractedArticle(title=BASE.title, text="First paragraph. Second paragraph.")
    split = ExtractedArticle(title=BASE.title, text="First paragraph.\nSecond paragraph.")
    assert _hash(joined) != _hash(split)


def test_each_versioned_field_changes_the_hash_and_is_named() -> None:
    base = normalize_article(BASE)
    cases = {
        "title": ExtractedArticle(**{**_fields(BASE), "title": "Port strike over"}),
        "text": ExtractedArticle(**{**_fields(BASE), "text": "First paragraph."}),
        "authors": ExtractedArticle(**{**_fields(BASE), "authors": ("Tom Okafor",)}),
        "published": ExtractedArticle(
            **{**_fields(BASE), "published": datetime(2026, 11, 3, tzinfo=UTC)}
        ),
        "modified": ExtractedArticle(
            **{**_fields(BASE), "modified": datetime(2026, 11, 3, tzinfo=UTC)}
        ),
    }
    for name, article in cases.items():
        other = normalize_article(article)
        assert other.content_hash != base.content_hash, name
        assert changed_fields(base.field_hashes(), other.field_hashes()) == (name,)


def test_unversioned_fields_do_not_change_the_hash() -> None:
    variant = ExtractedArticle(
        **{**_fields(BASE), "description": "new", "image": "https://e.com/i.png", "tags": ("x",)}
    )
    assert _hash(variant) == _hash(BASE)


def test_first_version_has_no_changed_fields() -> None:
    assert changed_fields(None, normalize_article(BASE).field_hashes()) == ()


def _fields(article: ExtractedArticle) -> dict[str, object]:
    return {name: getattr(article, name) for name in article.__slots__}  # type: ignore[attr-defined]


@given(st.text())
def test_normalization_is_idempotent(value: str) -> None:
    once = normalize_text(value)
    assert normalize_text(once) == once
    assert normalize_line(normalize_line(value)) == normalize_line(value)


def test_a_version_made_by_another_extractor_is_a_re_extraction(db_url: str) -> None:
    """A trafilatura upgrade (another extractor name) changes what an unchanged page
    yields: recorded, but as a re-extraction, kept out of the edits lists. A change under
    the extractor that last read the page (unchanged or not) is an edit, and so is one
    without an extractor."""
    from storage import Archive, ExtractedArticle, Outcome
    from tests.conftest import fetch

    url = "https://news.example/story"

    def record(archive: Archive, text: str, extractor: str | None) -> Outcome:
        article = ExtractedArticle(title="Harbor story", text=text * 20)
        return archive.record_fetch(fetch(url, article, extractor=extractor)).outcome

    old, new, other = (f"news: trafilatura {v}, options a" for v in ("2.0.0", "2.1.0", "2.2.0"))
    with Archive(db_url) as archive:
        assert record(archive, "First words. ", old) is Outcome.NEW_ARTICLE
        # The first fetch after an upgrade extracts differently: a re-extraction.
        assert record(archive, "First words! ", new) is Outcome.RE_EXTRACTED
        # Another upgrade that yields the same: unchanged, and remembered, so that
        assert record(archive, "First words! ", other) is Outcome.UNCHANGED
        # the publisher's edit weeks later is an edit, not taken for the upgrade.
        assert record(archive, "Edited words. ", other) is Outcome.NEW_VERSION
        assert record(archive, "Edited again. ", None) is Outcome.NEW_VERSION
        causes = [(v.version, v.cause) for v in archive.history(url)]
        assert causes == [(1, None), (2, "re-extraction"), (3, "edit"), (4, "edit")]
        assert [c.version for c in archive.recent_changes()] == [4, 3]
        edited = archive.snapshot(url, 3)
        assert (edited.extractor, edited.cause) == (other, "edit")
