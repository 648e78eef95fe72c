"""The frontier: which discovered links a crawl fetches, in what order, and which wait.

Fresh discovery spends requests where the stories are (known story shapes first, unknown
shapes held until learned or explored within a budget, dropped and barren shapes skipped,
earlier verdicts remembered); full discovery follows every link within max_depth.
"""

from __future__ import annotations

import pytest

from crawler.analysis.shape_book import BARREN_AFTER, DROP_AFTER, ShapeKind
from crawler.analysis.url_shapes import url_shape
from crawler.runtime.frontier import (
    EXPLORE_FLOOR,
    EXPLORE_SHARE,
    MAX_REPLANNED,
    Frontier,
    LinkPlan,
    Priority,
)
from storage.discovery_memory import RememberedUrl, ShapeRow

SITE = "https://news.example"
ARTICLE = f"{SITE}/world/2026/11/03/some-long-story-slug/"
SAME_SHAPE = f"{SITE}/world/2026/11/04/another-long-story-about-it/"
OTHER_SECTION = f"{SITE}/business/2026/11/04/markets-rally-on-rate-cut/"
FRONT = f"{SITE}/"
WORLD = f"{SITE}/world/"


def _fresh(max_depth: int = 3) -> Frontier:
    return Frontier("fresh", max_depth)


def _urls(plan: LinkPlan) -> list[str]:
    return [url for url, _, _ in plan.follow]


def test_the_constants_the_rules_are_written_for() -> None:
    assert (EXPLORE_FLOOR, EXPLORE_SHARE, DROP_AFTER, BARREN_AFTER) == (4, 0.04, 3, 4)
    assert Priority.STORY > Priority.LIKELY_STORY > Priority.LISTING > Priority.PAGINATION
    assert Priority.PAGINATION > Priority.EXPLORE > Priority.OTHER


def test_mode_is_checked() -> None:
    with pytest.raises(ValueError, match="discovery mode 'everything'"):
        Frontier("everything", 3)


# ---------------------------------------------------------------------- fresh: shapes


def test_a_known_story_shape_is_followed_from_an_article() -> None:
    frontier = _fresh()
    frontier.decided(ARTICLE, "article")
    plan = frontier.links(ARTICLE, [SAME_SHAPE, ARTICLE], 1, on_listing=False)
    assert plan.follow == [(SAME_SHAPE, 2, Priority.STORY)]  # the page itself is seen
    assert plan.held == 0 and not plan.skipped
    # followed once: the next page naming it again adds nothing
    assert frontier.links(OTHER_SECTION, [SAME_SHAPE], 1, on_listing=False) == LinkPlan()


def test_a_story_shape_of_another_section_is_probed_before_it_is_followed() -> None:
    frontier = _fresh()
    frontier.decided(ARTICLE, "article")
    # a section the site has not shown: the coarse story shape does not reach it
    assert frontier.links(ARTICLE, [OTHER_SECTION], 1, on_listing=False).held == 1
    frontier.decided(f"{SITE}/business/", "listing")
    more = [
        f"{SITE}/business/2026/11/05/oil-prices-fall-again-today/",
        f"{SITE}/business/2026/11/06/bank-raises-rates-by-half/",
    ]
    plan = frontier.links(SAME_SHAPE, more, 1, on_listing=False)
    # one probe of the shape now, the rest wait for its verdict
    assert plan.follow == [(more[0], 2, Priority.STORY)]
    assert plan.held == 1
    released = frontier.decided(more[0], "article")
    assert sorted(released.follow) == sorted(
        [(OTHER_SECTION, 2, Priority.STORY), (more[1], 2, Priority.STORY)]
    )
    assert frontier.held == 0


def test_links_are_canonicalized_and_junk_is_ignored() -> None:
    frontier = _fresh()
    frontier.decided(ARTICLE, "article")
    plan = frontier.links(
        ARTICLE,
        [SAME_SHAPE + "?utm_source=tw#comments", "javascript:alert(1)", "mailto:x@news.example"],
        1,
        on_listing=False,
    )
    # requested as the page wrote it; judged (and deduplicated) by its canonical URL
    assert plan.follow == [(SAME_SHAPE + "?utm_source=tw#comments", 2, Priority.STORY)]
    assert plan.held == 0 and not plan.skipped


