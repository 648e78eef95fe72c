"""Storage benchmark: how fast the archive records, searches and exports, and how small it is.

Why: the design promises months of unattended crawling and "answers in milliseconds", and
states targets for the storage layer (>= 1,500 recorded fetches/s on SQLite and >= 500/s on
PostgreSQL, search p95 <= 50 ms over 100,000 articles, raw HTML stored at <= 18% of its
size). Those are measured here, by `make bench`, and written to `docs/benchmarks.md`
rather than asserted by timed tests, which would be flaky on shared CI machines.

How: everything goes through the public API (`Archive.record_fetches`, `Archive.search`,
`storage.export.export`, `Archive.stats`) on a SQLite file in a temporary directory and on
PostgreSQL in a throw-away schema of database `test` (dropped at the end). Each timed figure
is the median of several repetitions, reported with its min-max spread; a missed target is
shown as missed. The real pages come from the shared corpus, read at run time (never copied
into the project); search runs over synthetic articles generated with a fixed seed from the
corpus's vocabulary with Zipf-like word frequencies, so common and rare words both exist.

    .venv/bin/python tests/bench/bench_storage.py --output docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import platform
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy
import zstandard
from report_file import (  # tests/bench is on sys.path when run as a script
    cpu_model,
    load_average,
    write_block,
)

import storage
from storage import Archive, ExtractedArticle, FetchRecord, Outcome, SearchFilters
from storage.export import FORMATS, export

REPO = Path(__file__).resolve().parents[2]
STORAGE_ROOT = Path(storage.__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.corpus import full_corpus_dir  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1/test"

TARGET_SQLITE_FETCHES = 1500.0
TARGET_PG_FETCHES = 500.0
TARGET_SEARCH_P95_MS = 50.0
TARGET_STORED_RATIO = 0.18

OK = "\u2713"
MISSED = "\u2717"
DASH = "\u2013"
GE = "\u2265"
LE = "\u2264"

SYNTHETIC_BASE_DATE = datetime(2024, 1, 1, tzinfo=UTC)
SYNTHETIC_DAYS = 730
_CORPUS_WORD_RE = re.compile(r"[^\W\d_]+")
_PAGE_URL_RE = re.compile(
    rb'<(?:link[^>]*rel=["\']canonical["\'][^>]*href|meta[^>]*property=["\']og:url["\'][^>]*content)'
    rb'=["\'](https?://[^/"\'>]+)',
    re.IGNORECASE,
)
_STARTED = time.perf_counter()


# ---------------------------------------------------------------------------- small helpers


def log(message: str) -> None:
    """Progress goes to stderr so stdout carries only the summary."""
    print(f"[{time.perf_counter() - _STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Stat:
    """The median of repeated measurements with their spread."""

    median: float
    low: float
    high: float
    runs: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Stat:
        return cls(statistics.median(values), min(values), max(values), len(values))

    def fmt(self, digits: int = 0) -> str:
        if self.runs == 1:
            return f"{self.median:,.{digits}f} (1 run)"
        return f"{self.median:,.{digits}f} ({self.low:,.{digits}f}{DASH}{self.high:,.{digits}f})"


def percentile(values: Sequence[float], pct: float) -> float:
    """Linear-interpolated percentile (pct in 0-100)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * pct / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def verdict(value: float, target: float, *, at_least: bool) -> str:
    met = value >= target if at_least else value <= target
    sign = GE if at_least else LE
    return f"{sign} {target:,.0f} {OK if met else MISSED}"


def verdict_pct(value: float, target: float) -> str:
    return f"{LE} {target:.0%} {OK if value <= target else MISSED}"


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# ---------------------------------------------------------------------------- databases


class Backend:
    """Creates fresh, isolated archives on one database and removes them afterwards."""

    name = ""

    def new_url(self) -> str:
        raise NotImplementedError

    def drop(self, url: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class SqliteBackend(Backend):
    name = "SQLite"

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="newsarchive-bench-")
        self._count = itertools.count()

    def new_url(self) -> str:
        return f"sqlite:///{self._dir.name}/archive-{next(self._count)}.db"

    def drop(self, url: str) -> None:
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        self._dir.cleanup()


class PostgresBackend(Backend):
    """One schema per archive (bench_<pid>_<n>) in the given database, dropped at the end."""

    name = "PostgreSQL"

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self._count = itertools.count()
        self._schemas: dict[str, str] = {}

    def _admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.server_url, autocommit=True)

    def new_url(self) -> str:
        schema = f"bench_{os.getpid()}_{next(self._count)}"
        with self._admin() as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            conn.execute(f'CREATE SCHEMA "{schema}"')
        joiner = "&" if "?" in self.server_url else "?"
        url = f"{self.server_url}{joiner}options=-csearch_path%3D{schema}"
        self._schemas[url] = schema
        return url

    def drop(self, url: str) -> None:
        schema = self._schemas.pop(url)
        with self._admin() as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    def close(self) -> None:
        for url in list(self._schemas):
            self.drop(url)

    def describe(self) -> str:
        with self._admin() as conn:
            settings = {
                name: conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
                for name in ("server_version", "shared_buffers", "synchronous_commit", "fsync")
            }
        return (
            f"{settings['server_version']} (shared_buffers {settings['shared_buffers']}, "
            f"synchronous_commit {settings['synchronous_commit']}, fsync {settings['fsync']})"
        )


