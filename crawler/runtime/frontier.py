"""Which discovered links a crawl fetches, in what order, and which it keeps back.

A real article page links to dozens of pages of its own site (related stories, tags,
authors, videos, old URLs that now answer 404); following all of them turns a first crawl
of 150 stories into 2,500 requests. In `fresh` discovery the frontier spends requests where
stories are:

- stories a sitemap or feed lists come first, then links whose shape (crawler.analysis
  .url_shapes) is a story shape of this site, then listings; all by Scrapy priority, so a
  crawl cut short by --max-pages has archived stories, not tag pages;
- a link of a shape this site has not shown yet waits (bounded) until a page of that shape
  is decided, or until the crawl is otherwise idle, when a small exploration budget (a few
  per cent of the run's requests, shared by every unknown shape) fetches a few of them; a
  shape that produced pages and no story is dropped, with the links still waiting for it;
- links on listing pages (and start pages) are followed as in full discovery, unless their
  shape was dropped: teasers (headline anchor text) and links that look like stories or
  pagination on most sites first, the rest (navigation, tags, site pages) last;
- a listing shape whose pages, in this run, name no story the run has not seen is barren
  (the twentieth tag page), and is not followed further;
- URLs an earlier run decided were no story, or that answered 404/410, are not fetched
  again until the site's `recheck_after` has passed.

`full` discovery (backfill) follows every same-site link to `max_depth`, as before; it
still uses the priorities and still learns. A page fetched by a long path and only later
found by a shorter one has its links planned again from there: the depth limit must not
make the stories found depend on the order the answers came in.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace

from crawler.analysis.shape_book import (
    BARREN_AFTER,
    DROP_AFTER,
    MIXED_AFTER,
    ShapeBook,
    ShapeCounts,
    ShapeKind,
)
from crawler.analysis.url_shapes import (
    Link,
    UrlShape,
    judge_links,
    looks_like_pagination,
    looks_like_story,
    url_shape,
)
from crawler.keys import DISCOVERY_MODES
from storage.discovery_memory import RememberedUrl, ShapeRow
from storage.urls import canonical_or_none

__all__ = ["Frontier", "LinkPlan", "Priority"]

# Exploration budget: this share of the run's requests so far, and never less than FLOOR.
EXPLORE_SHARE = 0.04
EXPLORE_FLOOR = 4
# Links kept waiting for their shape to be learned, in all and per shape.
MAX_HELD = 50_000
MAX_HELD_PER_SHAPE = 2_000
# Verdicts of one run kept for the next (storage bounds the total per site).
MAX_VERDICTS = 100_000
# Links of a shape of unproven worth fetched before its verdict is awaited.
PROBES = 1
# Pages whose links are kept to be planned again from a smaller depth (full discovery).
MAX_REPLANNED = 20_000
# Links remembered per listing, to judge again when it answers 304, and listings per run.
MAX_LISTING_LINKS = 300
MAX_LISTINGS = 2_000
# What _priority returns for a link a rule leaves out.
_SKIP = -1_000_000


class Priority:
    """Scrapy request priorities (higher first)."""

    ROBOTS = 60
    DISCOVERY = 55  # sitemaps and feeds
    START = 50
    LISTED = 45  # stories a sitemap or feed lists
    STORY = 40  # a link of a known story shape
    LIKELY_STORY = 35  # a link on a listing that looks like a story on most sites
    LISTING = 30  # a link of a known listing shape, on a listing
    ARTICLE_LISTING = 25  # a link of a known listing shape, on an article (a tag page)
    PAGINATION = 28
    EXPLORE = 10
    OTHER = 0  # full discovery: everything else, less the depth


@dataclass(frozen=True, slots=True)
class _Held:
    url: str  # canonical: the frontier's key
    spelling: str  # as the page wrote it: what is requested
    depth: int
    on_listing: bool


@dataclass(frozen=True, slots=True)
class _Planned:
    """A fetched page's links as judged at its depth, to judge again from nearer the start."""

    depth: int
    links: tuple[Link, ...]
    on_listing: bool
    headlines: frozenset[str]


@dataclass(slots=True)
class LinkPlan:
    """What to do with one page's links: requests to make, and what was left out why."""

    follow: list[tuple[str, int, int]] = field(default_factory=list)  # url, depth, priority
    skipped: Counter[str] = field(default_factory=Counter)
    held: int = 0