def test_an_unknown_shape_on_an_article_waits_for_its_shape_to_be_learned() -> None:
    frontier = _fresh()
    frontier.decided(ARTICLE, "article")
    waiting = [f"{SITE}/video/x7k2p9", f"{SITE}/video/m4n5b6"]
    plan = frontier.links(ARTICLE, [*waiting, f"{SITE}/about/"], 1, on_listing=False)
    assert plan.follow == []
    assert plan.held == 3 and frontier.held == 3
    # a page of another shape releases nothing
    assert frontier.decided(SAME_SHAPE, "article").follow == []
    # a video fetched another way turns out to be a story: the waiting videos follow
    released = frontier.decided(f"{SITE}/video/q8m3z1", "article")
    assert released.follow == [(url, 2, Priority.STORY) for url in waiting]
    assert frontier.held == 1  # /about/ still waits
    assert frontier.links(SAME_SHAPE, waiting, 1, on_listing=False).follow == []


def test_held_links_of_a_listing_shape_wait_until_its_pages_name_new_stories() -> None:
    frontier = _fresh()
    tags = [f"{SITE}/tag/climate/", f"{SITE}/tag/energy/"]
    assert frontier.links(ARTICLE, tags, 1, on_listing=False).held == 2
    oil = f"{SITE}/tag/oil/"
    assert frontier.decided(oil, "listing").follow == []  # a listing, of unproven worth
    plan = frontier.links(oil, [SAME_SHAPE], 0, on_listing=True)  # it names a new story
    assert plan.follow == [
        (SAME_SHAPE, 1, Priority.LIKELY_STORY),
        *[(url, 2, Priority.ARTICLE_LISTING) for url in tags],
    ]
    assert frontier.held == 0


def test_a_listing_shape_on_an_article_is_probed() -> None:
    frontier = _fresh()
    frontier.decided(f"{SITE}/tag/oil/", "listing")
    tags = [f"{SITE}/tag/climate/", f"{SITE}/tag/energy/"]
    plan = frontier.links(ARTICLE, tags, 1, on_listing=False)
    assert plan.follow == [(tags[0], 2, Priority.ARTICLE_LISTING)]
    assert plan.held == 1
    # on a listing, a listing shape is followed as such
    on_listing = frontier.links(WORLD, [f"{SITE}/tag/gas/"], 0, on_listing=True)
    assert on_listing.follow == [(f"{SITE}/tag/gas/", 1, Priority.LISTING)]


def test_a_held_link_fetched_another_way_is_not_released_again() -> None:
    frontier = _fresh()
    video, other = f"{SITE}/video/x7k2p9", f"{SITE}/video/m4n5b6"
    assert frontier.links(ARTICLE, [video, other], 1, on_listing=False).held == 2
    frontier.mark_seen(video)  # a sitemap listed it
    released = frontier.decided(video, "article")
    assert released.follow == [(other, 2, Priority.STORY)]


def test_a_shape_of_misses_is_dropped_with_the_links_waiting_for_it() -> None:
    frontier = _fresh()
    tags = [f"{SITE}/tag/{word}/" for word in ("climate", "energy", "oil", "gas")]
    assert frontier.links(ARTICLE, tags, 1, on_listing=False).held == len(tags)
    misses = [f"{SITE}/tag/politics/", f"{SITE}/tag/sport/", f"{SITE}/tag/media/"]
    assert len(misses) == DROP_AFTER
    for url, verdict in zip(misses[:-1], ["not_story", "gone"], strict=True):
        plan = frontier.decided(url, verdict)
        assert plan.follow == [] and not plan.skipped
    dropped = frontier.decided(misses[-1], "not_story")
    assert dropped.follow == []
    assert dropped.skipped["shape_dropped"] == len(tags)
    assert frontier.held == 0
    later = frontier.links(SAME_SHAPE, [f"{SITE}/tag/science/"], 1, on_listing=False)
    assert later.follow == [] and later.held == 0
    assert later.skipped["shape_dropped"] == 1
    # even on a listing, a dropped shape is not followed
    on_listing = frontier.links(WORLD, [f"{SITE}/tag/arts/"], 0, on_listing=True)
    assert on_listing.follow == [] and on_listing.skipped["shape_dropped"] == 1
    assert frontier.explore(10_000) == []


