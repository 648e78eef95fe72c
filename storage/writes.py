"""The write path: recording prepared fetches inside one transaction.

Races are settled by the database, never by check-then-insert: sites, blobs and URL aliases
are inserted with ON CONFLICT DO NOTHING; the article row is upserted (PostgreSQL's
ON CONFLICT DO UPDATE locks it, SQLite's BEGIN IMMEDIATE serializes writers), so the
latest-version read that follows is the truth until commit and two writers can never both
add version N+1.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, case, delete, insert, select, text, update
from sqlalchemy.engine import Connection

from storage import blobs
from storage.engine import dialect_module
from storage.fulltext import index_snapshot
from storage.models import (
    alias_table as _aliases,
    article_table as _articles,
    band_table as _bands,
    blob_table as _blobs,
    site_table as _sites,
    snapshot_table as _snapshots,
)
from storage.near_duplicates import THRESHOLD, band_keys, similarity
from storage.prepare import FetchKind, PreparedFetch, url_hash
from storage.records import Outcome, RecordResult
from storage.versioning import RE_EXTRACTION, changed_fields, version_cause

__all__ = ["SiteCache", "write_prepared"]

# A band key shared by this many articles is boilerplate, not a story; cap the comparisons.
_MAX_CANDIDATES = 200


class _Statements:
    """The write path's statements, built once per dialect.

    Reusing statement objects lets SQLAlchemy skip rebuilding and re-keying them on every
    execution (it was a third of the per-fetch cost); values arrive as bound parameters.
    """

    def __init__(self, dialect: str) -> None:
        module = dialect_module(dialect)
        a = _articles
        returning = (
            a.c.id,
            a.c.latest_version,
            a.c.latest_snapshot_id,
            a.c.canonical_url,
            a.c.last_extractor,
        )
        # A fetch recorded late (an old batch replayed) never moves the clock back.
        seen = case((a.c.last_seen > bindparam("p_seen"), a.c.last_seen), else_=bindparam("p_seen"))
        checked = case(
            (a.c.last_checked > bindparam("p_seen"), a.c.last_checked), else_=bindparam("p_seen")
        )
        validators: dict[str, Any] = {
            "etag": bindparam("p_etag"),
            "last_modified": bindparam("p_last_modified"),
        }
        touch: dict[str, Any] = {"last_seen": seen, "last_checked": checked, **validators}
        self.site_insert = (
            module.insert(_sites)
            .values(name=bindparam("p_name"), created_at=bindparam("p_now"))
            .on_conflict_do_nothing(index_elements=["name"])
        )
        self.site_id = select(_sites.c.id).where(_sites.c.name == bindparam("p_name"))
        self.find_aliases = select(
            _aliases.c.url_hash, _aliases.c.article_id, _aliases.c.redirect
        ).where(_aliases.c.url_hash.in_(bindparam("p_hashes", expanding=True)))
        alias_insert = module.insert(_aliases)
        # A redirect alias gives way to a real one and follows the newest redirect target;
        # a real alias never changes hands.
        self.alias_upsert = alias_insert.on_conflict_do_update(
            index_elements=["url_hash"],
            set_={
                "article_id": alias_insert.excluded.article_id,
                "redirect": alias_insert.excluded.redirect,
            },
            where=_aliases.c.redirect,
        )
        self.check = (
            update(a)
            .where(a.c.id == bindparam("p_id"))
            .values(last_seen=seen, last_checked=checked)
            .returning(a.c.latest_version, a.c.canonical_url)
        )
        self.touch = (
            update(a).where(a.c.id == bindparam("p_id")).values(**touch).returning(*returning)
        )
        upsert = module.insert(a).values(
            site_id=bindparam("p_site_id"),
            url_hash=bindparam("p_url_hash"),
            canonical_url=bindparam("p_canonical"),
            first_url=bindparam("p_first_url"),
            first_seen=bindparam("p_seen"),
            last_seen=bindparam("p_seen"),
            last_checked=bindparam("p_seen"),
            latest_version=0,
            **validators,
        )
        self.upsert = upsert.on_conflict_do_update(
            index_elements=["url_hash"], set_=touch
        ).returning(*returning)
        self.previous = select(
            _snapshots.c.content_hash, _snapshots.c.field_hashes, _snapshots.c.extractor
        ).where(_snapshots.c.id == bindparam("p_id"))
        self.blob_exists = select(_blobs.c.sha256).where(_blobs.c.sha256 == bindparam("p_sha"))
        self.blob_insert = module.insert(_blobs).on_conflict_do_nothing(index_elements=["sha256"])
        self.snapshot_insert = insert(_snapshots).returning(_snapshots.c.id)
        self.bands_delete = delete(_bands).where(_bands.c.article_id == bindparam("p_id"))
        self.bands_insert = insert(_bands)
        # A plain join: an IN (subquery ... LIMIT) made PostgreSQL's generic plan (used
        # once psycopg prepares the statement) scan every band row (docs/benchmarks.md,
        # "Figures behind choices in the code").
        self.candidates = (
            select(a.c.id, a.c.minhash, a.c.duplicate_group)
            .select_from(_bands.join(a, a.c.id == _bands.c.article_id))
            .where(
                _bands.c.band_key.in_(bindparam("p_keys", expanding=True)),
                _bands.c.article_id != bindparam("p_id"),
            )
            .limit(_MAX_CANDIDATES)
        )
        self.set_latest = (
            update(a)
            .where(a.c.id == bindparam("p_id"))
            .values(
                latest_version=bindparam("p_version"),
                latest_snapshot_id=bindparam("p_snapshot_id"),
                minhash=bindparam("p_minhash"),
                duplicate_group=bindparam("p_group"),
                last_extractor=bindparam("p_extractor"),
            )
        )
        self.set_extractor = (
            update(a).where(a.c.id == bindparam("p_id")).values(last_extractor=bindparam("p_e"))
        )


_STATEMENTS: dict[str, _Statements] = {}


def _sql(conn: Connection) -> _Statements:
    name = conn.dialect.name
    found = _STATEMENTS.get(name)
    if found is None:
        found = _STATEMENTS[name] = _Statements(name)
    return found


class SiteCache:
    """Site ids by name; ids are only remembered once the transaction that made them commits."""

    def __init__(self) -> None:
        self.known: dict[str, int] = {}
        self.pending: dict[str, int] = {}

    def site_id(self, conn: Connection, name: str, now: Any) -> int:
        found = self.known.get(name) or self.pending.get(name)
        if found is not None:
            return found
        sql = _sql(conn)
        conn.execute(sql.site_insert, {"p_name": name, "p_now": now})
        site_id = int(conn.execute(sql.site_id, {"p_name": name}).scalar_one())
        self.pending[name] = site_id
        return site_id

    def commit(self) -> None:
        self.known.update(self.pending)
        self.pending.clear()

    def rollback(self) -> None:
        self.pending.clear()


def _find_article(
    conn: Connection, urls: tuple[str, ...], *, redirects: bool = False
) -> int | None:
    """The story any of these canonical URLs already belongs to, preferring the first.

    Redirect aliases count only when asked (lookups), never when deciding identity.
    """
    hashes = [url_hash(u) for u in urls]
    rows = conn.execute(_sql(conn).find_aliases, {"p_hashes": hashes}).all()
    by_hash = {row.url_hash: row.article_id for row in rows if redirects or not row.redirect}
    for h in hashes:
        if h in by_hash:
            return int(by_hash[h])
    return None


def _add_aliases(conn: Connection, article_id: int, item: PreparedFetch) -> None:
    rows = [
        {"url_hash": url_hash(u), "url": u, "article_id": article_id, "redirect": False}
        for u in item.candidate_urls
    ] + [
        {"url_hash": url_hash(u), "url": u, "article_id": article_id, "redirect": True}
        for u in item.redirect_urls
    ]
    conn.execute(_sql(conn).alias_upsert, rows)


def lock_urls(conn: Connection, items: list[PreparedFetch]) -> None:
    """PostgreSQL: serialize writers that touch the same URLs or near-duplicate bodies.

    Row locks on `articles` cover one story, but two writers may name one story by
    different URLs (a page with and without its canonical declared) and both find no
    alias yet; and two copies of one wire story written at the same instant would each
    look for their group before the other's band rows are committed, and start two
    groups. Transaction-level advisory locks on every URL and every near-duplicate band
    key of the batch, taken in one sorted pass, make the alias lookup and insert, and the
    group lookup and band insert, atomic without deadlocks. SQLite needs none: BEGIN
    IMMEDIATE already admits one writer at a time.
    """
    if conn.dialect.name != "postgresql":
        return
    urls = {
        int.from_bytes(bytes.fromhex(url_hash(u)[:16]), signed=True)
        for item in items
        for u in (*item.candidate_urls, *item.redirect_urls)
    }
    # The crawler's workers computed the signatures already (PreparedFetch.precompute).
    bands = {
        key
        for item in items
        if item.kind is FetchKind.ARTICLE and (sig := item.signature()) is not None
        for key in band_keys(sig)
    }
    keys = sorted(urls | bands)
    if keys:
        conn.execute(
            text(
                "SELECT count(pg_advisory_xact_lock(k)) FROM unnest(CAST(:keys AS bigint[])) AS k"
            ),
            {"keys": keys},
        )


def _record_check(conn: Connection, item: PreparedFetch) -> RecordResult:
    article_id = _find_article(conn, (*item.candidate_urls, *item.redirect_urls), redirects=True)
    if article_id is None:
        return RecordResult(Outcome.NOT_ARTICLE)
    row = conn.execute(_sql(conn).check, {"p_id": article_id, "p_seen": item.fetched_at}).one()
    return RecordResult(
        Outcome.UNCHANGED, article_id, row.latest_version, canonical_url=row.canonical_url
    )


def _lock_article(conn: Connection, item: PreparedFetch, site_id: int) -> Any:
    """Create or touch the story's row, locking it; returns (id, latest_version, latest id)."""
    record = item.record
    sql = _sql(conn)
    touch = {
        "p_seen": item.fetched_at,
        "p_etag": record.etag,
        "p_last_modified": record.last_modified,
    }
    existing = _find_article(conn, item.candidate_urls)
    if existing is not None:
        return conn.execute(sql.touch, {"p_id": existing, **touch}).one()
    assert item.key_url is not None
    params = {
        "p_site_id": site_id,
        "p_url_hash": url_hash(item.key_url),
        "p_canonical": item.key_url,
        "p_first_url": record.url,
        **touch,
    }
    return conn.execute(sql.upsert, params).one()


