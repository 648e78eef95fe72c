"""The crawler's memory of a site between runs: learned URL shapes and decided URLs.

Written once at the end of a run and read once at the start of the next, in bulk; bounded
per site (the most recently checked URLs and shapes are kept) so a site with millions of
tag pages cannot grow the archive without limit. Expiry is the reader's choice: a page that
was not a story may be one now, so a run asks only for verdicts newer than its site's
`recheck_after`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Table, delete, func, select

from storage.engine import dialect_module
from storage.models import shape_table as _shapes, url_verdict_table as _verdicts

__all__ = [
    "MAX_SHAPES_PER_SITE",
    "MAX_URLS_PER_SITE",
    "RememberedUrl",
    "ShapeRow",
    "counts",
    "forget_urls",
    "load_shapes",
    "load_urls",
    "save_shapes",
    "save_urls",
    "url_key",
]

MAX_URLS_PER_SITE = 100_000
MAX_SHAPES_PER_SITE = 2_000
VERDICTS = ("not_story", "gone", "listing")
# The shape column's width: a longer shape is cut (crawler.analysis.url_shapes cuts them so).
_SHAPE_CHARS: int = _shapes.c.shape.type.length  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class ShapeRow:
    shape: str
    articles: int
    listings: int
    others: int
    gone: int = 0


@dataclass(frozen=True, slots=True)
class RememberedUrl:
    url: str
    verdict: str  # "not_story", "gone" or "listing"
    etag: str | None = None
    last_modified: str | None = None
    # A listing's links, judged again when it answers 304, and which of them were teasers.
    links: tuple[str, ...] = ()
    headlines: tuple[str, ...] = ()


def url_key(url: str) -> bytes:
    return hashlib.blake2b(url.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def load_shapes(conn: Connection, site: str, decided_after: datetime) -> list[ShapeRow]:
    """The site's shapes; one that never gave a story or listing is forgotten once it was
    last seen before `decided_after`, like a URL's verdict (a site's templates change)."""
    columns = (_shapes.c.articles, _shapes.c.listings, _shapes.c.others, _shapes.c.gone)
    useful = (_shapes.c.articles > 0) | (_shapes.c.listings > 0)
    rows = conn.execute(
        select(_shapes.c.shape, *columns).where(
            _shapes.c.site == site, useful | (_shapes.c.updated_at >= decided_after)
        )
    )
    return [ShapeRow(*row) for row in rows]


def load_urls(conn: Connection, site: str, decided_after: datetime) -> list[RememberedUrl]:
    """Listings (any age: they are re-fetched every run, conditionally) and the pages not
    to fetch again that were decided after `decided_after`."""
    fresh = _verdicts.c.checked_at >= decided_after
    statement = select(
        _verdicts.c.url,
        _verdicts.c.verdict,
        _verdicts.c.etag,
        _verdicts.c.last_modified,
        _verdicts.c.links,
    ).where(_verdicts.c.site == site, (_verdicts.c.verdict == "listing") | fresh)
    rows = conn.execute(statement.execution_options(yield_per=5000))
    return [
        RememberedUrl(url, verdict, etag, modified, *_links_from_text(links))
        for url, verdict, etag, modified, links in rows
    ]


# In the `links` column a teaser's line starts with this (a canonical URL never does).
_TEASER = "*"


def _links_to_text(url: RememberedUrl) -> str | None:
    teasers = set(url.headlines)
    return "\n".join(_TEASER + u if u in teasers else u for u in url.links) or None


def _links_from_text(text: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    lines = text.split("\n") if text else []
    links = tuple(line.removeprefix(_TEASER) for line in lines)
    return links, tuple(line[1:] for line in lines if line.startswith(_TEASER))


def save_shapes(conn: Connection, site: str, shapes: Mapping[str, ShapeRow], now: datetime) -> None:
    """Store the totals of the shapes a run added to; keep the most recent per site."""
    rows = [
        {
            "site": site,
            "shape": row.shape[:_SHAPE_CHARS],
            "articles": row.articles,
            "listings": row.listings,
            "others": row.others,
            "gone": row.gone,
            "updated_at": now,
        }
        for row in shapes.values()
    ]
    _upsert(conn, _shapes, rows)
    _prune(conn, site, _shapes, _shapes.c.shape, _shapes.c.updated_at, MAX_SHAPES_PER_SITE)


def save_urls(
    conn: Connection,
    site: str,
    urls: Iterable[RememberedUrl],
    now: datetime,
    *,
    keep: int = MAX_URLS_PER_SITE,
) -> None:
    """Record this run's verdicts (the newest wins) and keep the site's `keep` newest."""
    rows = {
        url_key(u.url): {
            "site": site,
            "url_key": url_key(u.url),
            "url": u.url,
            "verdict": u.verdict,
            "etag": u.etag,
            "last_modified": u.last_modified,
            "links": _links_to_text(u),
            "checked_at": now,
        }
        for u in urls
        if u.verdict in VERDICTS
    }
    _upsert(conn, _verdicts, list(rows.values()))
    _prune(conn, site, _verdicts, _verdicts.c.url_key, _verdicts.c.checked_at, keep)


def _upsert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert the rows; a row whose primary key exists already is replaced."""
    if not rows:
        return
    keys = [column.name for column in table.primary_key.columns]
    statement = dialect_module(conn.dialect.name).insert(table)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=keys,
            set_={name: statement.excluded[name] for name in rows[0] if name not in keys},
        ),
        rows,
    )


def forget_urls(conn: Connection, site: str, urls: Iterable[str]) -> None:
    """Pages that were stories this run: whatever was remembered about them no longer holds."""
    keys = [url_key(url) for url in urls]
    for start in range(0, len(keys), 500):
        conn.execute(
            delete(_verdicts).where(
                _verdicts.c.site == site, _verdicts.c.url_key.in_(keys[start : start + 500])
            )
        )


def counts(conn: Connection) -> dict[str, dict[str, Any]]:
    """{site: {"shapes": n, "remembered_urls": {verdict: n}}} for `newsarchive stats`."""
    found: dict[str, dict[str, Any]] = {}
    for site, n in conn.execute(select(_shapes.c.site, func.count()).group_by(_shapes.c.site)):
        found.setdefault(site, {"shapes": 0, "remembered_urls": {}})["shapes"] = int(n)
    for site, verdict, n in conn.execute(
        select(_verdicts.c.site, _verdicts.c.verdict, func.count()).group_by(
            _verdicts.c.site, _verdicts.c.verdict
        )
    ):
        entry = found.setdefault(site, {"shapes": 0, "remembered_urls": {}})
        entry["remembered_urls"][verdict] = int(n)
    return found


def _prune(
    conn: Connection, site: str, table: Table, key: Column[Any], when: Column[Any], keep: int
) -> None:
    """Delete a site's rows beyond the `keep` most recent."""
    surplus = select(key).where(table.c.site == site).order_by(when.desc(), key).offset(keep)
    conn.execute(delete(table).where(table.c.site == site, key.in_(surplus)))