# ---------------------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class CorpusPage:
    name: str
    site: str
    body: bytes
    text: str
    title: str | None
    authors: tuple[str, ...]
    language: str | None
    published: datetime | None

    def article(self) -> ExtractedArticle:
        return ExtractedArticle(
            title=self.title,
            text=self.text,
            authors=self.authors,
            published=self.published,
            language=self.language,
        )


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def page_site(folder: str, body: bytes) -> str:
    """The host of the page's canonical or og:url link (minus www.), else the folder name.

    Folder names are test-case names (`lazy-image-2` is Kotaku, `videos-2` is Libération),
    so the page's own URL says better which pages share a site (and a site template).
    """
    found = _PAGE_URL_RE.search(body)
    if found:
        host = found.group(1).decode("ascii", "replace").split("//", 1)[1].split(":")[0]
        return host.lower().removeprefix("www.")
    return re.sub(r"-\d+$", "", folder)


def load_corpus(root: Path) -> list[CorpusPage]:
    """Every page folder of the corpus: source.html, expected.txt and metadata.json."""
    pages = []
    for folder in sorted(p for p in root.iterdir() if (p / "source.html").is_file()):
        meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
        byline = (meta.get("byline") or "").strip()
        body = (folder / "source.html").read_bytes()
        pages.append(
            CorpusPage(
                name=folder.name,
                site=page_site(folder.name, body),
                body=body,
                text=(folder / "expected.txt").read_text(encoding="utf-8"),
                title=meta.get("title"),
                authors=(byline,) if byline else (),
                language=meta.get("lang"),
                published=_parse_time(meta.get("publishedTime")),
            )
        )
    if not pages:
        raise SystemExit(f"no corpus pages under {root} (use --corpus)")
    return pages


def corpus_fetches(pages: Sequence[CorpusPage], count: int, tag: str) -> list[FetchRecord]:
    """`count` distinct stories: page i % N under a new URL, its body ending in a counter."""
    records = []
    for i in range(count):
        page = pages[i % len(pages)]
        url = f"https://www.{page.site}.example/bench/{tag}/{i}/{page.name}.html"
        body = page.body + f"\n<!-- newsarchive bench {tag} {i} -->\n".encode()
        records.append(
            FetchRecord(
                site=page.site,
                url=url,
                final_url=url,
                status=200,
                body=body,
                article=page.article(),
            )
        )
    return records


def record_all(archive: Archive, records: Sequence[FetchRecord], batch: int) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    for chunk in batches(records, batch):
        outcomes.update(str(r.outcome) for r in archive.record_fetches(chunk))
    return outcomes


def expect_outcomes(outcomes: Counter[str], expected: Outcome, count: int, what: str) -> None:
    """Stop rather than report a rate for work the archive did not actually do."""
    if outcomes != Counter({str(expected): count}):
        raise SystemExit(f"{what}: expected {count} x {expected}, got {dict(outcomes)}")


# ---------------------------------------------------------------------------- 1. recording


@dataclass
class RecordingResult:
    backend: str
    new_rates: list[float] = field(default_factory=list)
    recrawl_rates: list[float] = field(default_factory=list)
    archive_url: str = ""  # the last repetition's archive, kept for the export benchmark


def bench_recording(
    backend: Backend, pages: Sequence[CorpusPage], count: int, batch: int, repeats: int
) -> RecordingResult:
    """Record `count` new stories in batches, then the same fetches again (all unchanged)."""
    result = RecordingResult(backend.name)
    for rep in range(repeats):
        url = backend.new_url()
        records = corpus_fetches(pages, count, f"r{rep}")
        with Archive(url) as archive:
            started = time.perf_counter()
            outcomes = record_all(archive, records, batch)
            new_seconds = time.perf_counter() - started
            expect_outcomes(outcomes, Outcome.NEW_ARTICLE, count, "first crawl")
            started = time.perf_counter()
            outcomes = record_all(archive, records, batch)
            recrawl_seconds = time.perf_counter() - started
            expect_outcomes(outcomes, Outcome.UNCHANGED, count, "recrawl")
        result.new_rates.append(count / new_seconds)
        result.recrawl_rates.append(count / recrawl_seconds)
        log(
            f"{backend.name} recording rep {rep + 1}/{repeats}: {count / new_seconds:,.0f} new/s, "
            f"{count / recrawl_seconds:,.0f} unchanged/s"
        )
        if result.archive_url:
            backend.drop(result.archive_url)
        result.archive_url = url
    return result


# ---------------------------------------------------------------------------- 3. export


@dataclass
class ExportResult:
    backend: str
    fmt: str
    records: int
    size_bytes: int
    rates: list[float]
    mb_rates: list[float]


