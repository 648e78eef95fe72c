"""Full-text index of the archive, and ranked search over each article's latest snapshot.

SQLite: an external-content FTS5 table over every row of `snapshots` (text stored once;
exactly what FTS5's `rebuild` makes, and spelled `content="snapshots"` so Datasette and
sqlite-utils find it), searched joined to each article's latest snapshot; bm25 ranking
with the title weighted 10x, FTS5 snippets. PostgreSQL: a weighted `tsvector` on `articles`
(GIN index) built with the article's language configuration plus `simple` (so exact words
match in every language and stems match in the article's own), `ts_rank`, `ts_headline`.
User queries come in through `query_syntax` and reach SQL only as bound parameters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from storage.models import UTCDateTime
from storage.query_syntax import ParsedQuery, Term, parse_query

__all__ = [
    "PG_LANGUAGE_CONFIGS",
    "SearchFacets",
    "SearchFilters",
    "SearchHit",
    "filter_sql",
    "index_snapshot",
    "like_pattern",
    "search",
    "search_facets",
    "typed_text",
]

# A tsvector holds at most 1 MB and positions stop at 16,383, so PostgreSQL indexes the
# first 100,000 characters of a body (two configurations of that stay far under 1 MB).
PG_INDEXED_CHARS = 100_000

MARK_START = "<mark>"
MARK_END = "</mark>"

# Two-letter language codes with a stemming configuration in a stock PostgreSQL.
PG_LANGUAGE_CONFIGS = {
    "ar": "arabic",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "fi": "finnish",
    "fr": "french",
    "hu": "hungarian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nb": "norwegian",
    "ne": "nepali",
    "nl": "dutch",
    "no": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
}


def _pg_config_case(column: str) -> str:
    whens = " ".join(
        f"WHEN '{code}' THEN '{cfg}'::regconfig" for code, cfg in PG_LANGUAGE_CONFIGS.items()
    )
    code = f"lower(split_part(coalesce({column}, ''), '-', 1))"
    return f"(CASE {code} {whens} ELSE 'simple'::regconfig END)"


@dataclass(frozen=True, slots=True)
class SearchFilters:
    site: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    date_field: Literal["published", "first_seen"] = "published"
    language: str | None = None
    author: str | None = None


@dataclass(frozen=True, slots=True)
class SearchHit:
    article_id: int
    url: str
    site: str
    title: str
    published: datetime | None
    first_seen: datetime
    language: str | None
    authors: list[str]
    snippet: str
    score: float
    duplicate_group: int | None
    version: int


# ---------------------------------------------------------------- index maintenance


def pg_config(language: str | None) -> str:
    """The text search configuration for an article's language ('simple' if unknown)."""
    code = (language or "").lower().split("-")[0]
    return PG_LANGUAGE_CONFIGS.get(code, "simple")


# Queries always search with 'simple' and 'english' (and the --language's configuration),
# so only documents in other languages need a second, unstemmed copy of their words.
_QUERIED_ALWAYS = ("simple", "english")

_FTS5_INSERT = text(
    "INSERT INTO snapshot_fts(rowid, title, text, authors) "
    "SELECT id, title, text, authors FROM snapshots WHERE id = :id"
)


def _pg_vector_sql(config: str) -> Any:
    body = f"left(s.text, {PG_INDEXED_CHARS})"
    parts = [
        "setweight(to_tsvector(CAST(:cfg AS regconfig), s.title), 'A')",
        "setweight(jsonb_to_tsvector('simple', s.authors, '[\"string\"]'), 'B')",
        f"setweight(to_tsvector(CAST(:cfg AS regconfig), {body}), 'D')",
    ]
    if config not in _QUERIED_ALWAYS:
        parts += [
            "setweight(to_tsvector('simple', s.title), 'A')",
            f"setweight(to_tsvector('simple', {body}), 'D')",
        ]
    return text(
        "UPDATE articles AS a SET search_vector = "
        + " || ".join(parts)
        + " FROM snapshots AS s WHERE s.id = :sid AND a.id = :aid"
    )


_PG_UPDATE_SINGLE = _pg_vector_sql("english")
_PG_UPDATE_DOUBLE = _pg_vector_sql("german")


