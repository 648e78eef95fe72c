"""make bench, extraction part: body quality through the whole crawl pipeline on the corpus.

Scores 4-word-shingle F1 against each page's `expected.txt` for
  (a) plain `trafilatura.bare_extraction(html, with_metadata=True)`, one process;
  (b) newsarchive's page analysis (`crawler.analysis.page.analyze_page`), one process;
  (c) the whole pipeline: the corpus served on 127.0.0.1, `newsarchive crawl`, and the
      text read back from the archive;
and times (a), (b), the crawl, and a second crawl with nothing changed. Writes its block of
docs/benchmarks.md.

    .venv/bin/python tests/bench/bench_extraction.py --output docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import trafilatura
from report_file import spread, write_block  # tests/bench is on sys.path as a script

from crawler.analysis.page import FetchedPage, PageRules, analyze_page
from crawler.demo.siteserver import Route, SiteServer
from storage import Archive

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.corpus import full_corpus_dir  # noqa: E402
from tests.quality import shingle_f1  # noqa: E402

PAGE_URL = "http://127.0.0.1:8000/news/2026/11/{}-story.html"


def load(corpus: Path) -> list[tuple[str, bytes, str]]:
    return [
        (d.name, (d / "source.html").read_bytes(), (d / "expected.txt").read_text("utf-8"))
        for d in sorted(p for p in corpus.iterdir() if p.is_dir())
    ]


def plain(pages: list[tuple[str, bytes, str]]) -> list[str]:
    texts = []
    for _name, body, _expected in pages:
        document = trafilatura.bare_extraction(body, with_metadata=True)
        texts.append((document.text if document else "") or "")
    return texts


def ours(pages: list[tuple[str, bytes, str]]) -> list[str]:
    texts = []
    for name, body, _expected in pages:
        url = PAGE_URL.format(name)
        result = analyze_page(FetchedPage("bench", url, url, 200, body, "text/html"), PageRules())
        article = result.prepared.record.article if result.prepared else None
        texts.append(article.text if result.kind == "article" and article else "")
    return texts


def timed(function, pages, repeats: int) -> tuple[list[str], list[float]]:
    times, texts = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        texts = function(pages)
        times.append(time.perf_counter() - started)
    return texts, times


def home_page(names: list[str]) -> bytes:
    items = "".join(
        f'<li><a href="/news/2026/11/{n}-story.html">{html.escape(n)} story</a></li>' for n in names
    )
    return f"<html><head><title>Corpus</title></head><body><ul>{items}</ul></body></html>".encode()


def crawl(db: str, url: str) -> tuple[float, dict]:
    exe = Path(sys.executable).parent / "newsarchive"
    started = time.perf_counter()
    result = subprocess.run(
        [str(exe), "--db", db, "crawl", url, "--max-depth", "1", "--format", "json",
         "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0",
         "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    (run,) = json.loads(result.stdout)
    return elapsed, run


def whole_pipeline(pages, repeats: int) -> dict:
    server = SiteServer({}).start()
    routes = {"/": Route(home_page([n for n, _, _ in pages]))}
    for name, body, _ in pages:
        routes[f"/news/2026/11/{name}-story.html"] = Route(body, content_type="text/html")
    routes["/robots.txt"] = Route(b"User-agent: *\nAllow: /\n", content_type="text/plain")
    server.set_routes(routes)
    firsts, seconds, runs = [], [], []
    try:
        for _ in range(repeats):
            with tempfile.TemporaryDirectory() as tmp:
                db = f"sqlite:///{tmp}/bench.db"
                first, run = crawl(db, server.url + "/")
                second, rerun = crawl(db, server.url + "/")
                firsts.append(first)
                seconds.append(second)
                runs.append((run, rerun))
                with Archive(db, create=False) as archive:
                    texts = []
                    for name, _, _ in pages:
                        try:
                            url = f"{server.url}/news/2026/11/{name}-story.html"
                            texts.append(archive.snapshot(url).text)
                        except LookupError:
                            texts.append("")
    finally:
        server.stop()
    return {"first": firsts, "second": seconds, "runs": runs, "texts": texts}


def render(pages, plain_texts, plain_times, our_texts, our_times, pipe, repeats) -> str:
    expected = [e for _, _, e in pages]
    f_plain = [shingle_f1(t, e) for t, e in zip(plain_texts, expected, strict=True)]
    f_ours = [shingle_f1(t, e) for t, e in zip(our_texts, expected, strict=True)]
    f_pipe = [shingle_f1(t, e) for t, e in zip(pipe["texts"], expected, strict=True)]
    run, rerun = pipe["runs"][-1]
    n = len(pages)
    better = sum(1 for a, b in zip(f_plain, f_pipe, strict=True) if b > a + 0.01)
    worse = sum(1 for a, b in zip(f_plain, f_pipe, strict=True) if b < a - 0.01)
    lines = [
        "# Extraction and crawl benchmarks",
        "",
        f"Written by `tests/bench/bench_extraction.py` on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC. {n} corpus pages "
        f"(`../shared/corpus/readability`); times are medians of {repeats} runs with the "
        "min–max spread in brackets. F1 is the 4-word-shingle F1 against `expected.txt`.",
        "",
        "## Body quality",
        "",
        "| extraction | mean F1 | median F1 | pages under 0.5 |",
        "| --- | --- | --- | --- |",
    ]
    for label, scores in (
        ("plain `trafilatura.bare_extraction(with_metadata=True)`", f_plain),
        ("newsarchive page analysis, one process", f_ours),
        ("newsarchive, whole pipeline (crawl, then read from the archive)", f_pipe),
    ):
        lines.append(
            f"| {label} | {statistics.mean(scores):.4f} | {statistics.median(scores):.4f} "
            f"| {sum(1 for s in scores if s < 0.5)} |"
        )
    lines += [
        "",
        f"Through the whole pipeline, {better} pages score higher than plain trafilatura by "
        f"more than 0.01 and {worse} lower. {run['counters'].get('articles_new', 0)} of {n} "
        "pages were archived as articles. The choices behind the difference (fast mode with a "
        "fallback pass, the title line, charset rules) are measured one by one in "
        "[crawling.md](crawling.md#extraction-choices-measured-on-sharedcorpus-81-pages).",
        "",
        "## Time",
        "",
        "| step | seconds | pages/s |",
        "| --- | --- | --- |",
        f"| plain trafilatura, one process, {n} pages | {spread(plain_times)} "
        f"| {n / statistics.median(plain_times):.0f} |",
        f"| newsarchive page analysis (decode, metadata, links, extraction, decision, "
        f"storage preparation), one process | {spread(our_times)} "
        f"| {n / statistics.median(our_times):.0f} |",
        f"| `newsarchive crawl`, first crawl (start-up, robots.txt, {n} pages, "
        f"writes; all cores) | {spread(pipe['first'])} "
        f"| {n / statistics.median(pipe['first']):.0f} |",
        f"| `newsarchive crawl`, nothing changed ({rerun['counters'].get('checked_304', 0)} "
        f"of {n} answered 304) | {spread(pipe['second'])} | |",
        "",
        "The crawl times include process start-up (measured on its own in the crawl-performance "
        "benchmark below). The one-process times here "
        "are medians of repeated passes over the same pages, which warm trafilatura's and "
        "dateparser's caches; the crawl-performance benchmark below compares the crawl "
        "with a single cold pass, which is what a crawler meets.",
        "",
        "## Machine",
        "",
        f"- {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        f"- trafilatura {trafilatura.__version__}",
        "",
        "Reproduce: `make bench` (all benchmarks) or "
        "`.venv/bin/python tests/bench/bench_extraction.py --output docs/benchmarks.md`.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=full_corpus_dir())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    pages = load(args.corpus)
    plain(pages[:5])  # warm imports and caches before timing
    plain_texts, plain_times = timed(plain, pages, args.repeats)
    our_texts, our_times = timed(ours, pages, args.repeats)
    pipe = whole_pipeline(pages, args.repeats)
    report = render(pages, plain_texts, plain_times, our_texts, our_times, pipe, args.repeats)
    print(report)
    if args.output:
        write_block(args.output, "extraction", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