def bench_export(backend: str, url: str, repeats: int, warc_repeats: int) -> list[ExportResult]:
    """Each format `repeats` times (WARC: `warc_repeats`); imports happen off the clock."""
    import pyarrow.parquet  # noqa: F401
    import warcio  # noqa: F401

    results = []
    with Archive(url) as archive, tempfile.TemporaryDirectory() as tmp:
        for fmt in FORMATS:
            rates, mb_rates, count, size = [], [], 0, 0
            for _ in range(warc_repeats if fmt == "warc" else repeats):
                path = Path(tmp) / f"export.{fmt}"
                with path.open("wb") as out:
                    started = time.perf_counter()
                    count = export(archive, fmt, out)
                    out.flush()
                    seconds = time.perf_counter() - started
                size = path.stat().st_size
                rates.append(count / seconds)
                mb_rates.append(size / seconds / 1e6)
            results.append(ExportResult(backend, fmt, count, size, rates, mb_rates))
            log(f"{backend} export {fmt}: {statistics.median(rates):,.0f} records/s")
    return results


# ---------------------------------------------------------------------------- 2. search


class Vocabulary:
    """Corpus words ranked by corpus frequency, sampled with Zipf-Mandelbrot weights."""

    def __init__(self, pages: Sequence[CorpusPage], exponent: float = 1.0) -> None:
        counts: Counter[str] = Counter()
        for page in pages:
            for word in _CORPUS_WORD_RE.findall(page.text.lower()):
                # Latin-script words only: CJK runs are whole sentences to a word tokenizer.
                if 2 <= len(word) <= 20 and all(ord(ch) < 0x250 for ch in word):
                    counts[word] += 1
        self.words = [word for word, _ in counts.most_common()]
        weights = [1.0 / (rank + 2.7) ** exponent for rank in range(len(self.words))]
        self.cum_weights = list(itertools.accumulate(weights))

    def sample(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self.cum_weights, k=k)

    def pick(self, rng: random.Random, low: int, high: int, min_len: int = 1) -> str:
        """A word whose frequency rank lies in [low, high)."""
        candidates = [w for w in self.words[low : min(high, len(self.words))] if len(w) >= min_len]
        return rng.choice(candidates)


@dataclass(frozen=True)
class SyntheticSpec:
    count: int
    seed: int
    sites: tuple[str, ...]
    authors: tuple[str, ...]


def synthetic_text(vocab: Vocabulary, rng: random.Random) -> tuple[str, str]:
    """A title and a body of 3-7 paragraphs of 8-20-word sentences (60-420 words)."""
    title = " ".join(vocab.sample(rng, rng.randint(5, 10))).capitalize()
    paragraphs = []
    for _ in range(rng.randint(3, 7)):
        sentences = []
        for _ in range(rng.randint(1, 3)):
            sentences.append(" ".join(vocab.sample(rng, rng.randint(8, 20))).capitalize() + ".")
        paragraphs.append(" ".join(sentences))
    return title, "\n".join(paragraphs)


def synthetic_fetches(
    vocab: Vocabulary, spec: SyntheticSpec, batch: int
) -> Iterator[list[FetchRecord]]:
    """The same `spec.count` articles on every call (seeded), generated batch by batch."""
    rng = random.Random(spec.seed)
    for start in range(0, spec.count, batch):
        records = []
        for i in range(start, min(start + batch, spec.count)):
            title, text = synthetic_text(vocab, rng)
            site = spec.sites[i % len(spec.sites)]
            published = SYNTHETIC_BASE_DATE + timedelta(
                minutes=rng.randrange(SYNTHETIC_DAYS * 24 * 60)
            )
            url = f"https://www.{site}.example/{published:%Y/%m/%d}/story-{i}.html"
            body = f"<html><head><title>{title}</title></head><body>{i}</body></html>".encode()
            article = ExtractedArticle(
                title=title,
                text=text,
                authors=(rng.choice(spec.authors),),
                published=published,
                language="en",
            )
            records.append(FetchRecord(site, url, url, 200, body, article))
        yield records


def load_synthetic(archive: Archive, source: Iterator[list[FetchRecord]], count: int) -> float:
    """Record the next `count` synthetic articles; returns the seconds inside record_fetches."""
    spent = 0.0
    done = 0
    for records in source:
        started = time.perf_counter()
        results = archive.record_fetches(records)
        spent += time.perf_counter() - started
        new = sum(r.outcome is Outcome.NEW_ARTICLE for r in results)
        if new != len(records):
            raise SystemExit(f"synthetic load: {len(records) - new} records were not new")
        done += len(records)
        if done % 10_000 == 0:
            log(f"  +{done:,} articles ({done / spent:,.0f}/s)")
        if done >= count:
            break
    return spent


@dataclass(frozen=True)
class Query:
    kind: str
    text: str
    filters: SearchFilters | None = None


QUERY_KINDS = (
    "common word",
    "rare word",
    "two words",
    "phrase",
    "OR",
    "prefix*",
    "word + site",
    "word + dates",
)


