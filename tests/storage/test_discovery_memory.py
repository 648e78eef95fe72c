"""Discovery memory: learned URL shapes and decided URLs, kept per site between runs, on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from storage import Archive, discovery_memory
from storage.discovery_memory import RememberedUrl, ShapeRow, save_shapes, save_urls, url_key
from storage.models import shape_table, url_verdict_table

SITE = "https://news.example"
NOT_STORY = f"{SITE}/newsletters/"
GONE = f"{SITE}/world/2019/01/01/an-old-story-that-was-removed/"
LISTING = f"{SITE}/world/"
LISTING_LINKS = (
    f"{SITE}/world/2026/11/03/some-long-story-slug/",
    f"{SITE}/tag/climate/",
    f"{SITE}/world/page/2/",
)
STORY_SHAPE = ShapeRow("news.example/world/{yyyy}/{nn}/{nn}/{slug}/", 40, 0, 2)
TAG_SHAPE = ShapeRow("news.example/tag/{word}/", 0, 12, 1)


def _now() -> datetime:
    return datetime.now(UTC)


def _load(
    archive: Archive, site: str = "news", max_age: timedelta = timedelta(days=7)
) -> tuple[dict[str, ShapeRow], dict[str, RememberedUrl]]:
    shapes, urls = archive.load_discovery_memory(site, _now() - max_age)
    by_shape = {row.shape: row for row in shapes}
    by_url = {url.url: url for url in urls}
    assert len(by_shape) == len(shapes) and len(by_url) == len(urls)
    return by_shape, by_url


def _age(archive: Archive, site: str, url: str, age: timedelta) -> None:
    """Pretend the verdict on `url` was made `age` ago."""
    with archive.engine.begin() as conn:
        changed = conn.execute(
            update(url_verdict_table)
            .where(url_verdict_table.c.site == site, url_verdict_table.c.url_key == url_key(url))
            .values(checked_at=_now() - age)
        )
        assert changed.rowcount == 1


def test_an_empty_memory(archive: Archive) -> None:
    assert archive.load_discovery_memory("news", _now()) == ([], [])
    assert archive.discovery_counts() == {}


def test_shapes_and_verdicts_round_trip(archive: Archive) -> None:
    urls = [
        RememberedUrl(NOT_STORY, "not_story"),
        RememberedUrl(GONE, "gone"),
        RememberedUrl(
            LISTING,
            "listing",
            '"v1"',
            "Mon, 02 Nov 2026 08:00:00 GMT",
            LISTING_LINKS,
            LISTING_LINKS[-1:],  # which links were teasers survives the round trip
        ),
        RememberedUrl(f"{SITE}/sport/", "listing"),  # no validators, no links
    ]
    shapes = {row.shape: row for row in (STORY_SHAPE, TAG_SHAPE)}
    archive.remember_discovery("news", shapes, urls, [])
    loaded_shapes, loaded_urls = _load(archive)
    assert loaded_shapes == shapes
    assert loaded_urls == {url.url: url for url in urls}
    assert loaded_urls[LISTING].links == LISTING_LINKS
    assert loaded_urls[LISTING].headlines == LISTING_LINKS[-1:]
    # another site's memory is its own
    assert archive.load_discovery_memory("other", _now() - timedelta(days=7)) == ([], [])
    assert archive.discovery_counts() == {
        "news": {
            "shapes": 2,
            "remembered_urls": {"not_story": 1, "gone": 1, "listing": 2},
        }
    }


def test_only_remembered_verdicts_are_stored(archive: Archive) -> None:
    urls = [
        RememberedUrl(NOT_STORY, "not_story"),
        RememberedUrl(f"{SITE}/world/2026/11/03/some-long-story-slug/", "article"),
    ]
    archive.remember_discovery("news", {}, urls, [])
    assert list(_load(archive)[1]) == [NOT_STORY]


def test_a_later_save_overwrites_the_earlier_one(archive: Archive) -> None:
    archive.remember_discovery(
        "news",
        {STORY_SHAPE.shape: STORY_SHAPE},
        [
            RememberedUrl(NOT_STORY, "not_story"),
            RememberedUrl(LISTING, "listing", '"v1"', None, LISTING_LINKS),
        ],
        [],
    )
    grown = ShapeRow(STORY_SHAPE.shape, 41, 0, 3)
    archive.remember_discovery(
        "news",
        {grown.shape: grown, TAG_SHAPE.shape: TAG_SHAPE},
        [
            RememberedUrl(NOT_STORY, "gone"),
            RememberedUrl(LISTING, "listing", '"v2"', "Tue, 03 Nov 2026 08:00:00 GMT"),
        ],
        [],
    )
    shapes, urls = _load(archive)
    assert shapes == {grown.shape: grown, TAG_SHAPE.shape: TAG_SHAPE}
    assert urls == {
        NOT_STORY: RememberedUrl(NOT_STORY, "gone"),
        LISTING: RememberedUrl(LISTING, "listing", '"v2"', "Tue, 03 Nov 2026 08:00:00 GMT"),
    }
    assert archive.discovery_counts()["news"]["remembered_urls"] == {"gone": 1, "listing": 1}


def test_old_misses_expire_and_listings_do_not(archive: Archive) -> None:
    urls = [
        RememberedUrl(NOT_STORY, "not_story"),
        RememberedUrl(GONE, "gone"),
        RememberedUrl(LISTING, "listing", '"v1"', None, LISTING_LINKS),
        RememberedUrl(f"{SITE}/about/", "not_story"),
    ]
    archive.remember_discovery("news", {}, urls, [])
    for url in (NOT_STORY, GONE, LISTING):
        _age(archive, "news", url, timedelta(days=30))
    _age(archive, "news", f"{SITE}/about/", timedelta(days=6))
    assert set(_load(archive, max_age=timedelta(days=7))[1]) == {LISTING, f"{SITE}/about/"}
    assert set(_load(archive, max_age=timedelta(days=31))[1]) == {
        NOT_STORY,
        GONE,
        LISTING,
        f"{SITE}/about/",
    }
    assert set(_load(archive, max_age=timedelta(days=1))[1]) == {LISTING}
    # recheck_after = 0: every miss is fetched again, at once
    assert set(_load(archive, max_age=timedelta(0))[1]) == {LISTING}
    # the old listing keeps its links
    assert _load(archive, max_age=timedelta(0))[1][LISTING].links == LISTING_LINKS


def test_a_page_that_became_a_story_is_forgotten(archive: Archive) -> None:
    urls = [RememberedUrl(NOT_STORY, "not_story"), RememberedUrl(GONE, "gone")]
    archive.remember_discovery("news", {}, urls, [])
    archive.remember_discovery("other", {}, [RememberedUrl(NOT_STORY, "not_story")], [])
    archive.remember_discovery("news", {}, [], [NOT_STORY, f"{SITE}/never-remembered/"])
    assert set(_load(archive)[1]) == {GONE}
    assert set(_load(archive, "other")[1]) == {NOT_STORY}  # only that site's memory


def test_a_run_that_stores_and_forgets_one_url_forgets_it(archive: Archive) -> None:
    # stories win: a URL both decided a miss and archived as a story in one run
    archive.remember_discovery("news", {}, [RememberedUrl(NOT_STORY, "not_story")], [NOT_STORY])
    assert _load(archive)[1] == {}


def test_many_forgotten_urls_at_once(archive: Archive) -> None:
    urls = [RememberedUrl(f"{SITE}/tag/t{n}/", "not_story") for n in range(1200)]
    archive.remember_discovery("news", {}, urls, [])
    archive.remember_discovery("news", {}, [], [u.url for u in urls[:1100]])
    assert set(_load(archive)[1]) == {u.url for u in urls[1100:]}


def test_verdicts_are_bounded_per_site_keeping_the_newest(archive: Archive) -> None:
    start = _now() - timedelta(hours=10)
    other = [RememberedUrl(f"{SITE}/other/{n}/", "not_story") for n in range(3)]
    with archive.engine.begin() as conn:
        save_urls(conn, "other", other, start)
        for n in range(8):
            save_urls(
                conn,
                "news",
                [RememberedUrl(f"{SITE}/tag/t{n}/", "not_story")],
                start + timedelta(hours=n),
            )
        # the newest, saved last with a bound of 5
        save_urls(
            conn, "news", [RememberedUrl(NOT_STORY, "gone")], start + timedelta(hours=9), keep=5
        )
    kept = set(_load(archive, max_age=timedelta(days=1))[1])
    assert kept == {NOT_STORY, *(f"{SITE}/tag/t{n}/" for n in range(4, 8))}
    assert len(_load(archive, "other", max_age=timedelta(days=1))[1]) == 3


def test_shapes_are_bounded_per_site_keeping_the_newest(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(discovery_memory, "MAX_SHAPES_PER_SITE", 2)
    start = _now() - timedelta(hours=5)
    rows = [ShapeRow(f"news.example/s{n}/{{word}}/", n, 0, 0) for n in range(4)]
    with archive.engine.begin() as conn:
        for n, row in enumerate(rows):
            save_shapes(conn, "news", {row.shape: row}, start + timedelta(hours=n))
        save_shapes(conn, "other", {rows[0].shape: rows[0]}, start)
    assert set(_load(archive)[0]) == {rows[2].shape, rows[3].shape}
    assert set(_load(archive, "other")[0]) == {rows[0].shape}


def test_long_shapes_are_cut_to_the_column(archive: Archive) -> None:
    long = ShapeRow("news.example/search?" + "x" * 500, 0, 0, 3)
    archive.remember_discovery("news", {long.shape: long}, [], [])
    (stored,) = _load(archive)[0].values()
    assert stored == ShapeRow(long.shape[:400], 0, 0, 3)


def test_two_long_shapes_with_one_prefix_are_stored(archive: Archive) -> None:
    prefix = "news.example/search?" + "x" * 400
    first, second = ShapeRow(prefix + "&a", 1, 0, 0), ShapeRow(prefix + "&b", 0, 0, 1)
    archive.remember_discovery(
        "news", {row.shape: row for row in (first, second)}, [RememberedUrl(GONE, "gone")], []
    )
    # one stored shape for both (the later wins), and the run's verdicts are not lost
    shapes, urls = _load(archive)
    assert shapes == {prefix[:400]: ShapeRow(prefix[:400], 0, 0, 1)}
    assert set(urls) == {GONE}


def test_a_shape_that_never_gave_anything_is_forgotten_with_the_verdicts(
    archive: Archive,
) -> None:
    """A dropped shape must not rule its links out for good: the site may start using it."""
    dead = ShapeRow("news.example/live/{slug}/", 0, 0, 2, 1)
    archive.remember_discovery("news", {row.shape: row for row in (STORY_SHAPE, dead)}, [], [])
    assert set(_load(archive)[0]) == {STORY_SHAPE.shape, dead.shape}
    with archive.engine.begin() as conn:
        conn.execute(update(shape_table).values(updated_at=_now() - timedelta(days=30)))
    shapes, _ = archive.load_discovery_memory("news", _now() - timedelta(days=7))
    assert [row.shape for row in shapes] == [STORY_SHAPE.shape]
