"""make bench, web part (issue 17): the web app's server time per page on large archives.

Targets: p95 server time <= 100 ms for the overview, search, article and diff pages on a
100,000-article SQLite archive and a 10,000-article PostgreSQL one; a page's HTML <= 100 KB.

How: synthetic articles from the corpus's vocabulary (tests/bench/bench_storage.py's
generator, fixed seed, 20 sites, two years of dates), 2% of them recorded again with an
edited headline and body (a second version, for the diff page), one finished run per
site; then `newsarchive serve` on the archive, and every page asked for over HTTP from
this process, one request at a time. The server time is the app's own `Server-Timing`
header (request to first byte); the HTML size is the body as sent.

    .venv/bin/python tests/bench/bench_web.py --output docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import bench_storage as bs
from report_file import machine_line, write_block

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from storage import Archive, FetchRecord  # noqa: E402
from tests import pg_schema  # noqa: E402
from tests.redis_server import free_port  # noqa: E402

BIN = Path(sys.executable).parent
TARGET_P95_MS = 100.0
TARGET_HTML_BYTES = 100_000
PAGES = ("overview", "search", "article", "diff")
EDITED_SHARE = 0.02
SITES = tuple(f"site{n:02d}" for n in range(20))
_STARTED = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


def edited(records: Sequence[FetchRecord], rng: random.Random) -> list[FetchRecord]:
    """A second version of some of the records: a headline and a sentence changed."""
    changed = []
    for record in records:
        if rng.random() >= EDITED_SHARE or record.article is None:
            continue
        article = record.article
        title = article.title.rsplit(" ", 1)[0] + " updated"
        text = article.text.replace(".", ", officials said.", 1)
        body = record.body.replace(b"</title>", b" updated</title>")
        changed.append(replace(record, body=body, article=replace(article, title=title, text=text)))
    return changed


def build(url: str, count: int) -> None:
    """`count` synthetic articles, 2% of them edited once, one run per site."""
    pages = bs.load_corpus(bs.full_corpus_dir())
    vocab = bs.Vocabulary(pages)
    spec = bs.SyntheticSpec(count, 17, SITES, ("Ana Lima", "Ben Ortiz", "Chen Wei", "D. Roy"))
    rng = random.Random(5)
    edits: list[FetchRecord] = []
    with Archive(url) as archive:
        done = 0
        for batch in bs.synthetic_fetches(vocab, spec, 500):
            archive.record_fetches(batch)
            edits += edited(batch, rng)
            done += len(batch)
            if done % 20_000 == 0:
                log(f"  {done:,} articles")
        for start in range(0, len(edits), 500):
            archive.record_fetches(edits[start : start + 500])
        for site in SITES:
            run = archive.start_run(site)
            archive.finish_run(run, "succeeded", {"articles_new": count // len(SITES)})
    log(f"built {count:,} articles, {len(edits):,} edited")


@dataclass
class Timing:
    page: str
    ms: list[float]
    sizes: list[int]

    @property
    def p95(self) -> float:
        return bs.percentile(self.ms, 95)


def serve(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "newsarchive"), "--db", url, "serve", "--port", str(port)],
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2):
                return process, base
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("serve did not start")


def fetch(base: str, path: str) -> tuple[float, int]:
    with urllib.request.urlopen(base + path, timeout=60) as answer:
        body = answer.read()
        timing = answer.headers["Server-Timing"]
    return float(timing.split("dur=")[1]), len(body)


def paths(url: str, requests: int, seed: int) -> Iterator[tuple[str, str]]:
    """(page, path) pairs, the pages interleaved."""
    rng = random.Random(seed)
    pages = bs.load_corpus(bs.full_corpus_dir())
    vocab = bs.Vocabulary(pages)
    spec = bs.SyntheticSpec(1, 17, SITES, ("Ana Lima",))
    queries = bs.make_queries(vocab, spec, requests // len(bs.QUERY_KINDS) + 1, seed)
    with Archive(url, read_only=True) as archive:
        total = archive.counts()["articles"]
        edited_ids = [c.id for c in archive.recent_changes(limit=1000)]
    for n in range(requests):
        query = queries[n % len(queries)]
        params = {"q": query.text}
        if query.filters is not None and query.filters.site:
            params["site"] = query.filters.site
        yield "overview", "/"
        yield "search", "/search?" + urllib.parse.urlencode(params)
        yield "article", f"/articles/{rng.randint(1, total)}"
        yield "diff", f"/articles/{rng.choice(edited_ids)}/diff"


def measure(url: str, requests: int) -> list[Timing]:
    process, base = serve(url)
    try:
        timings = {page: Timing(page, [], []) for page in PAGES}
        warm = list(paths(url, 5, seed=1))
        for _, path in warm:  # the first answers pay for imports and cold caches
            fetch(base, path)
        for page, path in paths(url, requests, seed=2):
            ms, size = fetch(base, path)
            timings[page].ms.append(ms)
            timings[page].sizes.append(size)
        return [timings[page] for page in PAGES]
    finally:
        process.terminate()
        process.wait(15)


def report(results: dict[str, tuple[int, list[Timing]]], elapsed: float) -> str:
    lines = [
        "# Web app benchmarks",
        "",
        f"Written by `tests/bench/bench_web.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
        f"(whole run: {elapsed / 60:.1f} min). Synthetic articles from the corpus's "
        f"vocabulary over {len(SITES)} sites, {EDITED_SHARE:.0%} of them edited once; "
        "`newsarchive serve` on the archive; pages asked for one at a time over HTTP on "
        "127.0.0.1; server time from the app's `Server-Timing` header (request to first "
        "byte). Search pages take the storage benchmark's query mix (common and rare words, "
        "phrases, OR, prefixes, a site filter) with counts per site and language; articles "
        "and diffs are picked at random.",
        "",
        f"| archive | page | requests | median ms | p95 ms | max ms | largest HTML | "
        f"p95 ≤ {TARGET_P95_MS:.0f} ms and HTML ≤ {TARGET_HTML_BYTES // 1000} KB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, (count, timings) in results.items():
        for t in timings:
            met = t.p95 <= TARGET_P95_MS and max(t.sizes) <= TARGET_HTML_BYTES
            lines.append(
                f"| {name}, {count:,} articles | {t.page} | {len(t.ms)} | "
                f"{statistics.median(t.ms):.1f} | {t.p95:.1f} | {max(t.ms):.1f} | "
                f"{max(t.sizes) / 1000:.1f} KB | {'met' if met else '**not met**'} |"
            )
    lines += [
        "",
        machine_line(),
        "",
        "Reproduce: `make bench`, or `.venv/bin/python tests/bench/bench_web.py --output "
        "docs/benchmarks.md`.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite-articles", type=int, default=100_000)
    parser.add_argument("--pg-articles", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200, help="per page and archive")
    parser.add_argument("--pg", default=bs.DEFAULT_PG)
    parser.add_argument("--output", type=Path)
    parser.add_argument(
        "--sqlite-file", type=Path, help="keep the SQLite archive here (built if missing)"
    )
    parser.add_argument("--only-sqlite", action="store_true")
    args = parser.parse_args()
    results: dict[str, tuple[int, list[Timing]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = args.sqlite_file or Path(tmp) / "web.db"
        sqlite = f"sqlite:///{path}"
        if not path.exists():
            log(f"SQLite: building {args.sqlite_articles:,} articles")
            build(sqlite, args.sqlite_articles)
        results["SQLite"] = (args.sqlite_articles, measure(sqlite, args.requests))
        log("SQLite measured")
    if args.only_sqlite:
        print(report(results, time.perf_counter() - _STARTED))
        return
    with pg_schema.fresh_schema(args.pg, prefix="benchweb") as pg:
        log(f"PostgreSQL: building {args.pg_articles:,} articles")
        build(pg, args.pg_articles)
        results["PostgreSQL"] = (args.pg_articles, measure(pg, args.requests))
    markdown = report(results, time.perf_counter() - _STARTED)
    print(markdown)
    if args.output:
        write_block(args.output, "web", markdown)


if __name__ == "__main__":
    main()