def test_a_story_among_the_misses_keeps_the_shape() -> None:
    frontier = _fresh()
    assert frontier.links(ARTICLE, [f"{SITE}/video/x7k2p9"], 1, on_listing=False).held == 1
    frontier.decided(f"{SITE}/video/a1b2c3", "article")  # released at once
    for n in range(DROP_AFTER):
        frontier.decided(f"{SITE}/video/z{n}y{n}x", "not_story")
    video = url_shape(f"{SITE}/video/zzz111")
    assert video is not None
    assert frontier.book.kind(video) is ShapeKind.UNKNOWN  # one story in four: undecided
    plan = frontier.links(ARTICLE, [f"{SITE}/video/k9k9k9"], 1, on_listing=False)
    assert plan.held == 1 and not plan.skipped


# ---------------------------------------------------------------------- exploration


_SECTIONS = ("video", "audio", "gallery", "live", "quiz", "podcast")


def _held_on_articles(frontier: Frontier, per_shape: int) -> dict[str, list[str]]:
    """Links of six unknown shapes (`/video/x7k2p0`, ...), found on an article."""
    links = {s: [f"{SITE}/{s}/x7k2p{n}" for n in range(per_shape)] for s in _SECTIONS}
    plan = frontier.links(ARTICLE, [u for urls in links.values() for u in urls], 1, False)
    assert plan.held == len(_SECTIONS) * per_shape
    return links


def _section(url: str) -> str:
    return url.removeprefix(SITE + "/").split("/", 1)[0]


def test_exploration_is_one_link_per_shape_within_the_floor_budget() -> None:
    frontier = _fresh()
    _held_on_articles(frontier, per_shape=3)
    first = frontier.explore(0)
    assert len(first) == EXPLORE_FLOOR
    assert len({_section(url) for url, _, _ in first}) == EXPLORE_FLOOR  # one per shape
    assert all(depth == 2 and priority == Priority.EXPLORE for _, depth, priority in first)
    assert frontier.explore_used == EXPLORE_FLOOR
    assert frontier.explore(0) == []  # the floor is spent for the run
    assert frontier.explore(int(EXPLORE_FLOOR / EXPLORE_SHARE)) == []  # 4 % of 100 is 4
    more = frontier.explore(150)  # 4 % of 150 is 6
    assert len(more) == 2
    assert not {url for url, _, _ in more} & {url for url, _, _ in first}
    assert frontier.explore_used == 6
    assert frontier.held == len(_SECTIONS) * 3 - 6


def test_exploration_is_one_per_shape_per_call_and_at_most_drop_after_per_shape() -> None:
    frontier = _fresh()
    links = _held_on_articles(frontier, per_shape=10)
    released: list[str] = []
    for _ in range(DROP_AFTER + 3):
        batch = frontier.explore(1_000_000)
        sections = [_section(url) for url, _, _ in batch]
        assert len(sections) == len(set(sections))
        released += [url for url, _, _ in batch]
    for section in _SECTIONS:
        assert sum(_section(url) == section for url in released) == DROP_AFTER
    # the links first found on the page are the first tried
    assert [u for u in released if _section(u) == "video"] == links["video"][:DROP_AFTER]
    assert frontier.held == len(_SECTIONS) * (10 - DROP_AFTER)


def test_explored_pages_settle_their_shape() -> None:
    frontier = _fresh()
    links = _held_on_articles(frontier, per_shape=5)
    explored = [url for url, _, _ in frontier.explore(1_000_000)]
    video = next(url for url in explored if _section(url) == "video")
    released = frontier.decided(video, "article")
    assert released.follow == [(u, 2, Priority.STORY) for u in links["video"] if u != video]
    # the other sections' links keep waiting: their own shapes are still unknown
    assert frontier.held == (len(_SECTIONS) - 1) * 4
    audio = next(url for url in explored if _section(url) == "audio")
    for url in (audio, f"{SITE}/audio/q1q1q1", f"{SITE}/audio/w2w2w2"):
        frontier.decided(url, "not_story")
    assert frontier.held == (len(_SECTIONS) - 2) * 4