class Frontier:
    def __init__(
        self,
        mode: str,
        max_depth: int,
        shapes: Iterable[ShapeRow] = (),
        remembered: Iterable[RememberedUrl] = (),
    ) -> None:
        if mode not in DISCOVERY_MODES:
            raise ValueError(f"discovery mode {mode!r}: expected fresh or full")
        self.mode = mode
        self.max_depth = max_depth
        self.book = ShapeBook(
            {s.shape: ShapeCounts(s.articles, s.listings, s.others) for s in shapes}
        )
        self._not_again: dict[str, str] = {}
        self.listings: dict[str, RememberedUrl] = {}
        for url in remembered:
            if url.verdict == "listing":
                self.listings[url.url] = url
            elif mode == "fresh":
                self._not_again[url.url] = url.verdict
        self._seen: set[str] = set()
        # Requested URLs linked again from nearer the start, at the smaller depth.
        self._shallowest: dict[str, int] = {}
        # Fetched pages below depth 1, with their links: linked from nearer the start
        # later, their links are planned again from there (those the depth limit cut).
        self._planned: dict[str, _Planned] = {}
        self._held: dict[str, deque[_Held]] = {}
        self._held_keys: set[str] = set()
        self._listing_held: Counter[str] = Counter()
        self._fine_of_coarse: dict[str, set[str]] = defaultdict(set)
        self._coarse_of_fine: dict[str, str] = {}
        self._explored: Counter[str] = Counter()
        self._probes: Counter[str] = Counter()
        # Links found on listings, of shapes not known yet, requested and not yet decided.
        self._flying: Counter[str] = Counter()
        self.explore_used = 0
        self._verdicts: dict[str, RememberedUrl] = {}
        self._stories: set[str] = set()
        # Per listing page of this run: its links not ruled out by their shape, and which
        # of them were teasers (headline anchor text).
        self._listing_links: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}

    @property
    def fresh(self) -> bool:
        return self.mode == "fresh"

    @property
    def held(self) -> int:
        return len(self._held_keys)

    @property
    def replannable(self) -> int:
        return len(self._planned)

    @property
    def listed_depth(self) -> int:
        """The depth a page listed by a sitemap or feed counts as: in fresh discovery its
        links are judged by shape like any article's; in full discovery they are not
        followed (a 50,000-URL sitemap must not become a crawl of the whole site)."""
        return 1 if self.fresh else self.max_depth

    # ------------------------------------------------------------------ before fetching

    def listing_validators(self, url: str) -> tuple[str | None, str | None] | None:
        key = canonical_or_none(url)
        known = self.listings.get(key) if key is not None else None
        if known is None or not (known.etag or known.last_modified):
            return None
        return known.etag, known.last_modified

    def unchanged_listing(self, url: str, depth: int) -> LinkPlan:
        """A listing answered 304: judge the links it had last time again, as if it had
        been downloaded (the stories on it are re-checked, conditionally, as usual)."""
        key = canonical_or_none(url)
        known = self.listings.get(key) if key is not None else None
        if key is None or known is None:
            return LinkPlan()
        self._seen.add(key)
        verdict = self._verdicts.get(key)
        if verdict is None and len(self._verdicts) < MAX_VERDICTS:
            self._verdicts[key] = RememberedUrl(key, "listing", known.etag, known.last_modified)
        return self.links(key, known.links, depth, on_listing=True, headlines=known.headlines)

    def depth_of(self, url: str, depth: int) -> int:
        """The depth a fetched page counts as: the one it was requested at, or less if a
        page found later links to it from nearer the start (a story the sitemap listed,
        requested first at the sitemap's depth, that the home page also links to)."""
        key = canonical_or_none(url)
        found = self._shallowest.pop(key, depth) if key is not None else depth
        return min(depth, found)

    def story_links(self, urls: Iterable[str | Link]) -> int:
        """How many of these links have a story shape of the site (by their fine shape)."""
        return sum(
            shape is not None and self.book.fine_kind(shape) is ShapeKind.STORY
            for _, _, shape in _judged(urls)
        )

    def mark_seen(self, url: str) -> None:
        """A URL requested other than through links (start pages, listed stories)."""
        key = canonical_or_none(url)
        if key is not None:
            self._see(key)

    def _see(self, key: str) -> None:
        """The URL is requested (or ruled out) now: it no longer waits for its shape."""
        self._seen.add(key)
        if key in self._held_keys:
            shape = url_shape(key)
            if shape is not None:
                self._unhold(key, shape)

    def links(
        self,
        page_url: str,
        urls: Iterable[str | Link],
        depth: int,
        on_listing: bool,
        headlines: Collection[str] = (),
    ) -> LinkPlan:
        """Judge the links of one page at `depth` (its links are at depth + 1);
        `headlines` are the links whose anchor text reads like a headline. `page_url` is
        the URL the page was asked for (before redirects): a listing's links are
        remembered under it, as its verdict is."""
        judged = _judged(urls)
        if on_listing:
            self._remember_listing_links(page_url, judged, headlines)
        heads = frozenset(url for url, _, _ in judged if url in headlines)
        page = _Planned(depth, tuple(judged), on_listing, heads)
        self._keep_planned(page_url, page)
        return self._plan_links(page_url, page, again=False)

    def _plan_links(self, page_url: str, page: _Planned, again: bool) -> LinkPlan:
        """`again`: the page was planned before from further away (it is not counted again
        as a listing page of this run)."""
        plan = LinkPlan()
        depth, on_listing, headlines = page.depth, page.on_listing, page.headlines
        if depth >= self.max_depth:
            return plan
        new_stories = 0
        for url, key, shape in page.links:
            if key is None or shape is None:
                continue
            if key in self._seen:
                self._nearer(key, depth + 1, plan)
                continue
            pagination = looks_like_pagination(key)
            teaser = on_listing and (url in headlines or (looks_like_story(key) and not pagination))
            if key in self._held_keys:
                if not teaser:
                    continue
                self._unhold(key, shape)
            verdict = self._not_again.get(key)
            if verdict is not None:
                self._seen.add(key)
                plan.skipped["known_gone" if verdict == "gone" else "known_not_story"] += 1
                continue
            priority = self._priority(shape, on_listing, teaser, pagination, depth, plan)
            if priority is None and on_listing and not self._flying[shape.fine]:
                # The first of its shape on a listing goes at once; the others wait for it.
                priority = Priority.OTHER - depth - 1
                self._fly(shape)
            if priority is None:
                # A listing's other links (navigation, tags, site pages) are all fetched as
                # in full discovery, but one per shape at a time, so that a shape of pages
                # worth nothing is dropped before all its links are fetched; an article's
                # wait for the exploration budget.
                if self._hold(key, url, shape, depth + 1, on_listing):
                    plan.held += 1
                else:
                    plan.skipped["held_full"] += 1
                continue
            self._seen.add(key)
            if priority != _SKIP:
                plan.follow.append((url, depth + 1, priority))
                new_stories += on_listing and priority in (Priority.STORY, Priority.LIKELY_STORY)
        if on_listing and not again:
            page_shape = url_shape(page_url)
            if page_shape is not None:
                self.book.listing_yield(page_shape, new_stories)
                self._settle(page_shape.fine, plan)
        return plan

    def _keep_planned(self, page_url: str, page: _Planned) -> None:
        """Keep a fetched page's links while a shorter path to it may still be found: one
        is found only after the page was fetched when answers come out of order, and the
        depth limit must not then decide which stories a run finds."""
        key = canonical_or_none(page_url)
        # Fresh discovery follows links by shape, not by depth: its runs are not planned
        # again (a tight --max-pages must go to the stories it has found).
        if key is None or page.depth < 2 or self.fresh:
            return
        if key not in self._planned and len(self._planned) >= MAX_REPLANNED:
            return
        self._planned[key] = page

    def _nearer(self, key: str, depth: int, plan: LinkPlan) -> None:
        """A requested page is linked at `depth`: if that is nearer the start than it was
        planned at, plan its links again from there (into `plan`); if it is not fetched
        yet, it counts at that depth when it is (depth_of)."""
        planned = self._planned.get(key)
        if planned is None:
            if depth < self._shallowest.get(key, depth + 1):
                self._shallowest[key] = depth
            return
        if depth >= planned.depth:
            return
        nearer = replace(planned, depth=depth)
        self._planned[key] = nearer
        again = self._plan_links(key, nearer, again=True)
        plan.follow += again.follow
        plan.skipped.update(again.skipped)
        plan.held += again.held

    def _priority(
        self,
        shape: UrlShape,
        on_listing: bool,
        teaser: bool,
        pagination: bool,
        depth: int,
        plan: LinkPlan,
    ) -> int | None:
        """A link's priority; None to hold it, _SKIP to leave it out (counted in `plan`)."""
        kind = self.book.kind(shape)
        if kind is ShapeKind.STORY:
            if self.book.fine_kind(shape) is ShapeKind.STORY or self._probe(shape) or teaser:
                return Priority.STORY
        elif kind is ShapeKind.LISTING:
            if on_listing or not self.fresh:
                return Priority.LISTING
            if self.book.productive(shape) or self._probe(shape):
                return Priority.ARTICLE_LISTING
        if not self.fresh:
            return Priority.OTHER - depth - 1
        if kind is ShapeKind.BARREN and not pagination:
            plan.skipped["barren_listing"] += 1
            return _SKIP
        if kind is ShapeKind.DROPPED and not teaser:
            plan.skipped["shape_dropped"] += 1
            return _SKIP
        if teaser:
            # A headline on a listing is a story whatever its shape's record says.
            return Priority.LIKELY_STORY if kind is not ShapeKind.DROPPED else Priority.EXPLORE
        if on_listing and pagination:
            return Priority.PAGINATION
        return None

    def _remember_listing_links(
        self, page_url: str, judged: list[Link], headlines: Collection[str]
    ) -> None:
        """Keep what a listing linked to, for a 304 of it next time to stand for."""
        page_key = canonical_or_none(page_url)
        if page_key is None:
            return
        if page_key not in self._listing_links and len(self._listing_links) >= MAX_LISTINGS:
            return
        keys = [key for _, key, _ in judged if key is not None][:MAX_LISTING_LINKS]
        teasers = [key for url, key, _ in judged if key is not None and url in headlines]
        self._listing_links[page_key] = (tuple(keys), tuple(teasers[:MAX_LISTING_LINKS]))

    def _probe(self, shape: UrlShape) -> bool:
        """Whether one more link of a shape whose worth is unproven in this run may be
        fetched now (a story shape known only from other sections, a listing shape no
        page of which has named a new story yet); the others wait for the probes' verdict
        instead of all being requested at once."""
        if self._probes[shape.fine] >= PROBES:
            return False
        self._probes[shape.fine] += 1
        return True

    def _hold(self, key: str, url: str, shape: UrlShape, depth: int, on_listing: bool) -> bool:
        if len(self._held_keys) >= MAX_HELD:
            return False
        waiting = self._held.setdefault(shape.fine, deque())
        if len(waiting) >= MAX_HELD_PER_SHAPE:
            return False
        held = _Held(key, url, depth, on_listing)
        if on_listing:
            # Links found on listings are tried first, in the order the listing gave them.
            waiting.insert(self._listing_held[shape.fine], held)
            self._listing_held[shape.fine] += 1
        else:
            waiting.append(held)
        self._held_keys.add(key)
        self._fine_of_coarse[shape.coarse].add(shape.fine)
        self._coarse_of_fine[shape.fine] = shape.coarse
        return True

    def _unhold(self, key: str, shape: UrlShape) -> None:
        waiting = self._held.get(shape.fine)
        if waiting is not None:
            for held in list(waiting):
                if held.url == key:
                    waiting.remove(held)
                    if held.on_listing:
                        self._listing_held[shape.fine] -= 1
        self._held_keys.discard(key)

    # ------------------------------------------------------------------ after fetching

    def decided(
        self,
        url: str,
        verdict: str,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> LinkPlan:
        """A fetched page was an "article", a "listing", "not_story" or "gone": learn its
        shape, remember the verdict for the next run, and release or drop the links that
        waited for that shape."""
        plan = LinkPlan()
        key = canonical_or_none(url)
        shape = url_shape(key) if key is not None else None
        if key is None or shape is None:
            return plan
        self._see(key)
        if self._flying[shape.fine]:
            self._flying[shape.fine] -= 1
        self.book.record(shape, "article" if verdict == "article" else verdict)
        if verdict == "article":
            self._stories.add(key)
            self._verdicts.pop(key, None)
        elif len(self._verdicts) < MAX_VERDICTS:
            validators = (etag, last_modified) if verdict == "listing" else (None, None)
            self._verdicts[key] = RememberedUrl(key, verdict, *validators)
        for fine in sorted(self._fine_of_coarse.get(shape.coarse, ())):
            self._settle(fine, plan)
        return plan

    def _release(self, fine: str, count: int) -> list[tuple[str, int, int]]:
        """Take up to `count` links of a shape off its waiting line, to request now."""
        waiting = self._held[fine]
        released = []
        for _ in range(min(count, len(waiting))):
            held = waiting.popleft()
            if held.on_listing:
                self._listing_held[fine] -= 1
                self._flying[fine] += 1
            self._held_keys.discard(held.url)
            self._seen.add(held.url)
            self._explored[fine] += 1
            priority = Priority.OTHER - held.depth if held.on_listing else Priority.EXPLORE
            released.append((held.spelling, held.depth, priority))
        return released

    def _fly(self, shape: UrlShape) -> None:
        self._flying[shape.fine] += 1
        self._fine_of_coarse[shape.coarse].add(shape.fine)
        self._coarse_of_fine[shape.fine] = shape.coarse

    def _listing_round(self, fine: str) -> int:
        """How many links found on listings to release for one shape in one idle round: one
        while the shape is unknown; for a listing shape not productive yet, as many as may
        still show it barren, at once (each round costs the crawl a wait for idleness)."""
        shape = UrlShape(fine, self._coarse_of_fine[fine])
        if self.book.fine_kind(shape) is ShapeKind.LISTING:
            return max(1, BARREN_AFTER - self.book.listing_pages_this_run(shape))
        return 1

    def _exploration_limit(self, fine: str) -> int:
        """Links of one unknown shape tried within the budget: DROP_AFTER, or MIXED_AFTER
        once one of them was a story (the shape is mixed, and worth a closer look)."""
        counts = self.book.counts(fine)
        return MIXED_AFTER if counts is not None and counts.articles else DROP_AFTER

    def _settle(self, fine: str, plan: LinkPlan) -> None:
        """Release or drop the links waiting for this shape, now that it is known."""
        waiting = self._held.get(fine)
        if not waiting:
            return
        shape = UrlShape(fine, self._coarse_of_fine[fine])
        kind = self.book.fine_kind(shape)
        if kind is ShapeKind.STORY or (kind is ShapeKind.LISTING and self.book.productive(shape)):
            priority = Priority.STORY if kind is ShapeKind.STORY else Priority.ARTICLE_LISTING
            for held in waiting:
                self._seen.add(held.url)
                plan.follow.append((held.spelling, held.depth, priority))
        elif kind in (ShapeKind.DROPPED, ShapeKind.BARREN):
            plan.skipped["shape_dropped"] += len(waiting)
            for held in waiting:
                self._seen.add(held.url)
        else:
            # Still undecided: the next links found on listings go, once the last are done.
            if waiting[0].on_listing and not self._flying[fine]:
                plan.follow += self._release(fine, self._listing_round(fine))
            return
        self._held_keys.difference_update(held.url for held in waiting)
        del self._held[fine]
        self._listing_held.pop(fine, None)

    def explore(self, requests_sent: int) -> list[tuple[str, int, int]]:
        """The crawl is otherwise idle: release waiting links of each undecided shape.

        Links found on listings are released without the budget, one per shape per round
        (their shape is dropped after DROP_AFTER pages worth nothing, with the rest of its
        links), or for a listing shape not yet productive as many as may show it barren;
        links found only on articles and other pages within the exploration budget, one
        per shape per round, at most DROP_AFTER per shape. Shapes found on listings go
        first, then the most linked.
        """
        budget = max(EXPLORE_FLOOR, int(EXPLORE_SHARE * requests_sent)) - self.explore_used
        order = sorted(
            (fine for fine, waiting in self._held.items() if waiting),
            key=lambda fine: (not self._held[fine][0].on_listing, -len(self._held[fine]), fine),
        )
        chosen: list[tuple[str, int, int]] = []
        for fine in order:
            waiting = self._held[fine]
            if waiting[0].on_listing:
                count = self._listing_round(fine)
            elif budget <= 0 or self._explored[fine] >= self._exploration_limit(fine):
                continue
            else:
                count = 1
                budget -= 1
                self.explore_used += 1
            chosen += self._release(fine, count)
        return chosen

    # ------------------------------------------------------------------ at the end

    def to_remember(self) -> tuple[dict[str, ShapeRow], list[RememberedUrl], list[str]]:
        """What the archive keeps for the next run: learned shapes, verdicts, stories."""
        shapes = {
            shape: ShapeRow(shape, c.articles, c.listings, c.others, c.gone)
            for shape, c in self.book.changed().items()
        }
        verdicts = [self._with_links(key, v) for key, v in self._verdicts.items()]
        return shapes, verdicts, sorted(self._stories)

    def _with_links(self, key: str, remembered: RememberedUrl) -> RememberedUrl:
        if remembered.verdict != "listing":
            return remembered
        links, teasers = self._listing_links.get(key, ((), ()))
        return replace(remembered, links=links, headlines=teasers)

    def describe_shapes(self) -> list[str]:
        """Lines for the log at -v: every shape with its kind and counts."""
        return [
            f"{kind.value:8} {c.articles:5} articles {c.listings:5} listings "
            f"{c.others:5} other {c.gone:5} gone  {shape}"
            for shape, kind, c in self.book.describe()
        ]


def _judged(urls: Iterable[str | Link]) -> list[Link]:
    """Links as the extraction worker judged them, or plain URLs judged here."""
    return [url if isinstance(url, Link) else judge_links([url])[0] for url in urls]