def _duplicate_group(conn: Connection, article_id: int, sig: bytes | None) -> int:
    """Join the group of the most similar other article above THRESHOLD, else be alone.

    Band rows are replaced first so the article's own keys reflect its newest body.
    """
    sql = _sql(conn)
    conn.execute(sql.bands_delete, {"p_id": article_id})
    if sig is None:
        return article_id
    keys = band_keys(sig)
    conn.execute(sql.bands_insert, [{"band_key": k, "article_id": article_id} for k in keys])
    rows = conn.execute(sql.candidates, {"p_keys": keys, "p_id": article_id}).all()
    best: tuple[float, int, int] | None = None
    seen: set[int] = set()
    for row in rows:
        if row.minhash is None or row.id in seen:  # one row per shared band
            continue
        seen.add(row.id)
        score = similarity(sig, bytes(row.minhash))
        if score >= THRESHOLD and (best is None or (-score, row.id) < (-best[0], best[1])):
            best = (score, int(row.id), int(row.duplicate_group or row.id))
    return best[2] if best else article_id


def _ensure_blob(conn: Connection, item: PreparedFetch) -> str | None:
    sha = item.body_sha256()
    if sha is None:
        return None
    sql = _sql(conn)
    if conn.execute(sql.blob_exists, {"p_sha": sha}).first() is None:
        conn.execute(
            sql.blob_insert,
            {
                "sha256": sha,
                "size": item.body_size(),
                "codec": blobs.CODEC,
                "data": item.ensure_compressed(),
            },
        )
    return sha