def test_links_of_unknown_shapes_on_listings_go_one_per_shape_at_a_time() -> None:
    """Without the budget: the first of each shape at once, the next when it is decided
    (or when the crawl is idle, if it never is: a 500, a timeout)."""
    frontier = _fresh()
    _held_on_articles(frontier, per_shape=1)
    assert len(frontier.explore(0)) == EXPLORE_FLOOR  # budget spent
    tags = [f"{SITE}/tag/climate/", f"{SITE}/tag/energy/", f"{SITE}/tag/water/"]
    plan = frontier.links(WORLD, [*tags, f"{SITE}/about/"], 0, on_listing=True)
    # priority below pagination
    assert plan.follow == [
        (tags[0], 1, Priority.OTHER - 1),
        (f"{SITE}/about/", 1, Priority.OTHER - 1),
    ]
    assert plan.held == 2
    # it was a listing, not a productive one yet: the pages that may show the shape barren
    # go together
    released = frontier.decided(tags[0], "listing")
    assert released.follow == [(tags[1], 1, Priority.OTHER - 1), (tags[2], 1, Priority.OTHER - 1)]
    assert frontier.explore_used == EXPLORE_FLOOR  # the budget was not touched


def test_listing_links_go_before_article_links_of_the_same_shape() -> None:
    frontier = _fresh()
    assert frontier.links(ARTICLE, [f"{SITE}/tag/elections/"], 1, False).held == 1
    listing = [f"{SITE}/tag/climate/", f"{SITE}/tag/energy/"]
    plan = frontier.links(WORLD, listing, 0, on_listing=True)
    assert plan.follow == [(listing[0], 1, Priority.OTHER - 1)] and plan.held == 1
    assert frontier.explore(0) == [(listing[1], 1, Priority.OTHER - 1)]
    assert frontier.explore(0) == [(f"{SITE}/tag/elections/", 2, Priority.EXPLORE)]


# ---------------------------------------------------------------------- listings


def test_links_on_a_listing_page() -> None:
    frontier = _fresh()
    teaser = f"{SITE}/opinion/why-we-wait"  # does not look like a story, but reads as one
    story = f"{SITE}/world/2026/11/03/some-long-story-slug/"
    page_2 = f"{SITE}/world/page/2/"
    others = [f"{SITE}/tag/climate/", f"{SITE}/about/"]
    plan = frontier.links(
        WORLD, [teaser, story, page_2, *others], 0, on_listing=True, headlines=[teaser]
    )
    assert plan.follow == [
        (teaser, 1, Priority.LIKELY_STORY),
        (story, 1, Priority.LIKELY_STORY),
        (page_2, 1, Priority.PAGINATION),
        (others[0], 1, Priority.OTHER - 1),  # the first of its shape: at once, but last
        (others[1], 1, Priority.OTHER - 1),
    ]
    assert plan.held == 0
    # the same teaser on an article is no teaser: its unknown shape waits
    article_side = _fresh()
    held = article_side.links(ARTICLE, [teaser, page_2], 1, on_listing=False, headlines=[teaser])
    assert held.follow == [] and held.held == 2


def test_a_held_link_seen_again_as_a_teaser_is_followed_at_once() -> None:
    frontier = _fresh()
    teaser = f"{SITE}/opinion/why-we-wait"
    assert frontier.links(ARTICLE, [teaser], 1, on_listing=False).held == 1
    plan = frontier.links(FRONT, [teaser], 0, on_listing=True, headlines=[teaser])
    assert plan.follow == [(teaser, 1, Priority.LIKELY_STORY)]
    assert frontier.held == 0
    assert frontier.explore(1_000) == []


def test_known_shapes_on_a_listing() -> None:
    frontier = _fresh()
    frontier.decided(ARTICLE, "article")
    frontier.decided(f"{SITE}/tag/climate/", "listing")
    plan = frontier.links(WORLD, [SAME_SHAPE, f"{SITE}/tag/energy/"], 0, on_listing=True)
    assert plan.follow == [
        (SAME_SHAPE, 1, Priority.STORY),
        (f"{SITE}/tag/energy/", 1, Priority.LISTING),
    ]


