"""The shape book: what a site's URL shapes turned out to be, from the pages decided."""

from __future__ import annotations

import pytest

from crawler.analysis.shape_book import (
    BARREN_AFTER,
    DROP_AFTER,
    MIXED_AFTER,
    ShapeBook,
    ShapeCounts,
    ShapeKind,
)
from crawler.analysis.url_shapes import UrlShape, url_shape

SITE = "https://news.example"


def _shape(path: str) -> UrlShape:
    shape = url_shape(SITE + path)
    assert shape is not None
    return shape


def test_the_constants_the_rules_are_written_for() -> None:
    assert (DROP_AFTER, MIXED_AFTER, BARREN_AFTER) == (3, 10, 4)


@pytest.mark.parametrize(
    ("articles", "listings", "others", "kind"),
    [
        (0, 0, 0, ShapeKind.UNKNOWN),
        (1, 0, 0, ShapeKind.STORY),
        (1, 0, 1, ShapeKind.STORY),  # half the pages are stories
        (1, 0, 2, ShapeKind.UNKNOWN),  # a story among misses: not decided yet
        (0, 1, 0, ShapeKind.LISTING),
        (0, 1, 1, ShapeKind.LISTING),
        (1, 1, 0, ShapeKind.STORY),  # as many stories as listings: stories win
        (3, 4, 0, ShapeKind.LISTING),
        (2, 3, 4, ShapeKind.LISTING),
        (0, 0, DROP_AFTER - 1, ShapeKind.UNKNOWN),
        (0, 0, DROP_AFTER, ShapeKind.DROPPED),
        (2, 0, 8, ShapeKind.UNKNOWN),  # 10 pages, a fifth useful: not mixed enough
        (2, 0, 9, ShapeKind.DROPPED),  # 11 pages, under a fifth useful
        (0, 2, 9, ShapeKind.DROPPED),
        (0, 2, 8, ShapeKind.UNKNOWN),
    ],
)
def test_kind_of_counts(articles: int, listings: int, others: int, kind: ShapeKind) -> None:
    assert ShapeCounts(articles, listings, others).kind() is kind


def test_add_counts_verdicts_and_halves_past_saturation() -> None:
    counts = ShapeCounts()
    for verdict in ("article", "listing", "not_story", "gone"):
        counts.add(verdict)
    assert (counts.articles, counts.listings, counts.others, counts.gone) == (1, 1, 1, 1)
    assert counts.pages == 4
    big = ShapeCounts(600, 0, 400)
    big.add("article")  # 1001 pages
    assert (big.articles, big.listings, big.others) == (300, 0, 200)
    assert big.kind() is ShapeKind.STORY


def test_record_counts_the_fine_and_the_coarse_shape() -> None:
    book = ShapeBook()
    story = _shape("/world/2026/11/03/some-long-story-slug/")
    book.record(story, "article")
    book.record(story, "not_story")
    for key in (story.fine, story.coarse):
        counts = book.counts(key)
        assert counts is not None
        assert (counts.articles, counts.others) == (1, 1)
    # no section prefix: the coarse shape is the fine one, marked, and counted apart
    rootless = _shape("/2026/11/03/budget-talks/")
    book.record(rootless, "article")
    assert rootless.coarse == "~" + rootless.fine
    assert book.counts(rootless.fine) == book.counts(rootless.coarse) == ShapeCounts(1, 0, 0)
    assert book.counts("news.example/nothing/") is None


def test_kind_of_a_fine_shape() -> None:
    book = ShapeBook()
    tag = _shape("/tag/climate/")
    assert book.kind(tag) is ShapeKind.UNKNOWN
    book.record(tag, "listing")
    assert book.kind(_shape("/tag/energy/")) is ShapeKind.LISTING
    about = _shape("/about/")
    for _ in range(DROP_AFTER):
        book.record(about, "not_story")
    assert book.kind(about) is ShapeKind.DROPPED