def _record_article(conn: Connection, item: PreparedFetch, sites: SiteCache) -> RecordResult:
    assert item.content is not None and item.fields is not None
    sql = _sql(conn)
    site_id = sites.site_id(conn, item.record.site.strip(), item.fetched_at)
    article = _lock_article(conn, item, site_id)
    article_id = int(article.id)
    hashes = item.content.field_hashes()
    previous_hashes: dict[str, str] | None = None
    cause = None  # a first version
    if article.latest_snapshot_id is not None:
        previous = conn.execute(sql.previous, {"p_id": article.latest_snapshot_id}).one()
        if previous.content_hash == item.content.content_hash:
            extractor = item.record.extractor
            if extractor and extractor != article.last_extractor:
                # The new extractor yields what is stored: its next difference is an edit.
                conn.execute(sql.set_extractor, {"p_id": article_id, "p_e": extractor})
            _add_aliases(conn, article_id, item)
            return RecordResult(
                Outcome.UNCHANGED,
                article_id,
                article.latest_version,
                canonical_url=article.canonical_url,
            )
        previous_hashes = dict(previous.field_hashes)
        last = article.last_extractor or previous.extractor
        cause = version_cause(last, item.record.extractor)
    version = int(article.latest_version) + 1
    changed = changed_fields(previous_hashes, hashes)
    record = item.record
    snapshot_id = conn.execute(
        sql.snapshot_insert,
        {
            "article_id": article_id,
            "version": version,
            "fetched_at": item.fetched_at,
            "run_id": record.run_id,
            "url": record.url,
            "final_url": record.final_url or record.url,
            "http_status": record.status,
            "content_hash": item.content.content_hash,
            "field_hashes": hashes,
            "changed_fields": list(changed),
            "blob_sha256": _ensure_blob(conn, item),
            "extractor": record.extractor,
            "cause": cause,
            "http_headers": [list(pair) for pair in record.headers] or None,
            **item.fields,
        },
    ).scalar_one()
    sig = item.signature()
    conn.execute(
        sql.set_latest,
        {
            "p_id": article_id,
            "p_version": version,
            "p_snapshot_id": snapshot_id,
            "p_minhash": sig,
            "p_group": _duplicate_group(conn, article_id, sig),
            "p_extractor": record.extractor,
        },
    )
    language = item.fields.get("language")
    index_snapshot(
        conn,
        article_id,
        snapshot_id,
        article.latest_snapshot_id,
        language if isinstance(language, str) else None,
    )
    _add_aliases(conn, article_id, item)
    outcome = (
        Outcome.NEW_ARTICLE
        if version == 1
        else Outcome.RE_EXTRACTED
        if cause == RE_EXTRACTION
        else Outcome.NEW_VERSION
    )
    return RecordResult(outcome, article_id, version, changed, article.canonical_url)