def test_a_barren_listing_shape_is_not_followed_further() -> None:
    frontier = _fresh()
    frontier.decided(ARTICLE, "article")
    tags = [f"{SITE}/tag/{w}/" for w in ("climate", "energy", "oil", "gas", "coal", "wind")]
    # each tag page names only the story the run already has
    for tag in tags[: BARREN_AFTER - 1]:
        frontier.decided(tag, "listing")
        assert frontier.links(tag, [ARTICLE], 0, on_listing=True).follow == []
    still = frontier.links(WORLD, [tags[-2]], 0, on_listing=True)
    assert still.follow == [(tags[-2], 1, Priority.LISTING)]
    frontier.decided(tags[BARREN_AFTER - 1], "listing")
    frontier.links(tags[BARREN_AFTER - 1], [ARTICLE], 0, on_listing=True)
    plan = frontier.links(WORLD, [tags[-1]], 0, on_listing=True)
    assert plan.follow == []
    assert plan.skipped["barren_listing"] == 1


def test_a_listing_that_names_a_new_story_is_not_barren() -> None:
    frontier = _fresh()
    frontier.decided(ARTICLE, "article")
    tags = [f"{SITE}/tag/{w}/" for w in ("climate", "energy", "oil", "gas", "coal", "wind")]
    frontier.decided(tags[0], "listing")
    frontier.links(tags[0], [SAME_SHAPE], 0, on_listing=True)  # a new story
    for tag in tags[1 : BARREN_AFTER + 1]:
        frontier.decided(tag, "listing")
        frontier.links(tag, [ARTICLE], 0, on_listing=True)
    plan = frontier.links(WORLD, [tags[-1]], 0, on_listing=True)
    assert plan.follow == [(tags[-1], 1, Priority.LISTING)]


# ---------------------------------------------------------------------- depth


def test_no_links_at_max_depth() -> None:
    for frontier in (Frontier("fresh", 2), Frontier("full", 2)):
        frontier.decided(ARTICLE, "article")
        assert frontier.links(ARTICLE, [SAME_SHAPE], 2, on_listing=False) == LinkPlan()
        assert frontier.links(WORLD, [SAME_SHAPE], 3, on_listing=True) == LinkPlan()
        assert frontier.links(WORLD, [SAME_SHAPE], 1, on_listing=True).follow == [
            (SAME_SHAPE, 2, Priority.STORY)
        ]
    assert Frontier("fresh", 0).links(FRONT, [ARTICLE], 0, on_listing=True) == LinkPlan()


def test_listed_depth() -> None:
    assert Frontier("fresh", 5).listed_depth == 1
    assert Frontier("full", 5).listed_depth == 5
    assert Frontier("fresh", 5).fresh and not Frontier("full", 5).fresh


# ---------------------------------------------------------------------- full discovery


def test_full_discovery_follows_every_link_and_holds_nothing() -> None:
    frontier = Frontier("full", 3)
    frontier.decided(ARTICLE, "article")
    for tag in ("politics", "sport", "media"):
        frontier.decided(f"{SITE}/tag/{tag}/", "not_story")
    links = [SAME_SHAPE, f"{SITE}/tag/climate/", f"{SITE}/about/", f"{SITE}/video/x7k2p9"]
    plan = frontier.links(ARTICLE, links, 1, on_listing=False)
    assert plan.held == 0 and not plan.skipped
    assert plan.follow == [
        (SAME_SHAPE, 2, Priority.STORY),
        (f"{SITE}/tag/climate/", 2, Priority.OTHER - 2),  # a dropped shape, still followed
        (f"{SITE}/about/", 2, Priority.OTHER - 2),
        (f"{SITE}/video/x7k2p9", 2, Priority.OTHER - 2),
    ]
    assert frontier.held == 0 and frontier.explore(1_000) == []


# ---------------------------------------------------------------------- memory


