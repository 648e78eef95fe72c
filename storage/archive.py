"""The archive: one object that writes fetches and answers queries.

The crawler calls `record_fetches` with batches (one transaction per batch, retried on
transient conflicts; a batch that fails for a data reason is replayed record by record so
one bad record never loses its neighbours). The CLI and users' scripts call the query
methods. Opening an archive migrates its schema.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DataError, IntegrityError

from storage import blobs, browse, discovery_memory, leases, run_queue, textdiff
from storage.engine import build_engine, sqlite_uri_path, writer
from storage.export_rows import iter_rows
from storage.fulltext import SearchFacets, SearchFilters, SearchHit, search, search_facets
from storage.migrate import current_revision, upgrade
from storage.migrations import HEAD_REVISION
from storage.models import (
    alias_table as _aliases,
    article_table as _articles,
    blob_table as _blobs,
    run_table as _runs,
    site_table as _sites,
    snapshot_table as _snapshots,
)
from storage.prepare import FetchKind, InvalidFetchError, PreparedFetch, prepare, url_hash
from storage.records import FetchRecord, Outcome, RecordResult
from storage.retries import with_retries
from storage.urls import InvalidURLError, canonicalize_url
from storage.views import ArticleView, RunView, SnapshotView, VersionInfo
from storage.writes import SiteCache, latest_content_hashes, write_prepared

__all__ = [
    "Archive",
    "ArchiveMissingError",
    "ArticleNotFoundError",
    "InvalidFetchError",
    "foreign_sqlite",
]

log = logging.getLogger(__name__)


T = TypeVar("T")

_ID_RE = re.compile(r"[0-9]{1,18}")

RUN_STATUSES = ("queued", "running", "succeeded", "failed", "interrupted")
RUN_TRIGGERS = ("manual", "scheduled")


class ArticleNotFoundError(LookupError):
    """No story answers to this URL, id or version."""


class ArchiveMissingError(LookupError):
    """The database named holds no archive (and the caller did not ask to create one)."""


class Archive:
    """A versioned article archive in one SQLite file or PostgreSQL database."""

    @classmethod
    def open(
        cls, target: str | os.PathLike[str], *, create: bool = False, read_only: bool = False
    ) -> Archive:
        """The archive at a database URL or an SQLite file's path, for a program reading it.

        Unlike the constructor, by default the archive must exist already
        (ArchiveMissingError): a mistyped path in a script must not become a new, empty
        archive that the script then reads as "no stories".
        """
        text = os.fspath(target)
        url = text if "://" in text else f"sqlite:///{Path(text).expanduser().resolve()}"
        return cls(url, create=create, read_only=read_only)

    def __init__(
        self, url: str, *, migrate: bool = True, create: bool = True, read_only: bool = False
    ) -> None:
        """Open (and migrate) the archive at `url`; with create=False it must exist already.

        read_only: the database refuses every write through this archive (SQLite opens the
        file read-only, PostgreSQL makes every transaction read-only); it must exist and be
        at the current schema, as nothing is migrated.
        """
        self.url = url
        if read_only:
            migrate, create = False, False
        self.engine: Engine = build_engine(url, read_only=read_only)
        self._writer = writer(self.engine)
        self._sites = SiteCache()
        self._pool: ThreadPoolExecutor | None = None
        # Once the database has answered, a connection it refuses is an outage to ride out
        # (a restart, a failover), not a mistyped --db to report at once.
        self._reachable = False
        foreign = foreign_sqlite(self.engine)
        if foreign is not None:
            self.engine.dispose()
            raise ArchiveMissingError(f"{foreign}: not an archive, left untouched (check --db)")
        if not create:
            self._require_existing(current=read_only)
        if migrate:
            upgrade(self.engine)
            self._reachable = True

    def _require_existing(self, *, current: bool = False) -> None:
        path = _sqlite_file(self.engine) if self.dialect == "sqlite" else None
        if path is not None and not path.is_file():
            self.engine.dispose()
            raise ArchiveMissingError(f"no archive at {path} (check --db)")
        with self.engine.connect() as conn:
            found = current_revision(conn)
        if found is None:
            self.engine.dispose()
            raise ArchiveMissingError(f"{self.engine.url.render_as_string()} holds no archive")
        if current and found != HEAD_REVISION:
            self.engine.dispose()
            raise ArchiveMissingError(
                f"the archive's schema is at revision {found}, this newsarchive reads "
                f"{HEAD_REVISION}: run `newsarchive db upgrade` (or any crawl) first"
            )

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # ------------------------------------------------------------------ writes

    def record_fetch(self, record: FetchRecord) -> RecordResult:
        """Record one fetch; raises InvalidFetchError for a record that cannot be archived."""
        item = prepare(record)
        return self._write([item])[0]

    def record_fetches(self, records: Sequence[FetchRecord | PreparedFetch]) -> list[RecordResult]:
        """Record a batch in one transaction; invalid records come back REJECTED.

        Records may arrive already prepared (`storage.prepare.prepare(record).precompute()`,
        done in another process), in which case only the SQL remains to be done here.
        """
        results: list[RecordResult | None] = [None] * len(records)
        items: list[tuple[int, PreparedFetch]] = []
        for position, record in enumerate(records):
            if isinstance(record, PreparedFetch):
                items.append((position, record))
                continue
            try:
                items.append((position, prepare(record)))
            except InvalidFetchError as exc:
                results[position] = RecordResult(Outcome.REJECTED, error=str(exc))
        if items:
            try:
                written = self._write([item for _, item in items])
            except (IntegrityError, DataError) as exc:
                # A record the database refuses; anything else (the database is down,
                # locked for too long) propagates, so the caller keeps the batch.
                log.warning("batch of %d failed (%s); recording one by one", len(items), exc.orig)
                written = [self._write_one_safely(item) for _, item in items]
            for (position, _), result in zip(items, written, strict=True):
                results[position] = result
        return [r for r in results if r is not None]

    def _write_one_safely(self, item: PreparedFetch) -> RecordResult:
        try:
            return self._write([item])[0]
        except (IntegrityError, DataError) as exc:
            log.error("could not record %s: %s", item.record.url, exc.orig)
            return RecordResult(Outcome.REJECTED, error=str(exc.orig))

    def _precompute_blobs(self, items: list[PreparedFetch]) -> None:
        """Hash and compress, on all cores and outside the write lock, the bodies that
        will become new versions; bodies of stories whose content is unchanged are skipped.
        """
        candidates = [
            i
            for i in items
            if i.kind is FetchKind.ARTICLE and i.record.body and i.compressed is None
        ]
        if len(candidates) < 2:
            return  # a single record is cheaper to handle inside the transaction
        with self.engine.connect() as conn:
            latest = latest_content_hashes(conn, candidates)
        needed = [
            item
            for item in candidates
            if item.content is not None
            and not any(
                latest.get(url_hash(u)) == item.content.content_hash for u in item.candidate_urls
            )
        ]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2)
        list(self._pool.map(PreparedFetch.precompute_blob, needed))

    def _write(self, items: list[PreparedFetch]) -> list[RecordResult]:
        self._precompute_blobs(items)
        return self._transaction(
            lambda conn: write_prepared(conn, items, self._sites), what="record"
        )

    def _transaction(self, work: Callable[[Connection], T], *, what: str) -> T:
        """One write transaction, retried whole on transient conflicts.

        Site ids created inside are remembered only once it commits, and forgotten on
        every failed attempt, so a retry never uses an id that was rolled back.
        """

        def attempt() -> T:
            try:
                with self._writer.begin() as conn:
                    result = work(conn)
            except BaseException:
                self._sites.rollback()
                raise
            self._sites.commit()
            self._reachable = True
            return result

        return with_retries(attempt, what=what, reconnect=self._reachable)

    # ------------------------------------------------------------------ crawl runs

    def start_run(self, site: str, trigger: str = "manual") -> int:
        if trigger not in RUN_TRIGGERS:
            raise ValueError(f"trigger: expected one of {', '.join(RUN_TRIGGERS)}")
        now = datetime.now(UTC)

        def work(conn: Connection) -> int:
            return int(
                conn.execute(
                    insert(_runs)
                    .values(
                        site_id=self._sites.site_id(conn, site, now),
                        trigger=trigger,
                        status="running",
                        started_at=now,
                        counters={},
                    )
                    .returning(_runs.c.id)
                ).scalar_one()
            )

        return self._transaction(work, what="start run")

    def finish_run(
        self,
        run_id: int,
        status: str,
        counters: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        if status not in RUN_STATUSES or status == "running":
            raise ValueError("status: expected succeeded, failed or interrupted")

        def attempt() -> None:
            with self._writer.begin() as conn:
                conn.execute(
                    update(_runs)
                    .where(_runs.c.id == run_id)
                    .values(
                        status=status,
                        finished_at=datetime.now(UTC),
                        counters=dict(counters or {}),
                        error=error,
                    )
                )

        with_retries(attempt, what="finish run", reconnect=self._reachable)

    # ------------------------------------------------------------------ queued runs

    def queue_run(self, site: str, trigger: str, request: dict[str, Any]) -> int:
        """Record a run for a worker to take (storage.run_queue); returns its id."""
        if trigger not in RUN_TRIGGERS:
            raise ValueError(f"trigger: expected one of {', '.join(RUN_TRIGGERS)}")
        now = datetime.now(UTC)

        def work(conn: Connection) -> int:
            return run_queue.queue(
                conn, self._sites.site_id(conn, site, now), trigger, request, now
            )

        return self._transaction(work, what="queue run")

    def mark_published(self, run_ids: Sequence[int]) -> None:
        now = datetime.now(UTC)
        self._transaction(lambda c: run_queue.mark_published(c, list(run_ids), now), what="run")

    def claim_run(self, run_id: int, worker: str | None) -> bool:
        """Queued -> running for this process; False if another process took it first."""
        now = datetime.now(UTC)
        return self._transaction(lambda c: run_queue.claim(c, run_id, worker, now), what="run")

    def latest_attempt(self, run_id: int) -> run_queue.Attempt | None:
        with self.engine.connect() as conn:
            return run_queue.latest_attempt(conn, run_id)

    def retry_run(self, previous: run_queue.Attempt, reason: str) -> int:
        """Close `previous` as interrupted (if it still looks running) and record the next
        attempt, queued; both in one transaction."""
        now = datetime.now(UTC)

        def work(conn: Connection) -> int:
            conn.execute(
                update(_runs)
                .where(_runs.c.id == previous.id, _runs.c.status.in_(run_queue.ACTIVE_STATUSES))
                .values(status="interrupted", finished_at=now, error=reason)
            )
            return run_queue.next_attempt(conn, previous, now)

        return self._transaction(work, what="retry run")

    def finish_run_if(self, run_id: int, statuses: Sequence[str], status: str, error: str) -> bool:
        """Record the end of a run only if it is still in one of `statuses` (compare and
        set): a queue worker closing a run it did not see end never overwrites the end
        its crawl recorded, nor a run another worker has claimed meanwhile."""
        if status not in RUN_STATUSES or status in run_queue.ACTIVE_STATUSES:
            raise ValueError("status: expected succeeded, failed or interrupted")
        now = datetime.now(UTC)
        return self._transaction(
            lambda c: run_queue.finish_if(c, run_id, list(statuses), status, error, now),
            what="run",
        )

    def stale_queued_runs(self, published_before: datetime) -> list[tuple[int, dict[str, Any]]]:
        with self.engine.connect() as conn:
            return run_queue.stale_queued(conn, published_before)

    def queued_run_count(self) -> int:
        with self.engine.connect() as conn:
            return run_queue.count_queued(conn)

    def active_run(self, site: str) -> tuple[int, str] | None:
        with self.engine.connect() as conn:
            return run_queue.active_run(conn, site)

    def runs(
        self,
        site: str | None = None,
        limit: int = 20,
        *,
        ids: Sequence[int] | None = None,
        status: str | None = None,
    ) -> list[RunView]:
        """Newest first; `ids` and `status` narrow the list."""
        statement = (
            select(_runs, _sites.c.name.label("site"))
            .join(_sites, _sites.c.id == _runs.c.site_id)
            .order_by(_runs.c.started_at.desc(), _runs.c.id.desc())
            .limit(max(1, limit))
        )
        if site:
            statement = statement.where(_sites.c.name == site)
        if ids is not None:
            statement = statement.where(_runs.c.id.in_(list(ids)))
        if status is not None:
            statement = statement.where(_runs.c.status == status)
        with self.engine.connect() as conn:
            rows = conn.execute(statement).mappings().all()
        return [
            RunView(
                id=row["id"],
                site=row["site"],
                trigger=row["trigger"],
                status=row["status"],
                started_at=row["started_at"],
                finished_at=row["finished_at"],
                counters=dict(row["counters"] or {}),
                error=row["error"],
                worker=row["worker"],
                attempt=row["attempt"],
                retry_of=row["retry_of"],
            )
            for row in rows
        ]

    def run(self, run_id: int) -> RunView | None:
        found = self.runs(ids=[run_id], limit=1)
        return found[0] if found else None

    def validators(self, site: str) -> Iterator[tuple[str, str | None, str | None]]:
        """(url, etag, last_modified) for every URL of the site's stories that has either.

        The crawler turns these into If-None-Match / If-Modified-Since headers, so an
        unchanged story costs a 304 instead of a download and an extraction.
        """
        statement = (
            select(_aliases.c.url, _articles.c.etag, _articles.c.last_modified)
            .join(_articles, _articles.c.id == _aliases.c.article_id)
            .join(_sites, _sites.c.id == _articles.c.site_id)
            .where(_sites.c.name == site)
            .where((_articles.c.etag.is_not(None)) | (_articles.c.last_modified.is_not(None)))
        )
        with self.engine.connect() as conn:
            for row in conn.execute(statement.execution_options(yield_per=5000)):
                yield row[0], row[1], row[2]

    # ------------------------------------------------------------------ discovery memory

    def load_discovery_memory(
        self, site: str, decided_after: datetime
    ) -> tuple[list[discovery_memory.ShapeRow], list[discovery_memory.RememberedUrl]]:
        """What earlier runs learned about the site (storage.discovery_memory): its URL
        shapes, its listings, and the pages not to fetch again decided after the cutoff
        (shapes that never gave anything are forgotten after it too)."""
        with self.engine.connect() as conn:
            shapes = discovery_memory.load_shapes(conn, site, decided_after)
            urls = discovery_memory.load_urls(conn, site, decided_after)
        return shapes, urls

    def remember_discovery(
        self,
        site: str,
        shapes: dict[str, discovery_memory.ShapeRow],
        urls: Sequence[discovery_memory.RememberedUrl],
        stories: Sequence[str],
    ) -> None:
        """Store a run's learned shapes and verdicts, and forget verdicts on URLs that
        were stories this time; one transaction."""
        now = datetime.now(UTC)

        def work(conn: Connection) -> None:
            discovery_memory.save_shapes(conn, site, shapes, now)
            discovery_memory.save_urls(conn, site, urls, now)
            discovery_memory.forget_urls(conn, site, stories)

        self._transaction(work, what="discovery memory")

    def discovery_counts(self) -> dict[str, dict[str, Any]]:
        """Per site: learned URL shapes, and remembered URLs by verdict."""
        with self.engine.connect() as conn:
            return discovery_memory.counts(conn)

    # ------------------------------------------------------------------ site leases

    def acquire_lease(
        self, site: str, holder: str, ttl: timedelta, *, replacing: str | None = None
    ) -> bool:
        """Hold the site's crawl lease (see storage.leases); False if another holds it.
        `replacing`: a holder known to be dead, whose lease is taken over at once."""
        return self._transaction(
            lambda c: leases.acquire(c, site, holder, ttl, replacing=replacing), what="lease"
        )

    def renew_lease(self, site: str, holder: str, ttl: timedelta) -> bool:
        return self._transaction(lambda c: leases.renew(c, site, holder, ttl), what="lease")

    def release_lease(self, site: str, holder: str) -> None:
        self._transaction(lambda c: leases.release(c, site, holder), what="lease")

    def lease(self, site: str) -> leases.Lease | None:
        with self.engine.connect() as conn:
            return leases.current(conn, site)

    def interrupt_orphaned_runs(
        self, sites: Sequence[str] | None = None, holder: str | None = None
    ) -> list[tuple[int, str]]:
        """Runs still `running` whose site nobody holds a lease on: their process died
        without recording its end (SIGKILL, power cut, full disk). They are marked
        interrupted; returns their (run id, site).

        `sites` limits the search to those sites. A lease held by `holder` counts as none:
        a crawl that has just taken its sites' leases and not yet started its runs calls
        this with its own holder name, since every run still `running` on those sites
        then belongs to a process that no longer holds the lease.
        """
        statement = (
            select(_runs.c.id, _sites.c.name)
            .join(_sites, _sites.c.id == _runs.c.site_id)
            .where(_runs.c.status == "running")
        )
        if sites is not None:
            statement = statement.where(_sites.c.name.in_(list(sites)))
        with self.engine.connect() as conn:
            rows = conn.execute(statement).all()
            found = []
            for run_id, site in rows:
                lease = leases.current(conn, site)
                if lease is None or (holder is not None and lease.holder == holder):
                    found.append((int(run_id), str(site)))
        orphans = []
        for run_id, site in found:
            # Only a run that is still `running`: one that ended between the look and
            # now keeps the status its own process recorded.
            if self._transaction(partial(_interrupt_if_running, run_id=run_id), what="run"):
                orphans.append((run_id, site))
        return orphans

    # ------------------------------------------------------------------ lookups

    def resolve(self, ref: str | int) -> int:
        """The id of the story named by an id or by any URL it was seen under."""
        with self.engine.connect() as conn:
            return self._resolve(conn, ref)

    def _resolve(self, conn: Connection, ref: str | int) -> int:
        text_ref = str(ref).strip()
        if _ID_RE.fullmatch(text_ref):
            found = conn.execute(
                select(_articles.c.id).where(_articles.c.id == int(text_ref))
            ).scalar()
            if found is None:
                raise ArticleNotFoundError(f"no article with id {text_ref}")
            return int(found)
        try:
            canonical = canonicalize_url(text_ref)
        except InvalidURLError as exc:
            raise ArticleNotFoundError(str(exc)) from None
        found = conn.execute(
            select(_aliases.c.article_id).where(_aliases.c.url_hash == url_hash(canonical))
        ).scalar()
        if found is None:
            raise ArticleNotFoundError(f"no article archived under {text_ref}")
        return int(found)

    def article(self, ref: str | int) -> ArticleView:
        with self.engine.connect() as conn:
            article_id = self._resolve(conn, ref)
            row = (
                conn.execute(
                    select(_articles, _sites.c.name.label("site"))
                    .join(_sites, _sites.c.id == _articles.c.site_id)
                    .where(_articles.c.id == article_id)
                )
                .mappings()
                .one()
            )
            aliases = (
                conn.execute(
                    select(_aliases.c.url)
                    .where(_aliases.c.article_id == article_id)
                    .order_by(_aliases.c.url)
                )
                .scalars()
                .all()
            )
        return ArticleView(
            id=row["id"],
            site=row["site"],
            canonical_url=row["canonical_url"],
            first_url=row["first_url"],
            first_seen=row["first_seen"],
            last_seen=row["last_seen"],
            last_checked=row["last_checked"],
            versions=row["latest_version"],
            duplicate_group=row["duplicate_group"],
            aliases=list(aliases),
        )

    def snapshot(self, ref: str | int, version: int | None = None) -> SnapshotView:
        """A version of a story (the latest by default; negative counts from the latest)."""
        with self.engine.connect() as conn:
            article_id = self._resolve(conn, ref)
            latest = conn.execute(
                select(_articles.c.latest_version).where(_articles.c.id == article_id)
            ).scalar_one()
            wanted = latest if version is None else version
            if wanted < 0:  # -1 is the version before the latest
                wanted = latest + wanted
            row = (
                conn.execute(
                    select(_snapshots).where(
                        _snapshots.c.article_id == article_id, _snapshots.c.version == wanted
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            have = f"1-{latest}" if latest > 1 else "only version 1"
            raise ArticleNotFoundError(f"article {article_id} has no version {version} ({have})")
        return _snapshot_view(row)

    def history(self, ref: str | int) -> list[VersionInfo]:
        with self.engine.connect() as conn:
            article_id = self._resolve(conn, ref)
            rows = conn.execute(
                select(
                    _snapshots.c.version,
                    _snapshots.c.fetched_at,
                    _snapshots.c.content_hash,
                    _snapshots.c.changed_fields,
                    _snapshots.c.title,
                    _snapshots.c.url,
                    _snapshots.c.cause,
                )
                .where(_snapshots.c.article_id == article_id)
                .order_by(_snapshots.c.version)
            ).all()
        return [
            VersionInfo(
                r.version,
                r.fetched_at,
                r.content_hash,
                list(r.changed_fields),
                r.title,
                r.url,
                r.cause,
            )
            for r in rows
        ]

    def raw_html(self, ref: str | int, version: int | None = None) -> bytes:
        """The page body a version was extracted from, decompressed."""
        snap = self.snapshot(ref, version)
        if snap.blob_sha256 is None:
            return b""
        return self.blob(snap.blob_sha256)

    def blobs(self, sha256s: Sequence[str]) -> dict[str, bytes]:
        """Several bodies by SHA-256 in one query (exports read them chunk by chunk)."""
        if not sha256s:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(_blobs.c.sha256, _blobs.c.codec, _blobs.c.data).where(
                    _blobs.c.sha256.in_(sorted(set(sha256s)))
                )
            ).all()
        return {row.sha256: blobs.decompress(row.codec, row.data) for row in rows}

    def blob(self, sha256: str) -> bytes:
        return self.blobs([sha256])[sha256]

    # ------------------------------------------------------------------ search and stats

    def search(
        self,
        query: str,
        filters: SearchFilters | None = None,
        *,
        limit: int = 20,
        offset: int = 0,
        collapse_duplicates: bool = False,
    ) -> list[SearchHit]:
        with self.engine.connect() as conn:
            return search(
                conn,
                query,
                filters,
                limit=limit,
                offset=offset,
                collapse_duplicates=collapse_duplicates,
            )

    def search_facets(
        self, query: str, filters: SearchFilters | None = None, *, cap: int = 10_000
    ) -> SearchFacets:
        with self.engine.connect() as conn:
            return search_facets(conn, query, filters, cap=cap)

    # ------------------------------------------------------------------ browsing

    def articles(
        self, filters: SearchFilters | None = None, *, limit: int = 100, offset: int = 0
    ) -> list[browse.StorySummary]:
        """Stories matching `filters`, without a search term, newest first."""
        with self.engine.connect() as conn:
            return browse.list_stories(conn, filters or SearchFilters(), limit=limit, offset=offset)

    def diff(
        self, ref: str | int, from_version: int | None = None, to_version: int | None = None
    ) -> textdiff.VersionDiff:
        """Word-level differences between two versions (by default the latest and the one
        before it; negative numbers count back from the latest, as `snapshot` does)."""
        newer = self.snapshot(ref, to_version)
        if from_version is None:
            if newer.version == 1:
                raise textdiff.NothingToCompareError(
                    f"version 1 of article {newer.article_id} is its first: "
                    "nothing earlier to compare"
                )
            from_version = newer.version - 1
        older = self.snapshot(ref, from_version)
        fields = tuple(textdiff.diff_snapshots(older, newer))
        return textdiff.VersionDiff(newer.article_id, older, newer, fields)

    def recent_stories(
        self, *, site: str | None = None, limit: int = 20, offset: int = 0
    ) -> list[browse.StorySummary]:
        with self.engine.connect() as conn:
            return browse.recent_stories(conn, site=site, limit=limit, offset=offset)

    def recent_changes(
        self, *, site: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[browse.Change]:
        with self.engine.connect() as conn:
            return browse.recent_changes(conn, site=site, limit=limit, offset=offset)

    def stories_per_day(self, site: str, days: int = 30) -> list[tuple[date, int]]:
        with self.engine.connect() as conn:
            return browse.stories_per_day(conn, site, days, datetime.now(UTC).date())

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return browse.counts(conn)

    def site_summaries(self, site: str | None = None) -> list[browse.SiteSummary]:
        with self.engine.connect() as conn:
            return browse.site_summaries(conn, site)

    def copies_of(self, article: ArticleView) -> list[browse.StorySummary]:
        with self.engine.connect() as conn:
            return browse.copies_of(conn, article.id, article.duplicate_group)

    def stats(self) -> dict[str, Any]:
        with self.engine.connect() as conn:
            count = func.count()
            # count(articles.id), not count(*): a site without articles counts 0, not 1.
            per_site = conn.execute(
                select(_sites.c.name, func.count(_articles.c.id).label("articles"))
                .select_from(_sites.outerjoin(_articles, _articles.c.site_id == _sites.c.id))
                .group_by(_sites.c.name)
                .order_by(_sites.c.name)
            ).all()
            groups = (
                select(_articles.c.duplicate_group)
                .where(_articles.c.duplicate_group.is_not(None))
                .group_by(_articles.c.duplicate_group)
                .having(func.count() > 1)
                .subquery()
            )
            blob_row = conn.execute(
                select(
                    func.count().label("blobs"),
                    func.coalesce(func.sum(_blobs.c.size), 0).label("raw"),
                    func.coalesce(func.sum(func.length(_blobs.c.data)), 0).label("stored"),
                )
            ).one()
            seen = conn.execute(
                select(
                    func.min(_articles.c.first_seen).label("first"),
                    func.max(_articles.c.last_seen).label("last"),
                )
            ).one()
            return {
                "articles": conn.execute(select(count).select_from(_articles)).scalar_one(),
                "snapshots": conn.execute(select(count).select_from(_snapshots)).scalar_one(),
                "sites": len(per_site),
                "runs": conn.execute(select(count).select_from(_runs)).scalar_one(),
                "duplicate_groups": conn.execute(select(count).select_from(groups)).scalar_one(),
                "blobs": int(blob_row.blobs),
                "raw_html_bytes": int(blob_row.raw),
                "stored_html_bytes": int(blob_row.stored),
                "first_seen": seen.first,
                "last_seen": seen.last,
                "per_site": {name: int(n) for name, n in per_site},
            }

    def iter_snapshot_rows(
        self,
        *,
        all_versions: bool,
        site: str | None,
        since: datetime | None,
        chunk: int = 500,
        http_headers: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Export rows in id order, fetched in chunks so memory stays constant."""
        yield from iter_rows(
            self.engine,
            all_versions=all_versions,
            site=site,
            since=since,
            chunk=chunk,
            http_headers=http_headers,
        )


