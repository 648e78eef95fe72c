"""make bench, queue part (issue 16): site runs through Celery workers, one PostgreSQL archive.

Three measurements, in one run, on this machine:
  (a) the archive's aggregate write rate with 1, 2 and 4 writer processes recording
      distinct corpus stories into one PostgreSQL archive at the same time (the load many
      workers put on it), fetches per second from the common start to the last commit;
  (b) 200 small local sites, each its own host:port on 127.0.0.1, built like the web
      (tests/web_site.py: 20 corpus stories, listings, a partial sitemap, dead links),
      every answer delayed by the latency of a server across the internet; all 200 runs
      are published at once to a private Redis and run by 1, 2 and 4 `newsarchive worker`
      processes (one run at a time each) with the crawler's default politeness, into a
      fresh PostgreSQL archive. Each configuration is watched for a fixed window from its
      first run's start: site runs finished per minute, stories archived per second;
  (c) the cost of the queue for one run: `newsarchive crawl --queue SITE` with an idle
      worker (as it runs by default, then with --no-spare) against `newsarchive crawl SITE`
      here, each from process start to exit and split at the site's first and last
      request, on sites of the same shape.
Writes its block of docs/benchmarks.md.

    .venv/bin/python tests/bench/bench_queue.py --output docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from report_file import machine_line, spread, write_block

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from crawler.demo.siteserver import SiteServer  # noqa: E402
from storage import Archive, ExtractedArticle, FetchRecord  # noqa: E402
from tests import pg_schema  # noqa: E402
from tests.corpus import CorpusPage, full_corpus_dir  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402
from tests.web_site import WebSite, load_corpus_dir, usable_pages  # noqa: E402

BIN = Path(sys.executable).parent
PG_ADMIN = os.environ.get("NEWSARCHIVE_BENCH_PG", "postgresql://postgres@127.0.0.1/test")
SITES = 200
STORIES = 20
LATENCY = 0.05
WORKER_COUNTS = (1, 2, 4)
WRITER_COUNTS = (1, 2, 4)
TARGET_2 = 1.8
TARGET_4 = 3.2
TARGET_OVERHEAD = 1.0
_STARTED = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


def fresh_schema() -> AbstractContextManager[str]:
    return pg_schema.fresh_schema(PG_ADMIN, prefix="bench")


# ------------------------------------------------------------------ (a) write rate


def _writer(db: str, pages: Sequence[CorpusPage], tag: str, count: int, start: float) -> float:
    """Record `count` distinct stories in batches of 50; returns the end time."""
    records = []
    for i in range(count):
        page = pages[i % len(pages)]
        url = f"https://writer-{tag}.example/{i}/{page.name}"
        body = page.html + f"<!-- {tag}-{i} -->".encode()
        text = page.expected + f"\n{tag} {i}"
        records.append(
            FetchRecord(
                site=f"writer-{tag}", url=url, final_url=url, status=200, body=body,
                article=ExtractedArticle(title=f"{page.name} {tag} {i}", text=text),
                fetched_at=datetime.now(UTC),
            )
        )  # fmt: skip
    with Archive(db) as archive:
        while time.time() < start:
            time.sleep(0.001)
        for first in range(0, count, 50):
            archive.record_fetches(records[first : first + 50])
    return time.time()


def write_rates(pages: Sequence[CorpusPage], per_writer: int) -> dict[int, float]:
    rates: dict[int, float] = {}
    context = multiprocessing.get_context("spawn")
    for writers in WRITER_COUNTS:
        with fresh_schema() as db:
            Archive(db).close()  # the schema, before the clock
            start = time.time() + 5  # every writer has built its records by then
            with context.Pool(writers) as pool:
                ends = pool.starmap(
                    _writer, [(db, pages, f"w{n}", per_writer, start) for n in range(writers)]
                )
            rates[writers] = writers * per_writer / (max(ends) - start)
        log(f"write rate, {writers} writers: {rates[writers]:.0f} fetches/s")
    return rates


# ------------------------------------------------------------------ (b) runs through workers


@dataclass
class Sites:
    servers: list[SiteServer]
    stories: int  # per site


def serve_sites(pages: Sequence[CorpusPage], count: int) -> Sites:
    """`count` sites of STORIES stories, in 4 shapes (different corpus pages), each served
    on its own port with LATENCY seconds per answer."""
    usable = list(usable_pages(pages))
    builds = [WebSite(usable[k * STORIES : (k + 1) * STORIES]) for k in range(4)]
    servers = []
    for i in range(count):
        server = SiteServer({}, latency=LATENCY).start()
        server.set_routes(builds[i % 4].routes(server.url))
        servers.append(server)
    return Sites(servers, min(len(b.manifest.stories) for b in builds))


def start_worker(
    db: str, broker: str, name: str, logs: Path, *extra: str
) -> subprocess.Popen[bytes]:
    log_file = (logs / f"{name}.log").open("wb")
    process = subprocess.Popen(
        [str(BIN / "newsarchive"), "--db", db, "--broker", broker, "worker", "--name", name,
         "--concurrency", "1", "--grace", "0s", *extra],
        stdout=log_file, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while b"ready." not in (logs / f"{name}.log").read_bytes():
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError(f"worker {name} did not start")
        time.sleep(0.1)
    return process


@dataclass
class Throughput:
    workers: int
    runs: int
    stories: int
    window: float

    @property
    def runs_per_minute(self) -> float:
        return self.runs / self.window * 60

    @property
    def stories_per_second(self) -> float:
        return self.stories / self.window


def throughput(sites: Sites, workers: int, window: float, tmp: Path) -> Throughput:
    from crawler.config.sites import adhoc_site
    from crawler.distributed.publisher import Publisher

    redis = RedisServer(tmp).start()
    try:
        with fresh_schema() as db:
            Archive(db).close()
            configs = [adhoc_site(server.url + "/") for server in sites.servers]
            Publisher(redis.url, db).publish(configs, "manual", {})
            processes = [start_worker(db, redis.url, f"w{n}", tmp) for n in range(workers)]
            try:
                with Archive(db) as archive:
                    while not archive.runs(limit=1, status="running"):
                        time.sleep(0.05)
                    began = min(r.started_at for r in archive.runs(limit=1000, status="running"))
                    time.sleep(max(0.0, began.timestamp() + window - time.time()))
                    end = began.timestamp() + window
                    done = [
                        r
                        for r in archive.runs(limit=1000, status="succeeded")
                        if r.finished_at is not None and r.finished_at.timestamp() <= end
                    ]
            finally:
                for process in processes:
                    process.send_signal(signal.SIGTERM)
                for process in processes:
                    process.wait(120)
    finally:
        redis.stop()
    stories = sum(int(r.counters.get("articles_new", 0)) for r in done)
    result = Throughput(workers, len(done), stories, window)
    log(
        f"{workers} workers: {result.runs} runs in {window:.0f} s "
        f"({result.runs_per_minute:.1f}/min), {result.stories_per_second:.1f} stories/s"
    )
    return result


# ------------------------------------------------------------------ (c) queue overhead


@dataclass(frozen=True)
class Timing:
    """One first crawl, from the command's start to its exit, split where the crawl itself
    begins and ends: the first request and the last one the site's server received."""

    total: float
    before: float  # command start -> first request at the site
    after: float  # last request at the site -> command exit

    @property
    def around(self) -> float:
        """The time spent outside the crawl itself: what the queue adds to."""
        return self.before + self.after


