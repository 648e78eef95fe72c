"""make bench, performance part: a crawl against plain trafilatura and its CLI, in one run.

On a local site built from the corpus (../shared/corpus/readability, each page once, served
on 127.0.0.1 with politeness delays off), every repetition measures:
  (a) `newsarchive crawl` into a fresh archive: wall time from process start to exit, the
      time until its first request reaches the server (start-up, here including the
      creation of the archive), and the peak RSS of its process tree;
  (b) plain single-process `trafilatura.bare_extraction(html, with_metadata=True)` over the
      same pages, already in memory (imports excluded: the figure to beat is the bare
      extraction loop), and the RSS of that process;
  (c) trafilatura's command line fetching the same URL list (`-i urls.txt --parallel 4`,
      a config with SLEEP_TIME = 0 and SSRF_PROTECTION = off), process start to exit;
  (d) a second crawl with nothing changed, its start-up into an existing archive, and the
      share of stories answered 304.
Ratios are taken within each repetition, then the median over repetitions is reported
with the min-max spread. Writes its block of docs/benchmarks.md.

    .venv/bin/python tests/bench/bench_crawl.py --output docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import html
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from process_tree import run_measured  # tests/bench is on sys.path when run as a script
from report_file import machine_line, spread, write_block

from crawler.demo.siteserver import Route, SiteServer

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.corpus import full_corpus_dir  # noqa: E402

BIN = Path(sys.executable).parent
MIB = 1024 * 1024
CRAWL_SETTINGS = ("-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0",
                  "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16")  # fmt: skip
TRAFILATURA_CONFIG = """[DEFAULT]
DOWNLOAD_TIMEOUT = 30
MAX_FILE_SIZE = 20000000
MIN_FILE_SIZE = 10
SLEEP_TIME = 0
USER_AGENTS =
COOKIE =
MAX_REDIRECTS = 2
MIN_EXTRACTED_SIZE = 250
MIN_EXTRACTED_COMM_SIZE = 1
MIN_OUTPUT_SIZE = 1
MIN_OUTPUT_COMM_SIZE = 1
EXTRACTION_TIMEOUT = 30
MIN_DUPLCHECK_SIZE = 100
MAX_REPETITIONS = 2
EXTENSIVE_DATE_SEARCH = on
EXTERNAL_URLS = off
SSRF_PROTECTION = off
"""
# Plain extraction in its own process, so its memory is measured like the crawl's.
PLAIN = """
import json, sys, time
from pathlib import Path
import trafilatura
paths = [Path(p) for p in json.loads(sys.argv[1])]
pages = [p.read_bytes() for p in paths]
started = time.perf_counter()
for body in pages:
    trafilatura.bare_extraction(body, with_metadata=True)
print(time.perf_counter() - started)
"""


@dataclass
class Repetition:
    crawl: float
    first_request: float
    crawl_rss: int
    articles: int
    plain: float
    plain_process: float
    plain_rss: int
    cli: float
    cli_outputs: int
    cli_rss: int
    recrawl: float
    recrawl_first_request: float
    recrawl_rss: int
    answered_304: int


def trafilatura_version() -> str:
    import trafilatura

    return str(trafilatura.__version__)


def corpus_pages(corpus: Path) -> list[Path]:
    return sorted(d / "source.html" for d in corpus.iterdir() if (d / "source.html").exists())


def story_path(page: Path) -> str:
    return f"/news/2026/11/{page.parent.name}-story.html"


def serve_corpus(pages: list[Path]) -> SiteServer:
    items = "".join(
        f'<li><a href="{story_path(p)}">{html.escape(p.parent.name)} story</a></li>' for p in pages
    )
    routes = {
        "/": Route(f"<html><body><ul>{items}</ul></body></html>".encode()),
        "/robots.txt": Route(b"User-agent: *\nAllow: /\n", content_type="text/plain"),
        **{story_path(p): Route(p.read_bytes(), content_type="text/html") for p in pages},
    }
    return SiteServer(routes).start()


def crawl(server: SiteServer, db: str) -> tuple[float, float, int, dict[str, object]]:
    """Wall time, time to the first request, peak tree RSS and the run's counters."""
    before = len(server.log)
    started = time.monotonic()
    measured = run_measured(
        [str(BIN / "newsarchive"), "--db", db, "crawl", server.url + "/",
         "--max-depth", "1", "--format", "json", *CRAWL_SETTINGS]
    )  # fmt: skip
    if measured.returncode != 0:
        raise RuntimeError(f"crawl failed: {measured.stderr[-2000:]}")
    first = server.log[before].at - started
    (run,) = json.loads(measured.stdout)
    return measured.seconds, first, measured.peak_rss, run["counters"]