NOT_STORY = f"{SITE}/newsletters/"
GONE = f"{SITE}/world/2019/01/01/an-old-story-that-was-removed/"
LISTING = f"{SITE}/sport/"
LISTING_LINKS = (
    f"{SITE}/sport/2026/11/02/late-goal-wins-the-derby/",
    f"{SITE}/tag/football/",
)
REMEMBERED = [
    RememberedUrl(NOT_STORY, "not_story"),
    RememberedUrl(GONE, "gone"),
    RememberedUrl(
        LISTING,
        "listing",
        '"v1"',
        "Mon, 02 Nov 2026 08:00:00 GMT",
        LISTING_LINKS,
        LISTING_LINKS[:1],
    ),
    RememberedUrl(WORLD, "listing"),  # stored without validators
]


def test_remembered_misses_are_skipped_in_fresh_discovery() -> None:
    frontier = Frontier("fresh", 3, remembered=REMEMBERED)
    plan = frontier.links(FRONT, [NOT_STORY, GONE, ARTICLE], 0, on_listing=True)
    assert plan.follow == [(ARTICLE, 1, Priority.LIKELY_STORY)]
    assert plan.skipped == {"known_not_story": 1, "known_gone": 1}
    # counted once: the next page naming them again skips them silently
    again = frontier.links(WORLD, [NOT_STORY, GONE], 0, on_listing=True)
    assert again.follow == [] and not again.skipped


def test_remembered_misses_are_fetched_again_in_full_discovery() -> None:
    frontier = Frontier("full", 3, remembered=REMEMBERED)
    plan = frontier.links(FRONT, [NOT_STORY, GONE], 0, on_listing=True)
    assert _urls(plan) == [NOT_STORY, GONE]
    assert not plan.skipped
    assert frontier.listing_validators(LISTING) == ('"v1"', "Mon, 02 Nov 2026 08:00:00 GMT")


def test_learned_shapes_are_used_from_the_start() -> None:
    story = url_shape(ARTICLE)
    tag = url_shape(f"{SITE}/tag/climate/")
    assert story is not None and tag is not None
    rows = [ShapeRow(story.fine, 12, 0, 1), ShapeRow(tag.fine, 0, 0, 5)]
    frontier = Frontier("fresh", 3, shapes=rows)
    plan = frontier.links(FRONT, [SAME_SHAPE, f"{SITE}/tag/energy/"], 0, on_listing=True)
    assert plan.follow == [(SAME_SHAPE, 1, Priority.STORY)]
    assert plan.skipped["shape_dropped"] == 1


def test_remembered_listing_validators() -> None:
    frontier = Frontier("fresh", 3, remembered=REMEMBERED)
    assert frontier.listing_validators(LISTING) == ('"v1"', "Mon, 02 Nov 2026 08:00:00 GMT")
    assert frontier.listing_validators(LISTING + "#top") == (
        '"v1"',
        "Mon, 02 Nov 2026 08:00:00 GMT",
    )
    assert frontier.listing_validators(WORLD) is None  # nothing to ask conditionally with
    assert frontier.listing_validators(NOT_STORY) is None
    assert frontier.listing_validators(FRONT) is None


def test_an_unchanged_listing_replays_its_remembered_links() -> None:
    frontier = Frontier("fresh", 3, remembered=REMEMBERED)
    plan = frontier.unchanged_listing(LISTING, 0)
    assert plan.follow[0] == (LISTING_LINKS[0], 1, Priority.LIKELY_STORY)
    # every remembered link is judged again (followed, or held like a downloaded listing's)
    assert len(plan.follow) + plan.held == len(LISTING_LINKS)
    assert frontier.unchanged_listing(LISTING, 0).follow == []  # seen now
    _, verdicts, _ = frontier.to_remember()
    assert verdicts == [
        RememberedUrl(
            LISTING,
            "listing",
            '"v1"',
            "Mon, 02 Nov 2026 08:00:00 GMT",
            LISTING_LINKS,
            LISTING_LINKS[:1],
        )
    ]
    assert frontier.unchanged_listing(f"{SITE}/culture/", 0) == LinkPlan()
    # at max depth its links are not judged, but it is still remembered with them
    deep = Frontier("fresh", 1, remembered=REMEMBERED)
    assert deep.unchanged_listing(LISTING, 1) == LinkPlan()
    assert deep.to_remember()[1][0].links == LISTING_LINKS


