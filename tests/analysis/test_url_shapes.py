"""URL shapes: path templates that group a site's URLs by kind, and the generic guesses
(story, pagination) made before a site has taught the crawler anything."""

from __future__ import annotations

import pytest

from crawler.analysis.url_shapes import (
    UrlShape,
    looks_like_pagination,
    looks_like_story,
    url_shape,
)

SITE = "https://news.example"


def _shape(path: str) -> UrlShape:
    shape = url_shape(SITE + path)
    assert shape is not None
    return shape


@pytest.mark.parametrize(
    ("path", "fine", "coarse"),
    [
        (
            "/world/2026/11/03/some-long-story-slug/",
            "news.example/world/{yyyy}/{nn}/{nn}/{slug}/",
            "~news.example/{word}/{yyyy}/{nn}/{nn}/{slug}/",
        ),
        ("/tag/climate/", "news.example/tag/{word}/", "~news.example/{word}/{word}/"),
        ("/about/", "news.example/about/", "~news.example/{word}/"),
        ("/world/page/2/", "news.example/world/{word}/{nn}/", "~news.example/{word}/{word}/{nn}/"),
        # no first segment to keep: the coarse shape is the fine one, marked
        (
            "/2026/11/03/budget-talks-resume/",
            "news.example/{yyyy}/{nn}/{nn}/{words}/",
            "~news.example/{yyyy}/{nn}/{nn}/{words}/",
        ),
        ("/", "news.example/", "~news.example/"),
        ("", "news.example/", "~news.example/"),
    ],
)
def test_fine_and_coarse_shapes(path: str, fine: str, coarse: str) -> None:
    assert _shape(path) == UrlShape(fine=fine, coarse=coarse)


@pytest.mark.parametrize(
    ("segment", "element"),
    [
        ("2026", "{yyyy}"),
        ("1999", "{yyyy}"),
        ("2100", "{id}"),  # not a 19xx/20xx year
        ("7", "{nn}"),
        ("03", "{nn}"),
        ("123", "{id}"),
        ("20261103", "{date}"),
        ("20261399", "{id}"),  # eight digits but no month 13
        ("2026-11-03", "{date}"),
        ("98765432", "{id}"),
        ("some-long-story-slug", "{slug}"),
        ("five_words_in_this_slug", "{slug}"),
        ("budget-talks-resume", "{words}"),
        ("jane-doe", "{words}"),
        ("climate", "{word}"),
        ("x7k2p9", "{token}"),
        ("police-say-suspect-arrested-4817263", "{slug+id}"),
        ("storm-warning-20391", "{words+id}"),
        ("article-123456", "{token+id}"),
        ("story-123", "{token}"),  # a three-digit number is no id
        ("index.html", "{word}.html"),
        ("some-long-story-slug.HTML", "{slug}.html"),
        ("article-123456.php", "{token+id}.php"),
        ("photo.jpg", "{words}"),  # not a page extension: just another token
    ],
)
def test_segment_templates(segment: str, element: str) -> None:
    # The second segment: the first of a path may be kept literally as a section.
    assert _shape(f"/news/{segment}").coarse == f"~news.example/{{word}}/{element}"


def test_words_and_ids_do_not_matter_their_counts_do() -> None:
    a = _shape("/world/2026/11/03/some-long-story-slug/")
    b = _shape("/world/2025/01/30/another-story-about-something-else-entirely/")
    assert a == b
    assert _shape("/world/2026/11/03/budget-talks/") != a  # 2 words, not 4+
    assert _shape("/world/2026/11/03/some-long-story-slug") != a  # no trailing slash
    assert _shape("/world/2026/11/some-long-story-slug/") != a  # one date segment fewer


def test_section_prefix_only_in_the_fine_shape() -> None:
    world = _shape("/world/2026/11/03/some-long-story-slug/")
    business = _shape("/Business/2026/11/03/markets-rally-on-rate-cut/")
    assert world.fine != business.fine
    assert business.fine.startswith("news.example/business/")  # lower-cased
    assert world.coarse == business.coarse
    # only a short plain word is a section; anything else is classed in the fine shape too
    long_word = _shape("/verylongwordwithoutseparators/")
    assert long_word.fine == "news.example/{word}/"
    assert long_word.coarse == "~news.example/{word}/"
    assert not long_word.has_section and world.has_section
    assert _shape("/news-today/climate/").fine == "news.example/{words}/{word}/"
    assert _shape("/2026/climate/").fine == "news.example/{yyyy}/{word}/"


def test_host_is_kept_and_lower_cased() -> None:
    assert url_shape("https://NEWS.example/about/") == _shape("/about/")
    other = url_shape("https://video.news.example/about/")
    assert other is not None
    assert other.fine == "video.news.example/about/"
    assert other != _shape("/about/")


def test_query_is_reduced_to_sorted_parameter_names() -> None:
    first = _shape("/search?q=climate&page=2")
    assert first.fine == "news.example/search?page&q"
    assert _shape("/search?page=9&q=oil&Q=gas") == first
    assert _shape("/search?page=2") != first
    assert _shape("/search?flag").fine == "news.example/search?flag"  # blank value kept
    assert _shape("/search").fine == "news.example/search"


def test_deep_paths_are_cut_to_eight_segments() -> None:
    deep = _shape("/a/b/c/d/e/f/g/h/i/j/k/l/")
    deeper = _shape("/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/")
    assert deep == deeper
    assert deep.fine.count("/") == 8  # host, then eight segments


def test_deep_paths_are_marked_as_deep() -> None:
    deep = _shape("/a/b/c/d/e/f/g/h/i/")
    assert deep.coarse.endswith("{deep}")
    assert deep != _shape("/a/b/c/d/e/f/g/h")


@pytest.mark.parametrize("url", ["http://[::1", "https://[not-an-ip]/a"])
def test_unparseable_url_has_no_shape(url: str) -> None:
    assert url_shape(url) is None
    assert not looks_like_story(url)
    assert not looks_like_pagination(url)


@pytest.mark.parametrize(
    "path",
    [
        "/world/2026/11/03/some-long-story-slug/",
        "/politics/budget-talks-resume-after-weekend",
        "/news/article-123456.html",
        "/item/4817263",
        "/2026/11/03/budget-talks/",
        "/2026/11/03/x7k2p9",
        "/story/20261103/markets",
        "/world/police-say-suspect-arrested-4817263.html",
    ],
)
def test_story_looking_urls(path: str) -> None:
    assert looks_like_story(SITE + path)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/about/",
        "/world/",
        "/tag/climate/",
        "/author/jane-doe/",
        "/world/page/2/",
        "/world/2026/11/03/",  # a day's archive
        "/archive/20261103/",
        "/2026/",
        "/search?q=climate",
    ],
)
def test_not_story_looking_urls(path: str) -> None:
    assert not looks_like_story(SITE + path)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/world/page/2/", True),
        ("/world/page/2", True),
        ("/world/p/3/", True),
        ("/?p=123", False),  # a WordPress post, not a page of a listing
        ("/world/?page=2", True),
        ("/search?q=oil&PAGE=3", True),
        ("/world/?offset=40", True),
        ("/world/?start=20", True),
        ("/world/?pg=5", True),
        ("/world/", False),
        ("/world/page/", False),
        ("/world/?page=next", False),
        ("/world/?pages=2", False),
        ("/world/page/2/some-long-story-slug/", False),
        ("/frontpage/2/", False),
    ],
)
def test_pagination(path: str, expected: bool) -> None:
    assert looks_like_pagination(SITE + path) is expected