def plain_extraction(pages: list[Path]) -> tuple[float, float, int]:
    measured = run_measured([sys.executable, "-c", PLAIN, json.dumps([str(p) for p in pages])])
    if measured.returncode != 0:
        raise RuntimeError(f"plain extraction failed: {measured.stderr[-2000:]}")
    return float(measured.stdout.strip()), measured.seconds, measured.peak_rss


def trafilatura_cli(server: SiteServer, pages: list[Path], tmp: Path) -> tuple[float, int, int]:
    urls = tmp / "urls.txt"
    urls.write_text("".join(server.url + story_path(p) + "\n" for p in pages))
    config = tmp / "trafilatura.cfg"
    config.write_text(TRAFILATURA_CONFIG)
    out = tmp / "cli-out"
    measured = run_measured(
        [str(BIN / "trafilatura"), "-i", str(urls), "--parallel", "4",
         "--config-file", str(config), "--with-metadata", "-o", str(out)]
    )  # fmt: skip
    if measured.returncode != 0:
        raise RuntimeError(f"trafilatura CLI failed: {measured.stderr[-2000:]}")
    outputs = sum(1 for _ in out.glob("*")) if out.exists() else 0
    return measured.seconds, outputs, measured.peak_rss


def repetition(server: SiteServer, pages: list[Path]) -> Repetition:
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as name:
        tmp = Path(name)
        db = f"sqlite:///{tmp / 'bench.db'}"
        seconds, first, rss, counters = crawl(server, db)
        plain, plain_process, plain_rss = plain_extraction(pages)
        cli, outputs, cli_rss = trafilatura_cli(server, pages, tmp)
        again, again_first, again_rss, recounters = crawl(server, db)
    return Repetition(
        crawl=seconds, first_request=first, crawl_rss=rss,
        articles=int(counters.get("articles_new", 0)),  # type: ignore[call-overload]
        plain=plain, plain_process=plain_process, plain_rss=plain_rss,
        cli=cli, cli_outputs=outputs, cli_rss=cli_rss,
        recrawl=again, recrawl_first_request=again_first, recrawl_rss=again_rss,
        answered_304=int(recounters.get("checked_304", 0)),  # type: ignore[call-overload]
    )  # fmt: skip


