"""What a site's URL shapes turned out to be: stories, listings, or pages worth nothing.

Every page the crawl decides adds one verdict to its shapes (crawler.analysis.url_shapes).
A shape is a story shape once its pages are mostly articles, a listing shape once they are
mostly listings; a shape that produced a few pages and no story or listing is dropped, and
links of that shape are not fetched again. The counts are kept per site in the archive, so
the next run starts knowing the site.

A listing shape can also be barren: several of its pages in this run named no story the run
had not already seen (the twentieth tag page of a site whose stories the sitemap listed).
Barrenness is judged per run, since every listing names only known stories on a recrawl.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from crawler.analysis.url_shapes import COARSE_MARK, UrlShape

__all__ = ["BARREN_AFTER", "DROP_AFTER", "ShapeBook", "ShapeCounts", "ShapeKind"]

# Pages of a shape fetched with no story or listing among them before it is dropped.
DROP_AFTER = 3
# Above this many pages, a shape whose stories and listings are under a fifth is dropped.
MIXED_AFTER = 10
# Listing pages of a shape in this run that named no new story before it counts as barren.
BARREN_AFTER = 4
# Counts stop growing past this: halved, so that what a site does now outweighs the past.
_SATURATION = 1000


class ShapeKind(enum.Enum):
    UNKNOWN = "unknown"
    STORY = "story"
    LISTING = "listing"
    BARREN = "barren"
    DROPPED = "dropped"


@dataclass(slots=True)
class ShapeCounts:
    articles: int = 0
    listings: int = 0
    # Pages fetched that were neither, and addresses that answered 404/410. A dead link can
    # keep a live template (expired wire copy under the story URL scheme), so the gone
    # count can drop a shape that never produced anything, but not outvote its stories.
    others: int = 0
    gone: int = 0

    @property
    def pages(self) -> int:
        return self.articles + self.listings + self.others + self.gone

    def kind(self) -> ShapeKind:
        useful = self.articles + self.listings
        answered = useful + self.others
        if self.articles and self.articles * 2 >= answered and self.articles >= self.listings:
            return ShapeKind.STORY
        if self.listings and useful * 2 >= answered:
            return ShapeKind.LISTING if self.listings > self.articles else ShapeKind.STORY
        if useful == 0 and self.pages >= DROP_AFTER:
            return ShapeKind.DROPPED
        if answered >= MIXED_AFTER and useful * 5 < answered:
            return ShapeKind.DROPPED
        return ShapeKind.UNKNOWN

    def add(self, verdict: str) -> None:
        if verdict == "article":
            self.articles += 1
        elif verdict == "listing":
            self.listings += 1
        elif verdict == "gone":
            self.gone += 1
        else:
            self.others += 1
        if self.pages > _SATURATION:
            self.articles //= 2
            self.listings //= 2
            self.others //= 2
            self.gone //= 2


@dataclass(slots=True)
class _RunListing:
    pages: int = 0
    new_stories: int = 0


class ShapeBook:
    """Shape counts of one site: what earlier runs stored plus this run's verdicts."""

    def __init__(self, known: Mapping[str, ShapeCounts] | None = None) -> None:
        self._counts: dict[str, ShapeCounts] = {
            shape: ShapeCounts(c.articles, c.listings, c.others, c.gone)
            for shape, c in (known or {}).items()
        }
        self._changed: set[str] = set()
        self._listing_yield: dict[str, _RunListing] = {}
        # Section prefixes (host and first path segment) with stories or listings.
        self._sections: set[str] = {
            _prefix(shape)
            for shape, c in self._counts.items()
            if (c.articles or c.listings) and not shape.startswith(COARSE_MARK)
        }

    def kind(self, shape: UrlShape) -> ShapeKind:
        """The fine shape's kind when it has one; else a story shape if the coarse shape is
        one and the fine shape's section prefix is one where the site has shown stories or
        listings (links copied from other sites name sections this site does not have).
        Only stories carry over: the coarse `/{word}/` of a site's sections is also that of
        its /about/, /contact/ and every old path that now answers 404."""
        fine = self._fine_kind(shape.fine)
        if fine is not ShapeKind.UNKNOWN:
            return fine
        coarse = self._counts.get(shape.coarse)
        if (
            coarse is not None
            and coarse.kind() is ShapeKind.STORY
            and (not shape.has_section or _prefix(shape.fine) in self._sections)
        ):
            return ShapeKind.STORY
        return ShapeKind.UNKNOWN

    def fine_kind(self, shape: UrlShape) -> ShapeKind:
        """What this run and earlier ones showed of the fine shape alone."""
        return self._fine_kind(shape.fine)

    def productive(self, shape: UrlShape) -> bool | None:
        """Whether listing pages of this shape named stories new to this run; None before
        the run has seen one."""
        run = self._listing_yield.get(shape.fine)
        return None if run is None else run.new_stories > 0

    def listing_pages_this_run(self, shape: UrlShape) -> int:
        """Listing pages of this shape the run has read (towards BARREN_AFTER)."""
        run = self._listing_yield.get(shape.fine)
        return 0 if run is None else run.pages

    def _fine_kind(self, fine: str) -> ShapeKind:
        counts = self._counts.get(fine)
        kind = counts.kind() if counts is not None else ShapeKind.UNKNOWN
        if kind is ShapeKind.LISTING:
            run = self._listing_yield.get(fine)
            if run is not None and run.pages >= BARREN_AFTER and run.new_stories == 0:
                return ShapeKind.BARREN
        return kind

    def record(self, shape: UrlShape, verdict: str) -> None:
        """One decided page: "article", "listing", "gone" (404/410) or anything else."""
        for key in {shape.fine, shape.coarse}:
            self._counts.setdefault(key, ShapeCounts()).add(verdict)
            self._changed.add(key)
        if verdict in ("article", "listing"):
            self._sections.add(_prefix(shape.fine))

    def listing_yield(self, shape: UrlShape, new_stories: int) -> None:
        """A listing page of this shape named `new_stories` stories the run had not seen."""
        run = self._listing_yield.setdefault(shape.fine, _RunListing())
        run.pages += 1
        run.new_stories += new_stories

    def counts(self, shape: str) -> ShapeCounts | None:
        return self._counts.get(shape)

    def changed(self) -> dict[str, ShapeCounts]:
        """The shapes this run added verdicts to, with their totals: what to store."""
        return {shape: self._counts[shape] for shape in sorted(self._changed)}

    def describe(self) -> Iterable[tuple[str, ShapeKind, ShapeCounts]]:
        """Every shape with a kind, most pages first, for the log at -v."""
        ranked = sorted(self._counts.items(), key=lambda item: (-item[1].pages, item[0]))
        for shape, counts in ranked:
            yield shape, self._fine_kind(shape), counts


def _prefix(shape: str) -> str:
    """The host and first path element of a shape: `news.example/world`."""
    host, _, path = shape.partition("/")
    return host + "/" + path.split("/", 1)[0].split("?", 1)[0]