def make_queries(vocab: Vocabulary, spec: SyntheticSpec, per_kind: int, seed: int) -> list[Query]:
    """Queries of every kind, interleaved; phrases are word pairs taken from generated text."""
    rng = random.Random(seed)
    text_rng = random.Random(seed + 1)
    mid = (30, 1000)
    rare = (len(vocab.words) // 4, len(vocab.words))
    by_kind: dict[str, list[Query]] = {kind: [] for kind in QUERY_KINDS}
    for _ in range(per_kind):
        by_kind["common word"].append(Query("common word", vocab.pick(rng, 5, 60, min_len=4)))
        by_kind["rare word"].append(Query("rare word", vocab.pick(rng, *rare)))
        pair = f"{vocab.pick(rng, *mid)} {vocab.pick(rng, *mid)}"
        by_kind["two words"].append(Query("two words", pair))
        words = re.findall(r"\w+", synthetic_text(vocab, text_rng)[1].lower())
        start = rng.randrange(len(words) - 1)
        by_kind["phrase"].append(Query("phrase", f'"{words[start]} {words[start + 1]}"'))
        either = f"{vocab.pick(rng, 100, 3000)} OR {vocab.pick(rng, 100, 3000)}"
        by_kind["OR"].append(Query("OR", either))
        stem = vocab.pick(rng, 50, 1000, min_len=6)[:4]
        by_kind["prefix*"].append(Query("prefix*", f"{stem}*"))
        site = SearchFilters(site=rng.choice(spec.sites))
        by_kind["word + site"].append(Query("word + site", vocab.pick(rng, *mid), site))
        since = SYNTHETIC_BASE_DATE + timedelta(days=rng.randrange(SYNTHETIC_DAYS - 30))
        dates = SearchFilters(since=since, until=since + timedelta(days=30))
        by_kind["word + dates"].append(Query("word + dates", vocab.pick(rng, *mid), dates))
    return [q for group in zip(*by_kind.values(), strict=True) for q in group]


@dataclass
class SearchResult:
    backend: str
    articles: int
    load_seconds: float
    # kind -> one (p50, p95) in milliseconds per timed pass
    passes: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    hits: dict[str, float] = field(default_factory=dict)
    overall: list[tuple[float, float]] = field(default_factory=list)


def time_queries(archive: Archive, queries: Sequence[Query]) -> list[tuple[Query, float, int]]:
    timings = []
    for query in queries:
        started = time.perf_counter()
        hits = archive.search(query.text, query.filters, limit=20)
        timings.append((query, (time.perf_counter() - started) * 1000, len(hits)))
    return timings


def bench_search(
    backend: Backend,
    vocab: Vocabulary,
    spec: SyntheticSpec,
    queries: Sequence[Query],
    batch: int,
    passes: int,
    checkpoints: Sequence[int],
) -> list[SearchResult]:
    """Load the synthetic articles, running the queries whenever a checkpoint is reached."""
    stops = sorted({c for c in checkpoints if c < spec.count} | {spec.count})
    results = []
    url = backend.new_url()
    try:
        with Archive(url) as archive:
            source = synthetic_fetches(vocab, spec, batch)
            loaded, load_seconds = 0, 0.0
            for stop in stops:
                log(f"{backend.name}: loading synthetic articles up to {stop:,}")
                load_seconds += load_synthetic(archive, source, stop - loaded)
                loaded = stop
                result = SearchResult(backend.name, stop, load_seconds)
                time_queries(archive, queries[: len(QUERY_KINDS)])  # warm-up, one per kind
                for number in range(passes):
                    summarize_pass(result, time_queries(archive, queries))
                    p95 = result.overall[-1][1]
                    log(f"{backend.name} {stop:,}: pass {number + 1}/{passes}, p95 {p95:.1f} ms")
                results.append(result)
    finally:
        backend.drop(url)
    return results


def summarize_pass(result: SearchResult, timings: Sequence[tuple[Query, float, int]]) -> None:
    for kind in QUERY_KINDS:
        mine = [(ms, hits) for query, ms, hits in timings if query.kind == kind]
        values = [ms for ms, _ in mine]
        result.passes.setdefault(kind, []).append((percentile(values, 50), percentile(values, 95)))
        result.hits[kind] = statistics.mean(hits for _, hits in mine)
    values = [ms for _, ms, _ in timings]
    result.overall.append((percentile(values, 50), percentile(values, 95)))


# ---------------------------------------------------------------------------- 4. compression


@dataclass
class CompressionResult:
    raw_bytes: int
    stored_bytes: int
    pages: int
    levels: dict[int, tuple[float, Stat]]  # level -> (ratio, MB/s)
    per_site_dict: tuple[int, float, float] | None  # pages, ratio without, ratio with
    cross_site_dict: tuple[float, float]  # ratio without, ratio with
    dict_size: int


def archive_ratio(pages: Sequence[CorpusPage], backend: SqliteBackend) -> tuple[int, int]:
    """Record each corpus page once and read raw vs stored bytes from stats()."""
    url = backend.new_url()
    try:
        records = [
            FetchRecord(
                site=p.site,
                url=f"https://www.{p.site}.example/{p.name}.html",
                final_url=f"https://www.{p.site}.example/{p.name}.html",
                status=200,
                body=p.body,
                article=p.article(),
            )
            for p in pages
        ]
        with Archive(url) as archive:
            expect_outcomes(
                record_all(archive, records, 100), Outcome.NEW_ARTICLE, len(pages), "corpus"
            )
            stats = archive.stats()
        return int(stats["raw_html_bytes"]), int(stats["stored_html_bytes"])
    finally:
        backend.drop(url)


def level_figures(bodies: Sequence[bytes], level: int, repeats: int) -> tuple[float, Stat]:
    raw = sum(len(b) for b in bodies)
    compressor = zstandard.ZstdCompressor(level=level)
    speeds, stored = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        stored = sum(len(compressor.compress(b)) for b in bodies)
        speeds.append(raw / (time.perf_counter() - started) / 1e6)
    return stored / raw, Stat.of(speeds)


def _train(bodies: Sequence[bytes], dict_size: int) -> zstandard.ZstdCompressionDict:
    """Train on 4 KiB slices: the trainer wants many samples, a site has few pages here."""
    samples: list[bytes | bytearray | memoryview] = [
        b[i : i + 4096] for b in bodies for i in range(0, len(b), 4096)
    ]
    return zstandard.train_dictionary(dict_size, samples, level=3)


def _dict_size(trained: zstandard.ZstdCompressionDict, body: bytes) -> int:
    return len(zstandard.ZstdCompressor(level=3, dict_data=trained).compress(body))


def per_site_dictionary(
    pages: Sequence[CorpusPage], dict_size: int
) -> tuple[int, float, float] | None:
    """Leave-one-out within each site that has several pages: train on the others."""
    by_site: dict[str, list[bytes]] = {}
    for page in pages:
        by_site.setdefault(page.site, []).append(page.body)
    plain = zstandard.ZstdCompressor(level=3)
    raw = without = with_dict = count = 0
    for bodies in by_site.values():
        if len(bodies) < 2:
            continue
        for i, body in enumerate(bodies):
            trained = _train(bodies[:i] + bodies[i + 1 :], dict_size)
            raw += len(body)
            without += len(plain.compress(body))
            with_dict += _dict_size(trained, body)
            count += 1
    if not count:
        return None
    return count, without / raw, with_dict / raw


def cross_site_dictionary(
    pages: Sequence[CorpusPage], dict_size: int, folds: int = 5
) -> tuple[float, float]:
    """k-fold by site: a dictionary trained on other sites' pages, applied to held-out sites."""
    sites = sorted({p.site for p in pages})
    plain = zstandard.ZstdCompressor(level=3)
    raw = without = with_dict = 0
    for fold in range(folds):
        held = set(sites[fold::folds])
        trained = _train([p.body for p in pages if p.site not in held], dict_size)
        for page in (p for p in pages if p.site in held):
            raw += len(page.body)
            without += len(plain.compress(page.body))
            with_dict += _dict_size(trained, page.body)
    return without / raw, with_dict / raw


def bench_compression(
    pages: Sequence[CorpusPage], backend: SqliteBackend, repeats: int
) -> CompressionResult:
    raw, stored = archive_ratio(pages, backend)
    bodies = [p.body for p in pages]
    # Level 19 runs at a few MB/s: timed once, so the whole benchmark stays short.
    levels = {level: level_figures(bodies, level, repeats) for level in (3, 9)}
    levels[19] = level_figures(bodies, 19, 1)
    dict_size = 112_640  # zstd's default dictionary size
    log("training dictionaries")
    return CompressionResult(
        raw_bytes=raw,
        stored_bytes=stored,
        pages=len(pages),
        levels=levels,
        per_site_dict=per_site_dictionary(pages, dict_size),
        cross_site_dict=cross_site_dictionary(pages, dict_size),
        dict_size=dict_size,
    )


# ---------------------------------------------------------------------------- environment


def git_state() -> str:
    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=STORAGE_ROOT, capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    where = "" if STORAGE_ROOT == REPO else f"; `storage` imported from {STORAGE_ROOT}"
    dirty = git("status", "--porcelain", "--", "storage").splitlines()
    if not dirty:
        return f"commit {commit}, storage/ unmodified{where}"
    files = ", ".join(line[3:] for line in dirty)
    diff = hashlib.sha256(git("diff", "HEAD", "--", "storage").encode()).hexdigest()[:12]
    return f"commit {commit} with uncommitted changes in {files} (diff sha256 {diff}){where}"


def machine_lines(pg: PostgresBackend | None) -> list[str]:
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return [
        f"- CPU: {cpu_model()}, {os.cpu_count()} cores{memory}",
        f"- OS: {platform.platform()}",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"SQLAlchemy {sqlalchemy.__version__}, psycopg {psycopg.__version__}, "
        f"zstandard {zstandard.__version__} "
        f"(libzstd {'.'.join(str(n) for n in zstandard.ZSTD_VERSION)})",
        f"- PostgreSQL: {pg.describe() if pg else 'not measured (--no-postgres)'}",
        f"- Code: {git_state()}",
        f"- Load average (1/5/15 min) at the start: {load_average()}",
    ]


# ---------------------------------------------------------------------------- the report


@dataclass
class Report:
    args: argparse.Namespace
    started: datetime
    machine: list[str]
    recording: list[RecordingResult] = field(default_factory=list)
    search: list[SearchResult] = field(default_factory=list)
    exports: list[ExportResult] = field(default_factory=list)
    compression: CompressionResult | None = None
    seconds: float = 0.0


def recording_target(backend: str) -> float:
    return TARGET_SQLITE_FETCHES if backend == SqliteBackend.name else TARGET_PG_FETCHES


def summary_rows(report: Report) -> list[list[str]]:
    rows = []
    for rec in report.recording:
        new = Stat.of(rec.new_rates)
        target = verdict(new.median, recording_target(rec.backend), at_least=True)
        rows.append(["new stories recorded /s", rec.backend, new.fmt(), target])
        rows.append(["unchanged recrawl /s", rec.backend, Stat.of(rec.recrawl_rates).fmt(), ""])
    for res in report.search:
        p95 = Stat.of([p for _, p in res.overall])
        target = verdict(p95.median, TARGET_SEARCH_P95_MS, at_least=False)
        label = f"search p95 ms, all kinds ({res.articles:,} articles)"
        rows.append([label, res.backend, p95.fmt(1), target])
        worst = max(QUERY_KINDS, key=lambda k: statistics.median(p for _, p in res.passes[k]))
        worst_p95 = Stat.of([p for _, p in res.passes[worst]])
        target = verdict(worst_p95.median, TARGET_SEARCH_P95_MS, at_least=False)
        rows.append(
            [f"search p95 ms, slowest kind ({worst})", res.backend, worst_p95.fmt(1), target]
        )
    if report.compression:
        comp = report.compression
        ratio = comp.stored_bytes / comp.raw_bytes
        rows.append(
            [
                "stored / raw HTML bytes",
                "SQLite",
                f"{ratio:.1%}",
                verdict_pct(ratio, TARGET_STORED_RATIO),
            ]
        )
    return rows


def recording_section(report: Report) -> list[str]:
    a = report.args
    lines = [
        "## 1. Recording fetches",
        "",
        f"Each repetition opens a fresh archive and records {a.fetches:,} fetches through "
        f"`Archive.record_fetches` in batches of {a.batch} (one transaction per batch). "
        f"Fetch *i* carries the raw HTML of corpus page *i* mod {a.corpus_pages} (mean "
        f"{a.corpus_mean_kb:,.0f} KB) and that page's reference text and metadata "
        "(`expected.txt`; title, byline, lang and publishedTime from `metadata.json`) as "
        "its extracted article. Every fetch is a distinct story: its URL carries the counter "
        "and its body ends in an HTML comment with the counter, so each body is hashed, "
        "compressed and stored and nothing is deduplicated away. Copies of one page share "
        "their text, so from the second round on each new story also finds near-duplicate "
        "candidates (a heavier duplicate check than a typical crawl). Building the "
        "`FetchRecord`s happens before the clock starts. The *unchanged recrawl* figure "
        "records the very same fetches again (every outcome `unchanged`: no new snapshot "
        f"or blob). Rates are fetches per second, median of {a.repeats} repetitions "
        "(min\u2013max).",
        "",
    ]
    rows = []
    for rec in report.recording:
        new = Stat.of(rec.new_rates)
        rows.append(
            [
                rec.backend,
                new.fmt(),
                verdict(new.median, recording_target(rec.backend), at_least=True),
                Stat.of(rec.recrawl_rates).fmt(),
            ]
        )
    header = ["database", "new stories /s", "target", "unchanged recrawl /s"]
    lines += [*md_table(header, rows), ""]
    if report.compression:
        speed = report.compression.levels[3][1].median
        ceiling = speed * 1e6 / (a.corpus_mean_kb * 1000)
        lines += [
            f"For scale: compressing a body (zstd level 3, one thread, section 4: "
            f"{speed:,.0f} MB/s) alone takes {1000 / ceiling:.2f} ms at the corpus's mean "
            f"page size, i.e. one core compresses at most {ceiling:,.0f} pages/s before any "
            "hashing, normalization, fingerprinting or SQL.",
            "",
        ]
    return lines


def search_section(report: Report) -> list[str]:
    a = report.args
    lines = [
        "## 2. Search latency",
        "",
        f"Synthetic articles (seed {a.seed}) are loaded through `Archive.record_fetches` in "
        f"batches of {a.batch}: titles of 5-10 words and bodies of 3-7 paragraphs "
        "(60-420 words) built from the corpus's Latin-script vocabulary "
        f"({a.vocab_size:,} words from `expected.txt`) drawn with Zipf-Mandelbrot "
        "frequencies (weight 1/(rank+2.7)), so there are very common and very rare words; "
        f"{a.sites} sites, dates spread over two years, language `en`. Bodies are tiny "
        "HTML stubs (about 100 bytes), so the load rate below is not comparable with "
        "section 1.",
        "",
        f"Each pass runs {a.queries_per_kind} queries of each of {len(QUERY_KINDS)} kinds "
        f"through `Archive.search(..., limit=20)` (wall time of the call, snippets "
        "included): a common word (frequency rank 5-60), a rare word (rank in the last "
        "three quarters of the vocabulary), two words (ranks 30-1000), a two-word phrase "
        'taken from generated text (`"a b"`), `a OR b` (ranks 100-3000), a four-letter '
        "prefix (`abcd*`), a word with a site filter, and a word with a 30-day "
        f"published-date window. One untimed warm-up round (one query of each kind), then "
        f"{a.search_passes} timed passes over all queries: figures are the median over passes "
        "of each pass's p50 / p95 (min\u2013max over passes), in milliseconds. The same "
        "queries run again whenever the load passes a checkpoint "
        f"({', '.join(f'{c:,}' for c in a.checkpoints)}), so the databases can be compared "
        "at equal size and growth shows.",
        "",
    ]
    if not a.no_postgres and a.pg_articles < a.articles:
        lines += [
            f"PostgreSQL is loaded with {a.pg_articles:,} articles only, not "
            f"{a.articles:,}, to keep `make bench` near 15 minutes: its load rate (below) "
            "is far lower than SQLite's and falls as the archive grows. "
            "`--pg-articles 100000` measures the full size.",
            "",
        ]
    for res in report.search:
        overall_p50 = Stat.of([p for p, _ in res.overall])
        overall_p95 = Stat.of([p for _, p in res.overall])
        lines += [
            f"### {res.backend}: {res.articles:,} articles",
            "",
            f"Loaded in {res.load_seconds:,.0f} s inside `record_fetches` "
            f"({res.articles / res.load_seconds:,.0f} articles/s, one run).",
            "",
        ]
        rows = []
        for kind in QUERY_KINDS:
            p50 = Stat.of([p for p, _ in res.passes[kind]])
            p95 = Stat.of([p for _, p in res.passes[kind]])
            target = verdict(p95.median, TARGET_SEARCH_P95_MS, at_least=False)
            rows.append([kind, p50.fmt(1), p95.fmt(1), target, f"{res.hits[kind]:.1f}"])
        target = verdict(overall_p95.median, TARGET_SEARCH_P95_MS, at_least=False)
        rows.append(["**all**", overall_p50.fmt(1), overall_p95.fmt(1), target, ""])
        header = ["query kind", "p50 ms", "p95 ms", "p95 target", "mean hits (of 20)"]
        lines += [*md_table(header, rows), ""]
    return lines


def export_section(report: Report) -> list[str]:
    a = report.args
    warc_runs = "" if a.warc_repeats == a.export_repeats else f" (WARC: {a.warc_repeats})"
    lines = [
        "## 3. Export",
        "",
        f"`storage.export.export(archive, fmt, file)` (latest versions) over the archive of "
        f"the last recording repetition of section 1 ({a.fetches:,} stories with real "
        "text; the WARC export also reads and decompresses each stored HTML body), "
        "written to a file in a temporary directory. Median (min\u2013max) of "
        f"{a.export_repeats} runs{warc_runs}. MB/s is output bytes per second.",
        "",
    ]
    rows = [
        [
            res.backend,
            res.fmt,
            f"{res.records:,}",
            f"{res.size_bytes / 1e6:,.1f}",
            Stat.of(res.rates).fmt(),
            Stat.of(res.mb_rates).fmt(1),
        ]
        for res in report.exports
    ]
    header = ["database", "format", "records", "output MB", "records/s", "MB/s"]
    return [*lines, *md_table(header, rows), ""]


def compression_section(report: Report) -> list[str]:
    comp = report.compression
    if comp is None:
        return []
    ratio = comp.stored_bytes / comp.raw_bytes
    lines = [
        "## 4. Raw HTML storage",
        "",
        f"Each of the {comp.pages} corpus pages recorded once on SQLite; `Archive.stats()` "
        f"reports {comp.raw_bytes / 1e6:,.1f} MB of raw HTML stored in "
        f"{comp.stored_bytes / 1e6:,.2f} MB: **{ratio:.1%}** of its size "
        f"(target {verdict_pct(ratio, TARGET_STORED_RATIO)}).",
        "",
        "For information, the same bodies compressed directly with the `zstandard` module "
        f"(one frame per page, no dictionary; speed is median (min\u2013max) of "
        f"{report.args.repeats} runs, level 19 timed once; single thread):",
        "",
    ]
    rows = [
        [f"zstd level {level}", f"{r:.1%}", speed.fmt(0)]
        for level, (r, speed) in sorted(comp.levels.items())
    ]
    lines += [*md_table(["codec", "stored / raw", "compress MB/s"], rows), ""]
    without, with_dict = comp.cross_site_dict
    lines += [
        f"Dictionaries ({comp.dict_size // 1024} KiB, trained at level 3 on 4 KiB slices "
        "of pages, dictionary bytes not counted):",
        "",
        f"- trained on *other* sites' pages (5-fold split by site): {without:.1%} without, "
        f"{with_dict:.1%} with the dictionary.",
    ]
    if comp.per_site_dict:
        count, plain, dicted = comp.per_site_dict
        lines.append(
            f"- trained per site, leave-one-out, for the {count} pages whose site has "
            f"several pages in the corpus: {plain:.1%} without, {dicted:.1%} with."
        )
    lines += [
        "",
        "The corpus has mostly one page per site (the per-site figure rests on a handful of "
        "sites with 2-5 pages each, and on only 1-4 training pages per dictionary), so it "
        "understates what a dictionary trained on hundreds of pages of one site's template "
        "would save in a real archive; it is a lower bound, not a forecast.",
        "",
    ]
    return lines


def reproduce_section() -> list[str]:
    return [
        "## How to reproduce",
        "",
        "```sh",
        "make bench",
        "# which runs:",
        ".venv/bin/python tests/bench/bench_storage.py --output docs/benchmarks.md",
        "```",
        "",
        "Needs the corpus at `../shared/corpus/readability` (or `--corpus DIR`) and "
        "PostgreSQL on 127.0.0.1:5432 with database `test` (or `--pg-url URL`, or "
        "`--no-postgres`); the script creates and drops its own `bench_<pid>_<n>` schemas "
        "and works in a temporary directory. `--help` lists the sizes (fetches, batch, "
        "repetitions, synthetic articles, queries) that can be scaled down for a quick run. "
        "Absolute figures depend on the machine; compare runs on the same machine.",
        "",
        "To measure one commit while the working tree keeps changing (the run takes about a "
        "quarter of an hour, and archives are migrated from the files on disk), point "
        "`PYTHONPATH` at a clean clone; the *Code* line above then names the clone:",
        "",
        "```sh",
        "git clone -q --shared . /tmp/newsarchive-bench",
        "PYTHONPATH=/tmp/newsarchive-bench .venv/bin/python tests/bench/bench_storage.py \\",
        "    --output docs/benchmarks.md",
        "```",
        "",
    ]


def render(report: Report) -> str:
    minutes = report.seconds / 60
    lines = [
        "# Storage benchmarks",
        "",
        f"Written by `tests/bench/bench_storage.py` on {report.started:%Y-%m-%d %H:%M} UTC "
        f"(whole run: {minutes:.1f} min). Timed figures are medians of repeated runs with "
        f"the min\u2013max spread in brackets; {OK} meets the target, {MISSED} misses it.",
        "",
        "## Summary",
        "",
        *md_table(["figure", "database", "result", "target"], summary_rows(report)),
        "",
        "## Machine",
        "",
        *report.machine,
        "",
        *recording_section(report),
        *search_section(report),
        *export_section(report),
        *compression_section(report),
        *reproduce_section(),
    ]
    return "\n".join(lines)


def print_summary(report: Report) -> None:
    print(f"newsarchive storage benchmark ({report.seconds / 60:.1f} min)")
    for figure, backend, result, target in summary_rows(report):
        print(f"  {figure:<52} {backend:<11} {result:<32} {target}")
    for res in report.exports:
        print(
            f"  export {res.fmt:<45} {res.backend:<11} "
            f"{Stat.of(res.rates).fmt():<32} records/s, {Stat.of(res.mb_rates).fmt(1)} MB/s"
        )


# ---------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, help="write the markdown report here")
    parser.add_argument("--corpus", type=Path, default=full_corpus_dir())
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="PostgreSQL database for schemas")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--fetches", type=int, default=2000, help="fetches per recording run")
    parser.add_argument("--batch", type=int, default=100, help="fetches per transaction")
    parser.add_argument("--repeats", type=int, default=3, help="recording repetitions")
    parser.add_argument("--export-repeats", type=int, default=3)
    parser.add_argument("--warc-repeats", type=int, default=3, help="WARC runs (slow)")
    parser.add_argument("--articles", type=int, default=100_000, help="synthetic, SQLite")
    parser.add_argument("--pg-articles", type=int, default=10_000, help="synthetic, PostgreSQL")
    parser.add_argument(
        "--checkpoints",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[10_000],
        help="also measure search when the load passes these counts (comma-separated)",
    )
    parser.add_argument("--queries-per-kind", type=int, default=20)
    parser.add_argument("--search-passes", type=int, default=3)
    parser.add_argument("--sites", type=int, default=40, help="synthetic sites")
    parser.add_argument("--seed", type=int, default=20261127)
    return parser.parse_args(argv)