def test_an_unchanged_listing_judges_its_links_as_a_downloaded_one() -> None:
    links = (f"{SITE}/about/", f"{SITE}/tag/football/")
    remembered = [RememberedUrl(LISTING, "listing", '"v1"', None, links)]
    replayed = Frontier("fresh", 3, remembered=remembered).unchanged_listing(LISTING, 0)
    downloaded = Frontier("fresh", 3).links(LISTING, links, 0, on_listing=True)
    assert [priority for _, _, priority in downloaded.follow] == [Priority.OTHER - 1] * 2
    assert replayed == downloaded


def test_to_remember() -> None:
    frontier = _fresh()
    frontier.decided(ARTICLE, "article")
    frontier.decided(NOT_STORY, "not_story", '"ignored"', "Mon, 02 Nov 2026 08:00:00 GMT")
    frontier.decided(GONE, "gone")
    frontier.decided(LISTING, "listing", '"v2"', "Tue, 03 Nov 2026 08:00:00 GMT")
    dropped = [f"{SITE}/tag/{w}/" for w in ("politics", "sport", "media")]
    for url in dropped:
        frontier.decided(url, "not_story")
    links = [SAME_SHAPE, f"{SITE}/tag/football/", f"{SITE}/about/", f"{SITE}/world/page/2/"]
    frontier.links(LISTING, [ARTICLE, *links], 0, on_listing=True)
    shapes, verdicts, stories = frontier.to_remember()
    assert stories == [ARTICLE]
    by_url = {v.url: v for v in verdicts}
    assert by_url[NOT_STORY] == RememberedUrl(NOT_STORY, "not_story")  # no validators kept
    assert by_url[GONE] == RememberedUrl(GONE, "gone")
    # the listing keeps its validators and all its links (a 304 replays them, and the
    # next run judges them by what it knows then)
    assert by_url[LISTING] == RememberedUrl(
        LISTING, "listing", '"v2"', "Tue, 03 Nov 2026 08:00:00 GMT", (ARTICLE, *links)
    )
    assert set(by_url) == {NOT_STORY, GONE, LISTING, *dropped}
    story = url_shape(ARTICLE)
    tag = url_shape(dropped[0])
    assert story is not None and tag is not None
    assert shapes[story.fine] == ShapeRow(story.fine, 1, 0, 0, 1)  # GONE has its shape
    assert shapes[tag.fine] == ShapeRow(tag.fine, 0, 0, 3)
    assert all(row.shape == key for key, row in shapes.items())


def test_a_page_that_became_a_story_is_not_remembered_as_a_miss() -> None:
    frontier = _fresh()
    frontier.decided(NOT_STORY, "not_story")
    frontier.decided(NOT_STORY, "article")
    _, verdicts, stories = frontier.to_remember()
    assert verdicts == []
    assert stories == [NOT_STORY]


def test_to_remember_of_a_frontier_that_learned_nothing() -> None:
    frontier = Frontier("fresh", 3, shapes=[ShapeRow("news.example/about/", 0, 0, 4)])
    assert frontier.to_remember() == ({}, [], [])


def test_pagination_goes_on_when_its_pages_name_only_stories_already_seen() -> None:
    """A partial sitemap (a news sitemap lists two days) has listed the newest stories:
    the first pages of a section name nothing new, the older ones do."""
    frontier = _fresh()
    for number in range(2, 2 + BARREN_AFTER):
        page = f"{SITE}/world/page/{number}/"
        frontier.decided(page, "listing")
        frontier.links(page, [], 1, on_listing=True)
    assert frontier.book.kind(url_shape(f"{SITE}/world/page/9/")) is ShapeKind.BARREN  # type: ignore[arg-type]
    plan = frontier.links(WORLD, [f"{SITE}/world/page/9/"], 0, on_listing=True)
    assert plan.follow == [(f"{SITE}/world/page/9/", 1, Priority.PAGINATION)]
    assert not plan.skipped