def timed(args: list[str], env: dict[str, str], server: SiteServer) -> Timing:
    mark = len(server.log)
    started = time.monotonic()
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600)
    ended = time.monotonic()
    if done.returncode != 0:
        raise RuntimeError(f"{args[1:5]} failed: {done.stderr[-1500:]}")
    requests = server.log[mark:]
    return Timing(ended - started, requests[0].at - started, ended - requests[-1].at)


def queue_overhead(
    sites: Sites, pairs: int, tmp: Path, spare: bool
) -> tuple[list[Timing], list[Timing]]:
    """(local, queued) timings of `pairs` pairs of first crawls of same-shaped sites,
    alternating which goes first; the worker with its spare crawl process or without."""
    redis = RedisServer(tmp).start()
    local: list[Timing] = []
    queued: list[Timing] = []
    try:
        with fresh_schema() as db:
            Archive(db).close()
            name = "overhead" if spare else "overhead-cold"
            worker = start_worker(db, redis.url, name, tmp, "--spare" if spare else "--no-spare")
            env = {**os.environ}
            try:
                for n in range(pairs):
                    # Sites 8n+k and 8n+k+4 have the same shape; no site is crawled twice.
                    k = 0 if spare else 2
                    a, b = sites.servers[8 * n + k], sites.servers[8 * n + k + 4]
                    base = [str(BIN / "newsarchive"), "--db", db]
                    run_local = ([*base, "crawl", a.url + "/"], a)
                    queue = [*base, "--broker", redis.url, "crawl", "--queue"]
                    run_queued = ([*queue, b.url + "/"], b)
                    order = (run_local, run_queued) if n % 2 == 0 else (run_queued, run_local)
                    times = {id(args): timed(args, env, server) for args, server in order}
                    local.append(times[id(run_local[0])])
                    queued.append(times[id(run_queued[0])])
                    log(f"overhead pair {n}: local {local[-1]}, queued {queued[-1]}")
            finally:
                worker.send_signal(signal.SIGTERM)
                worker.wait(120)
    finally:
        redis.stop()
    return local, queued