def test_a_coarse_story_shape_carries_over_to_sections_the_site_has() -> None:
    book = ShapeBook()
    book.record(_shape("/world/2026/11/03/some-long-story-slug/"), "article")
    business = _shape("/business/2026/11/04/markets-rally-on-rate-cut/")
    # a section this site has not shown (a link copied from another site) gets nothing
    assert book.kind(business) is ShapeKind.UNKNOWN
    book.record(_shape("/business/"), "listing")
    assert book.kind(business) is ShapeKind.STORY
    assert book.fine_kind(business) is ShapeKind.UNKNOWN  # by the coarse shape only
    assert book.kind(_shape("/business/2026/11/04/budget-talks/")) is ShapeKind.UNKNOWN
    # a shape with no section prefix is its own coarse shape
    book.record(_shape("/2026/11/03/budget-talks/"), "article")
    assert book.kind(_shape("/2025/01/30/rates-rise/")) is ShapeKind.STORY


def test_sections_are_known_from_stored_counts() -> None:
    story = _shape("/world/2026/11/03/some-long-story-slug/")
    known = {
        story.fine: ShapeCounts(3, 0, 0),
        story.coarse: ShapeCounts(3, 0, 0),
        "news.example/business/": ShapeCounts(0, 2, 0),
        "news.example/about/": ShapeCounts(0, 0, 5),
    }
    book = ShapeBook(known)
    assert book.kind(_shape("/business/2026/11/04/markets-rally-on-rate-cut/")) is ShapeKind.STORY
    # a section of nothing but misses is no section of stories
    assert book.kind(_shape("/about/2026/11/04/markets-rally-on-rate-cut/")) is ShapeKind.UNKNOWN


def test_a_fine_kind_wins_over_the_coarse_story() -> None:
    book = ShapeBook()
    book.record(_shape("/world/x7k2p9"), "article")
    book.record(_shape("/video/"), "listing")
    video = _shape("/video/q8m3z1")
    assert book.kind(video) is ShapeKind.STORY  # by the coarse shape
    for _ in range(DROP_AFTER):
        book.record(_shape("/video/a1b2c3"), "gone")
    # the coarse shape now has 1 article in 4 pages; the fine one only misses
    assert book.kind(video) is ShapeKind.DROPPED


def test_coarse_listing_and_dropped_shapes_do_not_carry_over() -> None:
    book = ShapeBook()
    for section in ("world", "business", "sport", "culture"):
        book.record(_shape(f"/{section}/"), "listing")
    sections = book.counts("~news.example/{word}/")
    assert sections is not None and sections.kind() is ShapeKind.LISTING
    assert book.kind(_shape("/newsletters/")) is ShapeKind.UNKNOWN
    other = ShapeBook()
    for page in ("about", "contact", "privacy"):
        other.record(_shape(f"/tag/{page}x/"), "not_story")
        other.record(_shape(f"/{page}/"), "not_story")
    assert other.kind(_shape("/tag/climate/")) is ShapeKind.DROPPED  # its own fine shape
    assert other.kind(_shape("/topics/climate/")) is ShapeKind.UNKNOWN
    assert other.kind(_shape("/newsletters/")) is ShapeKind.UNKNOWN


def test_coarse_drops_do_not_reach_a_fine_shape_spelled_the_same() -> None:
    book = ShapeBook()
    for page in ("about", "contact", "privacy"):
        book.record(_shape(f"/{page}/"), "not_story")
    # /verylongwordwithoutseparators/ has never been fetched: nothing is known of it
    assert book.kind(_shape("/verylongwordwithoutseparators/")) is ShapeKind.UNKNOWN