def test_a_headline_on_a_listing_is_tried_even_when_its_shape_was_dropped() -> None:
    frontier = _fresh()
    for n in range(DROP_AFTER):
        frontier.decided(f"{SITE}/live/blog-{n}-of-the-day/", "not_story")
    teaser = f"{SITE}/live/council-approves-the-new-budget/"
    plan = frontier.links(FRONT, [teaser], 0, on_listing=True, headlines=[teaser])
    assert plan.follow == [(teaser, 1, Priority.EXPLORE)]
    # on an article, the dropped shape rules it out
    other = f"{SITE}/live/another-live-blog-page/"
    assert frontier.links(ARTICLE, [other], 1, on_listing=False).skipped == {"shape_dropped": 1}


def test_a_listing_at_the_depth_limit_is_remembered_with_its_links() -> None:
    """Its links are not followed at this depth, but a 304 of it at a smaller depth in a
    later run must stand for them."""
    frontier = _fresh(max_depth=1)
    frontier.decided(WORLD, "listing", '"v1"', None)
    assert frontier.links(WORLD, [ARTICLE, SAME_SHAPE], 1, on_listing=True) == LinkPlan()
    (remembered,) = frontier.to_remember()[1]
    assert remembered.links == (ARTICLE, SAME_SHAPE)


def test_a_page_linked_again_from_nearer_the_start_counts_at_that_depth() -> None:
    """Full discovery requests a sitemap's stories at max_depth (their links not followed);
    one the home page links to as well is handled at the home page's depth + 1."""
    frontier = Frontier("full", 3)
    frontier.mark_seen(ARTICLE)  # requested from the sitemap, at depth 3
    frontier.links(FRONT, [ARTICLE], 0, on_listing=True)
    assert frontier.depth_of(ARTICLE, 3) == 1
    assert frontier.depth_of(ARTICLE, 3) == 3  # used once
    assert frontier.depth_of(SAME_SHAPE, 2) == 2


def test_a_page_cut_by_the_depth_limit_is_planned_again_when_linked_from_nearer() -> None:
    """A page first reached at max_depth (its links cut) and only later linked from a page
    nearer the start: its links are followed from the smaller depth, not lost (a story only
    that page links to would be missed, depending on which answer came first)."""
    frontier = Frontier("full", 2)
    deep = f"{SITE}/about/team/"
    only_there = f"{SITE}/world/2026/11/05/a-story-only-the-team-page-links-to/"
    frontier.mark_seen(FRONT)  # the start page
    frontier.mark_seen(deep)  # requested at depth 2, fetched, its links cut
    assert frontier.links(deep, [only_there, FRONT], 2, on_listing=False) == LinkPlan()
    plan = frontier.links(FRONT, [deep], 0, on_listing=True)
    assert plan.follow == [(only_there, 2, Priority.OTHER - 2)]
    # once only: the next page naming it from as near adds nothing
    assert frontier.links(WORLD, [deep], 0, on_listing=True) == LinkPlan()


def test_a_shallower_link_is_carried_down_to_the_pages_that_were_cut() -> None:
    """A page reached at depth 2 had its links followed at 3 (max), whose links were cut;
    linked from the start page, it is at depth 1, so its links are at 2 and theirs at 3."""
    frontier = Frontier("full", 3)
    middle = f"{SITE}/about/"
    deep = f"{SITE}/about/team/"
    only_there = f"{SITE}/world/2026/11/05/a-story-only-the-team-page-links-to/"
    frontier.mark_seen(middle)
    assert _urls(frontier.links(middle, [deep], 2, on_listing=False)) == [deep]
    assert frontier.links(deep, [only_there], 3, on_listing=False) == LinkPlan()
    plan = frontier.links(FRONT, [middle], 0, on_listing=True)
    assert plan.follow == [(only_there, 3, Priority.OTHER - 3)]


def test_pages_planned_again_are_bounded_and_only_in_full_discovery() -> None:
    frontier = Frontier("full", 2)
    for n in range(MAX_REPLANNED + 10):
        frontier.links(f"{SITE}/page/{n}/", [f"{SITE}/other/{n}/"], 2, on_listing=False)
    assert frontier.replannable == MAX_REPLANNED
    fresh = _fresh(max_depth=2)
    fresh.links(f"{SITE}/about/team/", [f"{SITE}/other/"], 2, on_listing=False)
    assert fresh.replannable == 0