# ------------------------------------------------------------------ report


def report(
    rates: dict[int, float],
    results: list[Throughput],
    warm: tuple[list[Timing], list[Timing]],
    cold: tuple[list[Timing], list[Timing]],
    sites: Sites,
    window: float,
    elapsed: float,
) -> str:
    base = results[0].runs_per_minute or float("nan")
    by = {r.workers: r for r in results}
    ratio2 = by[2].runs_per_minute / base
    ratio4 = by[4].runs_per_minute / base
    overheads = _differences(*warm, lambda t: t.around)
    overhead = statistics.median(overheads)
    cold_overhead = statistics.median(_differences(*cold, lambda t: t.around))
    met = {True: "met", False: "**not met**"}
    lines = [
        "# Queue benchmarks",
        "",
        f"Written by `tests/bench/bench_queue.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
        f"(whole run: {elapsed / 60:.1f} min). {SITES} local sites on 127.0.0.1, each its own "
        f"port, built like the web from {sites.stories} corpus stories each (tests/web_site.py: "
        f"listings, a partial sitemap, dead links; four shapes), every answer delayed "
        f"{LATENCY * 1000:.0f} ms; the crawler's default politeness; one private Redis; one "
        "PostgreSQL archive (a fresh schema per configuration).",
        "",
        "## Targets",
        "",
        "| target | measured | |",
        "| --- | --- | --- |",
        f"| site runs per minute with 2 workers ≥ {TARGET_2}× 1 worker | {ratio2:.2f}× | "
        f"{met[ratio2 >= TARGET_2]} |",
        f"| site runs per minute with 4 workers ≥ {TARGET_4}× 1 worker | {ratio4:.2f}× | "
        f"{met[ratio4 >= TARGET_4]} |",
        f"| publishing and starting a run ≤ {TARGET_OVERHEAD:.0f} s over a local crawl | "
        f"{spread(overheads)} s (a worker without a spare crawl process: "
        f"{cold_overhead:.2f} s) | {met[overhead <= TARGET_OVERHEAD]} |",
        "",
        "## Runs through workers",
        "",
        f"All {SITES} runs published at once; each configuration watched for {window:.0f} s from "
        "its first run's start; a run counts when it finished in the window.",
        "",
        "| worker processes (one run each at a time) | site runs | runs per minute | "
        "stories archived per second | runs per minute / 1 worker |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r.workers} | {r.runs} | {r.runs_per_minute:.1f} | {r.stories_per_second:.1f} | "
            f"{r.runs_per_minute / base:.2f}× |"
        )
    lines += [
        "",
        "## The archive with concurrent writers",
        "",
        "Writer processes each record 300 distinct corpus stories (raw HTML, text, metadata) "
        "through `Archive.record_fetches` in batches of 50, all starting at one instant, into "
        "one PostgreSQL archive.",
        "",
        "| writers | fetches recorded per second, all writers | per writer |",
        "| --- | --- | --- |",
    ]
    for writers, rate in rates.items():
        lines.append(f"| {writers} | {rate:.0f} | {rate / writers:.0f} |")
    lines += [
        "",
        "## The cost of the queue for one run",
        "",
        f"{len(warm[0])} pairs of first crawls of fresh sites of the same shape: `newsarchive "
        "crawl SITE` here, against `newsarchive crawl --queue SITE` with an idle worker "
        "(publish, the worker's child crawl, waiting on the archive), alternating which goes "
        "first; with a worker as it runs by default (one crawl process started ahead, "
        "waiting for a run: crawler.running.spare_crawl), then with `--no-spare` (the crawl "
        "process started when the run arrives). Each crawl is split at the first and the last "
        "request the site received: the crawl between them waits on randomized politeness "
        "delays (a second either way from one crawl to the next), so the queue's cost is read "
        "from the time around the crawl, before its first request and after its last; the "
        "whole times are shown too.",
        "",
        "| seconds | local crawl | through the queue | difference |",
        "| --- | --- | --- | --- |",
        *_overhead_rows("", *warm),
        *_overhead_rows("`--no-spare`: ", *cold),
        "",
        machine_line(),
        "",
        "Reproduce: `make bench`, or `.venv/bin/python tests/bench/bench_queue.py --output "
        "docs/benchmarks.md`.",
    ]
    return "\n".join(lines) + "\n"