def _interrupt_if_running(conn: Connection, run_id: int) -> bool:
    result = conn.execute(
        update(_runs)
        .where(_runs.c.id == run_id, _runs.c.status == "running")
        .values(
            status="interrupted",
            finished_at=datetime.now(UTC),
            error="its crawl process ended without recording it",
        )
    )
    return result.rowcount == 1


def foreign_sqlite(engine: Engine) -> str | None:
    """What an existing, non-empty SQLite file holds if it is not an archive; None for an
    archive, a new or empty file, or another database. Read through a read-only connection
    of its own, before the engine's first connection switches the file to WAL: a mistyped
    --db must not change someone else's database."""
    path = _sqlite_file(engine) if engine.dialect.name == "sqlite" else None
    if path is None or not path.is_file() or path.stat().st_size == 0:
        return None
    try:
        probe = sqlite3.connect(f"file:{sqlite_uri_path(path)}?mode=ro", uri=True)
        try:
            tables = [
                row[0]
                for row in probe.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                )
            ]
        finally:
            probe.close()
    except sqlite3.DatabaseError as exc:
        return f"{path} is not an SQLite database ({exc})"
    if not tables or "alembic_version" in tables:
        return None
    shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
    return f"{path} is an SQLite database of something else (tables {shown})"


def _sqlite_file(engine: Engine) -> Path | None:
    """The file of an SQLite archive, or None in memory.

    With `?uri=true` the database part is a `file:` URI (`sqlite:///file:/srv/a.db?mode=ro
    &uri=true` opens an archive read-only), whose path is not the string itself.
    """
    database = engine.url.database or ""
    query = engine.url.query
    if query.get("uri") in ("true", "1") and database.startswith("file:"):
        if query.get("mode") == "memory":
            return None
        database = unquote(urlsplit(database).path)
    return None if database in ("", ":memory:") else Path(database)


def _snapshot_view(row: Any) -> SnapshotView:
    return SnapshotView(
        article_id=row["article_id"],
        version=row["version"],
        fetched_at=row["fetched_at"],
        url=row["url"],
        final_url=row["final_url"],
        http_status=row["http_status"],
        title=row["title"],
        text=row["text"],
        authors=list(row["authors"] or []),
        published=row["published"],
        modified=row["modified"],
        language=row["language"],
        description=row["description"],
        image=row["image"],
        tags=list(row["tags"] or []),
        site_name=row["site_name"],
        content_hash=row["content_hash"],
        changed_fields=list(row["changed_fields"] or []),
        sources=dict(row["sources"] or {}),
        blob_sha256=row["blob_sha256"],
        extractor=row["extractor"],
        cause=row["cause"],
        http_headers=[(n, v) for n, v in row["http_headers"]] if row["http_headers"] else None,
    )