def run(args: argparse.Namespace, report: Report, backends: list[Backend]) -> None:
    pages = load_corpus(args.corpus)
    args.corpus_pages = len(pages)
    args.corpus_mean_kb = statistics.mean(len(p.body) for p in pages) / 1000
    log(f"corpus: {len(pages)} pages from {args.corpus}")
    for backend in backends:
        rec = bench_recording(backend, pages, args.fetches, args.batch, args.repeats)
        report.recording.append(rec)
        report.exports += bench_export(
            backend.name, rec.archive_url, args.export_repeats, args.warc_repeats
        )
        backend.drop(rec.archive_url)

    vocab = Vocabulary(pages)
    args.vocab_size = len(vocab.words)
    sites = tuple(sorted({p.site for p in pages}))[: args.sites]
    args.sites = len(sites)
    authors = tuple(
        f"{a.capitalize()} {b.capitalize()}" for a, b in itertools.pairwise(vocab.words[200:500])
    )
    for backend in backends:
        count = args.articles if isinstance(backend, SqliteBackend) else args.pg_articles
        spec = SyntheticSpec(count, args.seed, sites, authors)
        queries = make_queries(vocab, spec, args.queries_per_kind, args.seed + 7)
        report.search += bench_search(
            backend, vocab, spec, queries, args.batch, args.search_passes, args.checkpoints
        )

    sqlite_backend = next(b for b in backends if isinstance(b, SqliteBackend))
    report.compression = bench_compression(pages, sqlite_backend, args.repeats)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    pg = None if args.no_postgres else PostgresBackend(args.pg_url)
    backends: list[Backend] = [SqliteBackend()]
    if pg:
        backends.append(pg)
    report = Report(args, datetime.now(UTC), machine_lines(pg))
    try:
        run(args, report, backends)
    finally:
        for backend in backends:
            backend.close()
    report.seconds = time.perf_counter() - _STARTED
    report.machine.append(f"- Load average (1/5/15 min) at the end: {load_average()}")
    if args.output:
        write_block(args.output, "storage", render(report))
        log(f"wrote {args.output}")
    print_summary(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