def _differences(
    local: list[Timing], queued: list[Timing], part: Callable[[Timing], float]
) -> list[float]:
    return [part(q) - part(lo) for lo, q in zip(local, queued, strict=True)]


def _overhead_rows(label: str, local: list[Timing], queued: list[Timing]) -> list[str]:
    parts: list[tuple[str, Callable[[Timing], float]]] = [
        ("start to first request", lambda t: t.before),
        ("last request to exit", lambda t: t.after),
        ("around the crawl (the target)", lambda t: t.around),
        ("start to exit", lambda t: t.total),
    ]
    return [
        f"| {label}{name} | {spread([part(t) for t in local])} | "
        f"{spread([part(t) for t in queued])} | {spread(_differences(local, queued, part))} |"
        for name, part in parts
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=full_corpus_dir())
    parser.add_argument("--window", type=float, default=150.0)
    parser.add_argument("--per-writer", type=int, default=300)
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    pages = load_corpus_dir(args.corpus)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        rates = write_rates(pages, args.per_writer)
        sites = serve_sites(pages, SITES)
        log(f"{SITES} sites served")
        try:
            results = [throughput(sites, n, args.window, tmp) for n in WORKER_COUNTS]
            warm = queue_overhead(sites, args.pairs, tmp, spare=True)
            cold = queue_overhead(sites, args.pairs, tmp, spare=False)
        finally:
            for server in sites.servers:
                server.stop()
    markdown = report(
        rates, results, warm, cold, sites, args.window, time.perf_counter() - _STARTED
    )
    if args.output:
        write_block(args.output, "queue", markdown)
    print(json.dumps({"ratios": [r.runs_per_minute for r in results]}))


if __name__ == "__main__":
    main()