def write_prepared(
    conn: Connection, items: list[PreparedFetch], sites: SiteCache
) -> list[RecordResult]:
    """Record prepared fetches in order, in the caller's transaction."""
    lock_urls(conn, items)
    results = []
    for item in items:
        if item.kind is FetchKind.ARTICLE:
            results.append(_record_article(conn, item, sites))
        elif item.kind is FetchKind.CHECK:
            results.append(_record_check(conn, item))
        else:
            results.append(RecordResult(Outcome.NOT_ARTICLE))
    return results


def latest_content_hashes(conn: Connection, items: list[PreparedFetch]) -> dict[str, str]:
    """Latest content hash of each story these fetches may belong to, by alias URL hash.

    Read before the write transaction so bodies of unchanged stories are never compressed.
    """
    hashes = sorted({url_hash(u) for item in items for u in item.candidate_urls})
    if not hashes:
        return {}
    rows = conn.execute(
        select(_aliases.c.url_hash, _snapshots.c.content_hash)
        .join(_articles, _articles.c.id == _aliases.c.article_id)
        .join(_snapshots, _snapshots.c.id == _articles.c.latest_snapshot_id)
        .where(_aliases.c.url_hash.in_(bindparam("p_hashes", expanding=True))),
        {"p_hashes": hashes},
    ).all()
    return {row.url_hash: row.content_hash for row in rows}