def test_a_listing_shape_turns_barren_when_it_names_no_new_story() -> None:
    book = ShapeBook()
    tag = _shape("/tag/climate/")
    book.record(tag, "listing")
    for _ in range(BARREN_AFTER - 1):
        book.listing_yield(tag, 0)
    assert book.kind(tag) is ShapeKind.LISTING
    book.listing_yield(_shape("/tag/energy/"), 0)
    assert book.kind(tag) is ShapeKind.BARREN
    # one page that named a new story keeps it fruitful
    fruitful = ShapeBook()
    fruitful.record(tag, "listing")
    fruitful.listing_yield(tag, 1)
    for _ in range(BARREN_AFTER * 2):
        fruitful.listing_yield(tag, 0)
    assert fruitful.kind(tag) is ShapeKind.LISTING


def test_only_listing_shapes_turn_barren() -> None:
    book = ShapeBook()
    video = _shape("/video/x7k2p9")
    for _ in range(BARREN_AFTER * 2):
        book.listing_yield(video, 0)
    assert book.kind(video) is ShapeKind.UNKNOWN
    book.record(video, "article")
    assert book.kind(video) is ShapeKind.STORY


def test_barrenness_is_judged_per_run() -> None:
    tag = _shape("/tag/climate/")
    run = ShapeBook()
    run.record(tag, "listing")
    for _ in range(BARREN_AFTER):
        run.listing_yield(tag, 0)
    assert run.kind(tag) is ShapeKind.BARREN
    next_run = ShapeBook(run.changed())
    assert next_run.kind(tag) is ShapeKind.LISTING


def test_known_counts_are_copied_and_only_changes_are_reported() -> None:
    story = _shape("/world/2026/11/03/some-long-story-slug/")
    known = {
        story.fine: ShapeCounts(5, 0, 1),
        story.coarse: ShapeCounts(5, 0, 1),
        "news.example/about/": ShapeCounts(0, 0, 7),
    }
    book = ShapeBook(known)
    assert book.kind(_shape("/about/")) is ShapeKind.DROPPED
    assert book.changed() == {}
    book.record(story, "not_story")
    assert known[story.fine] == ShapeCounts(5, 0, 1)  # the caller's counts are untouched
    changed = book.changed()
    assert list(changed) == sorted([story.fine, story.coarse])
    assert changed[story.fine] == ShapeCounts(5, 0, 2)


def test_describe_ranks_by_pages_with_each_kind() -> None:
    book = ShapeBook()
    tag = _shape("/tag/climate/")
    book.record(tag, "listing")
    for _ in range(BARREN_AFTER):
        book.listing_yield(tag, 0)
    story = _shape("/2026/11/03/budget-talks/")
    book.record(story, "article")
    book.record(story, "article")
    described = list(book.describe())
    assert described[0] == (story.fine, ShapeKind.STORY, ShapeCounts(2, 0, 0))
    assert (tag.fine, ShapeKind.BARREN, ShapeCounts(0, 1, 0)) in described
    assert described[1] == (story.coarse, ShapeKind.STORY, ShapeCounts(2, 0, 0))
    assert [shape for shape, _, _ in described[2:]] == sorted([tag.fine, tag.coarse])


def test_productive_listing_shapes() -> None:
    book = ShapeBook()
    tag = _shape("/tag/climate/")
    assert book.productive(tag) is None  # no page of it seen in this run
    book.listing_yield(tag, 0)
    assert book.productive(tag) is False
    book.listing_yield(_shape("/tag/energy/"), 2)
    assert book.productive(tag) is True
    assert book.productive(_shape("/topics/climate/")) is None


def test_dead_links_of_the_story_template_do_not_outvote_its_stories() -> None:
    """Expired wire copy keeps the story URL scheme and answers 404: the shape stays a
    story shape; a shape of nothing but 404s is still dropped."""
    book = ShapeBook()
    story = _shape("/world/2026/11/03/some-long-story-slug/")
    for _ in range(2):
        book.record(story, "article")
    for _ in range(10):
        book.record(story, "gone")
    assert book.kind(story) is ShapeKind.STORY
    dead = _shape("/users/somebody")
    for _ in range(DROP_AFTER):
        book.record(dead, "gone")
    assert book.kind(dead) is ShapeKind.DROPPED