def index_snapshot(
    conn: Connection, article_id: int, new_id: int, old_id: int | None, language: str | None
) -> None:
    """Index snapshot `new_id`, the article's latest now instead of `old_id`.

    SQLite indexes every snapshot (searches join the latest), so `old_id` stays indexed;
    PostgreSQL keeps one vector per article, rewritten.
    """
    if conn.dialect.name == "sqlite":
        conn.execute(_FTS5_INSERT, {"id": new_id})
        return
    config = pg_config(language)
    statement = _PG_UPDATE_SINGLE if config in _QUERIED_ALWAYS else _PG_UPDATE_DOUBLE
    conn.execute(statement, {"sid": new_id, "aid": article_id, "cfg": config})


# ---------------------------------------------------------------- query rendering


def _fts5_string(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _fts5_term(term: Term) -> str:
    if term.prefix:
        return _fts5_string(term.words()[0]) + "*"
    return _fts5_string(" ".join(term.words()))


def render_fts5(parsed: ParsedQuery) -> str:
    """An FTS5 MATCH expression in which every user word is a quoted string."""
    clauses = []
    for clause in parsed.clauses:
        alternatives = " OR ".join(_fts5_term(t) for t in clause.terms)
        clauses.append(f"({alternatives})")
    expression = "(" + " AND ".join(clauses) + ")"
    for term in parsed.excluded:
        expression = f"({expression} NOT {_fts5_term(term)})"
    return expression


class _PgQuery:
    """Builds a tsquery SQL expression with every user string as a bound parameter."""

    def __init__(self, configs: tuple[str, ...]) -> None:
        self.configs = configs
        self.params: dict[str, str] = {}

    def _bind(self, value: str) -> str:
        name = f"q{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def _term(self, term: Term, cfg: str) -> str:
        words = term.words()
        if term.prefix:
            return f"to_tsquery('{cfg}', {self._bind(words[0] + ':*')})"
        function = "phraseto_tsquery" if term.phrase and len(words) > 1 else "plainto_tsquery"
        return f"{function}('{cfg}', {self._bind(' '.join(words))})"

    def _for_config(self, parsed: ParsedQuery, cfg: str) -> str:
        parts = [
            "(" + " || ".join(self._term(t, cfg) for t in clause.terms) + ")"
            for clause in parsed.clauses
        ]
        return "(" + " && ".join(parts) + ")"

    def render(self, parsed: ParsedQuery) -> str:
        """Any configuration's reading of the words, and no reading of an excluded term.

        Exclusions apply across all configurations at once: a document indexed with stems
        only must not slip through the exact-word branch, and a stop word ("the"), which
        has no stem, still excludes by its exact form.
        """
        positive = " || ".join(self._for_config(parsed, c) for c in self.configs)
        excluded = [
            "!!(" + " || ".join(self._term(t, c) for c in self.configs) + ")"
            for t in parsed.excluded
        ]
        return "(" + " && ".join([f"({positive})", *excluded]) + ")"


def _like_literal(value: str) -> str:
    """Lower-cased `value` with LIKE's wildcards escaped, so users' % and _ are literal."""
    return value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_pattern(value: str) -> str:
    """A case-insensitive substring LIKE pattern with the user's % and _ taken literally."""
    return f"%{_like_literal(value)}%"


def filter_sql(filters: SearchFilters, dialect: str, params: dict[str, Any]) -> list[str]:
    """SQL conditions for `filters` over `articles a`, its latest `snapshots s` and `sites
    si`, their values added to `params` (for searches and for listings without a term)."""
    where: list[str] = []
    if filters.site:
        where.append("si.name = :site")
        params["site"] = filters.site
    date_column = "s.published" if filters.date_field == "published" else "a.first_seen"
    if filters.since:
        where.append(f"{date_column} >= :since")
        params["since"] = filters.since
    if filters.until:
        where.append(f"{date_column} < :until")
        params["until"] = filters.until
    if filters.language:
        where.append(
            "(lower(s.language) = :lang OR lower(s.language) LIKE :lang_prefix ESCAPE '\\')"
        )
        params["lang"] = filters.language.lower()
        params["lang_prefix"] = _like_literal(filters.language) + "-%"
    if filters.author:
        params["author"] = like_pattern(filters.author)
        if dialect == "sqlite":
            where.append(
                "EXISTS (SELECT 1 FROM json_each(s.authors) AS au "
                "WHERE lower(au.value) LIKE :author ESCAPE '\\')"
            )
        else:
            where.append(
                "EXISTS (SELECT 1 FROM jsonb_array_elements_text(s.authors) AS au(name) "
                "WHERE lower(au.name) LIKE :author ESCAPE '\\')"
            )
    return where


_COLUMNS = (
    "a.id AS article_id, a.canonical_url AS url, si.name AS site, s.title AS title, "
    "s.published AS published, a.first_seen AS first_seen, s.language AS language, "
    "s.authors AS authors, a.duplicate_group AS duplicate_group, s.version AS version"
)


def typed_text(sql: str, params: dict[str, Any]) -> Any:
    """`sql` with its dates read and bound as UTC datetimes."""
    statement = text(sql).columns(published=UTCDateTime(), first_seen=UTCDateTime())
    binds = [bindparam(k, type_=UTCDateTime()) for k in ("since", "until") if k in params]
    return statement.bindparams(*binds) if binds else statement


# From FTS5's matches to the latest snapshots among them and their articles and sites.
# CROSS JOIN keeps the matches the outer loop: with a site filter and the latest-snapshot
# condition, SQLite otherwise chose to walk the site's articles and look each one up in
# FTS5, ten to twenty times slower (docs/benchmarks.md, "Figures behind choices").
_SQLITE_LATEST = (
    "CROSS JOIN snapshots s ON s.id = {matches}.sid "
    "CROSS JOIN articles a ON a.id = s.article_id AND a.latest_snapshot_id = s.id "
    "CROSS JOIN sites si ON si.id = a.site_id"
)

# The fast path ranks inside FTS5 and keeps this many candidates per result wanted: the
# index holds old versions too, which the join to the latest snapshots drops.
_CANDIDATES_PER_HIT = 2
_MIN_EXTRA_CANDIDATES = 100


def _sqlite_search_sql(extra: str, collapse: bool, *, fast: bool) -> str:
    """Rank, filter and paginate first; snippets (which re-read documents) only for the page.

    The fast path (no filters, no collapsing) lets FTS5 rank and cut to the best
    `:candidates` on its own before anything is joined, which for a word found in every
    article is several times faster than joining every match first (docs/benchmarks.md,
    "Figures behind choices in the code"). Its rows carry how many candidates there were
    and the worst candidate's rank, so the caller can tell a page that is right from one
    that old versions among the candidates, or ties at the cut, may have spoilt (then it
    asks the full path)."""
    bm25 = "bm25(snapshot_fts, 10.0, 1.0, 3.0)"
    joins = _SQLITE_LATEST.format(matches="ranked")
    if fast:
        page = (
            f"ranked AS (SELECT rowid AS sid, {bm25} AS rank FROM snapshot_fts "
            "WHERE snapshot_fts MATCH :match ORDER BY rank LIMIT :candidates), "
            f"page AS (SELECT {_COLUMNS}, ranked.sid AS sid, ranked.rank AS rank, "
            "(SELECT count(*) FROM ranked) AS candidates, "
            "(SELECT max(rank) FROM ranked) AS worst "
            f"FROM ranked {joins} ORDER BY ranked.rank, a.id LIMIT :limit OFFSET :offset)"
        )
    else:
        partition = "a.duplicate_group" if collapse else "a.id"
        window = (
            f", row_number() OVER (PARTITION BY {partition} ORDER BY ranked.rank, a.id) AS rn"
            if collapse
            else ", 1 AS rn"
        )
        page = (
            f"ranked AS (SELECT rowid AS sid, {bm25} AS rank FROM snapshot_fts "
            "WHERE snapshot_fts MATCH :match), "
            f"hits AS (SELECT {_COLUMNS}, ranked.sid AS sid, ranked.rank AS rank{window} "
            f"FROM ranked {joins} WHERE 1 = 1{extra}), "
            "page AS (SELECT * FROM hits WHERE rn = 1 "
            "ORDER BY rank, article_id LIMIT :limit OFFSET :offset)"
        )
    return (
        f"WITH {page} "
        f"SELECT page.*, snippet(snapshot_fts, -1, '{MARK_START}', '{MARK_END}', '…', 24) "
        # CROSS JOIN fixes the loop order: the page drives, so FTS5 reads only its rows
        # (as the inner side it was scanning every match again).
        "AS snippet FROM page CROSS JOIN snapshot_fts ON snapshot_fts.rowid = page.sid "
        "WHERE snapshot_fts MATCH :match ORDER BY page.rank, page.article_id"
    )


def _sqlite_search(
    conn: Connection, params: dict[str, Any], extra: str, collapse: bool
) -> list[SearchHit]:
    if not extra and not collapse:
        wanted = params["offset"] + params["limit"]
        candidates = max(wanted * _CANDIDATES_PER_HIT, wanted + _MIN_EXTRA_CANDIDATES)
        fast = {**params, "candidates": candidates}
        sql = _sqlite_search_sql(extra, collapse, fast=True)
        rows = conn.execute(typed_text(sql, fast), fast).mappings().all()
        # Right as it is when every match was a candidate, or when the page is full and
        # ends strictly above the worst candidate: a match left out ranks no better than
        # that one, so none tied with the page's last row can have been cut off.
        complete = bool(rows) and rows[0]["candidates"] < candidates
        full = len(rows) == params["limit"] and rows[-1]["rank"] < rows[-1]["worst"]
        if complete or full:
            return [_hit(row, -float(row["rank"])) for row in rows]
    sql = _sqlite_search_sql(extra, collapse, fast=False)
    rows = conn.execute(typed_text(sql, params), params).mappings().all()
    return [_hit(row, -float(row["rank"])) for row in rows]


def search(
    conn: Connection,
    query: str,
    filters: SearchFilters | None = None,
    *,
    limit: int = 20,
    offset: int = 0,
    collapse_duplicates: bool = False,
) -> list[SearchHit]:
    """Ranked hits over the latest snapshot of each article (QuerySyntaxError on bad input)."""
    parsed = parse_query(query)
    filters = filters or SearchFilters()
    params: dict[str, Any] = {"limit": max(1, min(limit, 1000)), "offset": max(0, offset)}
    where = filter_sql(filters, conn.dialect.name, params)
    extra = "".join(f" AND {w}" for w in where)
    if conn.dialect.name == "sqlite":
        params["match"] = render_fts5(parsed)
        return _sqlite_search(conn, params, extra, collapse_duplicates)

    partition = "a.duplicate_group" if collapse_duplicates else "a.id"
    builder = _PgQuery(_pg_configs(filters))
    tsquery = builder.render(parsed)
    params.update(builder.params)
    headline_options = (
        f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=30, MinWords=12, "
        'MaxFragments=2, FragmentDelimiter=" … "'
    )
    joins = "JOIN snapshots s ON s.id = a.latest_snapshot_id JOIN sites si ON si.id = a.site_id"
    if not extra and not collapse_duplicates:
        # Rank on articles alone, then join only the page's rows (docs/benchmarks.md).
        page = (
            "top AS (SELECT a.id, ts_rank(a.search_vector, q.query) AS score "
            "FROM q, articles a WHERE a.search_vector @@ q.query "
            "ORDER BY score DESC, a.id LIMIT :limit OFFSET :offset), "
            f"page AS (SELECT {_COLUMNS}, s.id AS snapshot_id, top.score AS score "
            f"FROM top JOIN articles a ON a.id = top.id {joins})"
        )
    else:
        window = (
            f"row_number() OVER (PARTITION BY {partition} "
            "ORDER BY ts_rank(a.search_vector, q.query) DESC, a.id)"
            if collapse_duplicates
            else "1"
        )
        page = (
            f"ranked AS (SELECT {_COLUMNS}, s.id AS snapshot_id, "
            f"ts_rank(a.search_vector, q.query) AS score, {window} AS rn "
            f"FROM q, articles a {joins} "
            f"WHERE a.search_vector @@ q.query{extra}), "
            "page AS (SELECT * FROM ranked WHERE rn = 1 "
            "ORDER BY score DESC, article_id LIMIT :limit OFFSET :offset)"
        )
    sql = (
        f"WITH q AS (SELECT {tsquery} AS query), {page} "
        f"SELECT page.*, ts_headline({_pg_config_case('s.language')}, s.text, q.query, "
        f"'{headline_options}') AS snippet "
        "FROM page JOIN snapshots s ON s.id = page.snapshot_id, q "
        "ORDER BY page.score DESC, page.article_id"
    )
    rows = conn.execute(typed_text(sql, params), params).mappings().all()
    return [_hit(row, float(row["score"])) for row in rows]


def _pg_configs(filters: SearchFilters) -> tuple[str, ...]:
    """The text search configurations a query is matched in: unstemmed, English, and the
    language filtered on."""
    configs = ["simple", "english"]
    if filters.language:
        cfg = PG_LANGUAGE_CONFIGS.get(filters.language.lower().split("-")[0])
        if cfg and cfg not in configs:
            configs.append(cfg)
    return tuple(configs)


def _hit(row: Any, score: float) -> SearchHit:
    authors = row["authors"]
    if isinstance(authors, str):
        authors = json.loads(authors)
    return SearchHit(
        article_id=int(row["article_id"]),
        url=row["url"],
        site=row["site"],
        title=row["title"],
        published=row["published"],
        first_seen=row["first_seen"],
        language=row["language"],
        authors=list(authors or []),
        snippet=" ".join(str(row["snippet"] or "").split()),
        score=round(score, 6),
        duplicate_group=row["duplicate_group"],
        version=int(row["version"]),
    )


@dataclass(frozen=True, slots=True)
class SearchFacets:
    """How many articles a query matches, per site and per language; `capped` when only
    the first `cap` matches were counted."""

    total: int
    sites: dict[str, int]
    languages: dict[str, int]
    capped: bool


def search_facets(
    conn: Connection, query: str, filters: SearchFilters | None = None, *, cap: int = 10_000
) -> SearchFacets:
    """Counts of the matches of `query` (at most `cap` of them: the web app shows counts
    beside every result page, and a word in every article must not cost a full scan)."""
    parsed = parse_query(query)
    filters = filters or SearchFilters()
    params: dict[str, Any] = {"cap": cap}
    where = filter_sql(filters, conn.dialect.name, params)
    extra = "".join(f" AND {w}" for w in where)
    if conn.dialect.name == "sqlite":
        params["match"] = render_fts5(parsed)
        matches = (
            "SELECT si.name AS site, s.language AS language FROM "
            "(SELECT rowid AS sid FROM snapshot_fts WHERE snapshot_fts MATCH :match) AS m "
            f"{_SQLITE_LATEST.format(matches='m')} WHERE 1 = 1{extra} LIMIT :cap"
        )
    else:
        builder = _PgQuery(_pg_configs(filters))
        matches = (
            f"SELECT si.name AS site, s.language AS language FROM "
            f"(SELECT {builder.render(parsed)} AS query) AS q, articles a "
            "JOIN snapshots s ON s.id = a.latest_snapshot_id JOIN sites si ON si.id = a.site_id "
            f"WHERE a.search_vector @@ q.query{extra} LIMIT :cap"
        )
        params.update(builder.params)
    sql = f"SELECT site, language, count(*) AS n FROM ({matches}) AS hits GROUP BY site, language"
    sites: dict[str, int] = {}
    languages: dict[str, int] = {}
    total = 0
    for row in conn.execute(typed_text(sql, params), params):
        count = int(row.n)
        total += count
        sites[row.site] = sites.get(row.site, 0) + count
        language = row.language or "unknown"
        languages[language] = languages.get(language, 0) + count
    ordered = sorted(sites.items(), key=lambda item: (-item[1], item[0]))
    by_language = sorted(languages.items(), key=lambda item: (-item[1], item[0]))
    return SearchFacets(total, dict(ordered), dict(by_language), total >= cap)