def render(reps: list[Repetition], pages: int) -> str:
    col = lambda f: [f(r) for r in reps]  # noqa: E731
    crawl_plain = col(lambda r: r.crawl / r.plain)
    crawl_cli = col(lambda r: r.crawl / r.cli)
    recrawl_first = col(lambda r: r.recrawl / r.crawl)
    # The share of the stories the first crawl archived (checked_304 counts among
    # articles_unchanged, so that is no denominator).
    share_304 = col(lambda r: r.answered_304 / max(1, r.articles) * 100)
    peak = col(lambda r: max(r.crawl_rss, r.recrawl_rss) / MIB)
    first_request = col(lambda r: r.first_request)
    recrawl_first_request = col(lambda r: r.recrawl_first_request)

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    med = statistics.median
    lines = [
        "# Crawl performance against plain trafilatura",
        "",
        f"Written by `tests/bench/bench_crawl.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: "
        f"{len(reps)} repetitions over the {pages} corpus pages served on 127.0.0.1 (politeness "
        "off: no delay, no AutoThrottle, 16 requests per site). Medians, with the min–max "
        "spread over repetitions in brackets; each ratio is taken within one repetition.",
        "",
        "## Targets",
        "",
        "| target | measured | |",
        "| --- | --- | --- |",
        f"| first crawl ≤ 0.8× plain single-process extraction | {spread(crawl_plain)}× | "
        f"{verdict(med(crawl_plain) <= 0.8)} |",
        f"| first crawl ≤ 0.8× the trafilatura CLI | {spread(crawl_cli)}× | "
        f"{verdict(med(crawl_cli) <= 0.8)} |",
        f"| recrawl ≤ 0.3× the first crawl | {spread(recrawl_first)}× | "
        f"{verdict(med(recrawl_first) <= 0.3)} |",
        f"| ≥ 95% of unchanged stories answered 304 | {spread(share_304, 1)}% | "
        f"{verdict(med(share_304) >= 95)} |",
        f"| peak RSS ≤ 350 MiB (whole crawl: main process and workers, summed) | "
        f"{spread(peak, 0)} MiB | {verdict(med(peak) <= 350)} |",
        f"| start-up ≤ 1.0 s before the first request, into an existing archive (the "
        f"recrawl) | {spread(recrawl_first_request)} s | "
        f"{verdict(med(recrawl_first_request) <= 1.0)} |",
        f"| start-up ≤ 1.0 s before the first request, creating the archive (the first "
        f"crawl) | {spread(first_request)} s | "
        f"{verdict(med(first_request) <= 1.0)} |",
        "",
        "## Times",
        "",
        "| step | seconds | pages/s | peak RSS MiB |",
        "| --- | --- | --- | --- |",
        f"| (a) `newsarchive crawl`, first crawl, process start to exit | "
        f"{spread(col(lambda r: r.crawl))} | {pages / med(col(lambda r: r.crawl)):.0f} | "
        f"{spread(col(lambda r: r.crawl_rss / MIB), 0)} |",
        f"| (b) plain `bare_extraction(with_metadata=True)`, one process, extraction loop | "
        f"{spread(col(lambda r: r.plain))} | {pages / med(col(lambda r: r.plain)):.0f} | "
        f"{spread(col(lambda r: r.plain_rss / MIB), 0)} |",
        f"| (b′) the same, process start to exit (imports included) | "
        f"{spread(col(lambda r: r.plain_process))} | | |",
        f"| (c) trafilatura CLI, `-i urls.txt --parallel 4`, process start to exit | "
        f"{spread(col(lambda r: r.cli))} | {pages / med(col(lambda r: r.cli)):.0f} | "
        f"{spread(col(lambda r: r.cli_rss / MIB), 0)} |",
        f"| (d) `newsarchive crawl`, nothing changed | {spread(col(lambda r: r.recrawl))} | "
        f"{pages / med(col(lambda r: r.recrawl)):.0f} | "
        f"{spread(col(lambda r: r.recrawl_rss / MIB), 0)} |",
        "",
        f"Articles archived by the first crawl: {spread(col(lambda r: r.articles), 0)} of "
        f"{pages}; files written by the trafilatura CLI: "
        f"{spread(col(lambda r: r.cli_outputs), 0)}. Stories answered 304 on the recrawl: "
        f"{spread(col(lambda r: r.answered_304), 0)}.",
        "",
        machine_line() + f" trafilatura {trafilatura_version()}.",
        "",
        "Reproduce: `make bench`, or "
        "`.venv/bin/python tests/bench/bench_crawl.py --output docs/benchmarks.md`.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=full_corpus_dir())
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    pages = corpus_pages(args.corpus)
    server = serve_corpus(pages)
    try:
        reps = [repetition(server, pages) for _ in range(args.repeats)]
    finally:
        server.stop()
    report = render(reps, len(pages))
    print(report)
    if args.output:
        write_block(args.output, "crawl", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
