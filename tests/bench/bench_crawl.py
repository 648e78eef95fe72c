"""make bench, performance part: a crawl against plain trafilatura and its CLI, in one run.

On a local news site shaped like the web (tests/web_site.py), built from the corpus
(../shared/corpus/readability) and served on 127.0.0.1 with politeness delays off: every
story page keeps its own links (thousands in all, most to 404s or pages that are no
stories), listings paginate, the sitemap lists only the newest half of the stories and a
fifth of them are reachable only through other stories' links. Every repetition measures:
  (a) `newsarchive crawl` (default discovery and depth) into a fresh archive: wall time
      from process start to exit, requests sent per story archived, stories found, the
      time until its first request reaches the server (start-up, here including the
      creation of the archive), and the peak RSS of its process tree;
  (b) plain single-process `trafilatura.bare_extraction(html, with_metadata=True)` over the
      same pages, already in memory (imports excluded: the figure to beat is the bare
      extraction loop), and the RSS of that process;
  (c) trafilatura's command line fetching the same URL list (`-i urls.txt --parallel 4`,
      a config with SLEEP_TIME = 0 and SSRF_PROTECTION = off), process start to exit;
  (d) a second crawl with nothing changed, its start-up into an existing archive, and the
      share of the stories it checked that answered 304.
Once per run, (e) the same first crawl with `--discovery full` (every same-site link to
max_depth, the behaviour before fresh discovery), for its request count.
Ratios are taken within each repetition, then the median over repetitions is reported
with the min-max spread. Writes its block of docs/benchmarks.md.

    .venv/bin/python tests/bench/bench_crawl.py --output docs/benchmarks.md
"""

from __future__ import annotations

import argparse
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

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.corpus import full_corpus_dir  # noqa: E402
from tests.web_site import RunningWebSite, load_corpus_dir, serve_web_site  # noqa: E402

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
    requests: int
    found: int
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
    rechecked: int
    # What the first crawl requested besides the stories, by kind of page.
    overhead: dict[str, int]


def trafilatura_version() -> str:
    import trafilatura

    return str(trafilatura.__version__)


def story_pages(site: RunningWebSite, tmp: Path) -> list[Path]:
    """The story pages exactly as the site serves them, as files for plain extraction."""
    routes = site.server.routes
    paths = []
    for index, path in enumerate(sorted(site.manifest.stories)):
        page = tmp / f"story-{index:03d}.html"
        page.write_bytes(routes[path].body)
        paths.append(page)
    return paths


def crawl(
    site: RunningWebSite, db: str, *extra: str
) -> tuple[float, float, int, dict[str, object]]:
    """Wall time, time to the first request, peak tree RSS and the run's counters."""
    server = site.server
    before = len(server.log)
    started = time.monotonic()
    measured = run_measured(
        [str(BIN / "newsarchive"), "--db", db, "crawl", server.url + "/",
         "--format", "json", *CRAWL_SETTINGS, *extra]
    )  # fmt: skip
    if measured.returncode != 0:
        raise RuntimeError(f"crawl failed: {measured.stderr[-2000:]}")
    first = server.log[before].at - started
    (run,) = json.loads(measured.stdout)
    return measured.seconds, first, measured.peak_rss, run["counters"]


def requested_kinds(site: RunningWebSite, since: int) -> dict[str, int]:
    """The requests since `since` by kind of page of the site (stories aside)."""
    manifest = site.manifest
    kinds: dict[str, int] = {}
    for entry in site.server.log[since:]:
        path = entry.path
        if path in manifest.stories:
            continue
        if path in ("/robots.txt", "/sitemap.xml", "/feed.xml"):
            kind = "robots.txt, sitemap, feed"
        elif path in manifest.listing_pages:
            kind = "listing pages (home, sections, their pagination)"
        elif path in manifest.tag_pages or path in manifest.author_pages:
            kind = "tag and author pages"
        elif path in manifest.other_pages:
            kind = "other pages of the site (about, contact, video, gallery)"
        else:
            kind = "dead links (404)"
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def stories_found(site: RunningWebSite, db: str) -> int:
    """Stories of the site the archive holds (by URL, so nothing else counts)."""
    import sqlite3

    urls = {site.url + path for path in site.manifest.stories}
    with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:
        held = {url for (url,) in conn.execute("SELECT url FROM article_urls")}
    return len(urls & held)


def plain_extraction(pages: list[Path]) -> tuple[float, float, int]:
    measured = run_measured([sys.executable, "-c", PLAIN, json.dumps([str(p) for p in pages])])
    if measured.returncode != 0:
        raise RuntimeError(f"plain extraction failed: {measured.stderr[-2000:]}")
    return float(measured.stdout.strip()), measured.seconds, measured.peak_rss


def trafilatura_cli(site: RunningWebSite, tmp: Path) -> tuple[float, int, int]:
    urls = tmp / "urls.txt"
    urls.write_text("".join(site.url + path + "\n" for path in sorted(site.manifest.stories)))
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


def number(counters: dict[str, object], name: str) -> int:
    value = counters.get(name, 0)
    return int(value) if isinstance(value, int | float) else 0


def repetition(site: RunningWebSite) -> Repetition:
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as name:
        tmp = Path(name)
        db = f"sqlite:///{tmp / 'bench.db'}"
        mark = len(site.server.log)
        seconds, first, rss, counters = crawl(site, db)
        overhead = requested_kinds(site, mark)
        found = stories_found(site, db)
        plain, plain_process, plain_rss = plain_extraction(story_pages(site, tmp))
        cli, outputs, cli_rss = trafilatura_cli(site, tmp)
        again, again_first, again_rss, recounters = crawl(site, db)
    checked = sum(
        number(recounters, key)
        for key in ("articles_new", "articles_changed", "articles_unchanged")
    )
    return Repetition(
        crawl=seconds, first_request=first, crawl_rss=rss,
        articles=number(counters, "articles_new"), requests=number(counters, "requests"),
        found=found, plain=plain, plain_process=plain_process, plain_rss=plain_rss,
        cli=cli, cli_outputs=outputs, cli_rss=cli_rss,
        recrawl=again, recrawl_first_request=again_first, recrawl_rss=again_rss,
        answered_304=number(recounters, "checked_304"), rechecked=checked, overhead=overhead,
    )  # fmt: skip


def full_discovery(site: RunningWebSite) -> tuple[float, int, int]:
    """One first crawl with --discovery full: seconds, requests, stories found."""
    with tempfile.TemporaryDirectory(prefix="bench-crawl-full-") as name:
        db = f"sqlite:///{Path(name) / 'bench.db'}"
        seconds, _, _, counters = crawl(site, db, "--discovery", "full")
        return seconds, number(counters, "requests"), stories_found(site, db)


def render(reps: list[Repetition], site: RunningWebSite, full: tuple[float, int, int]) -> str:
    manifest = site.manifest
    pages = len(manifest.stories)
    col = lambda f: [f(r) for r in reps]  # noqa: E731
    crawl_plain = col(lambda r: r.crawl / r.plain)
    crawl_cli = col(lambda r: r.crawl / r.cli)
    recrawl_first = col(lambda r: r.recrawl / r.crawl)
    per_story = col(lambda r: r.requests / max(1, r.articles))
    found_share = col(lambda r: r.found / pages * 100)
    # Of the stories the recrawl checked (new, changed or unchanged), those answered 304.
    share_304 = col(lambda r: r.answered_304 / max(1, r.rechecked) * 100)
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
        f"{len(reps)} repetitions over a site of {pages} story pages from the corpus, shaped like "
        "the web (tests/web_site.py), served on 127.0.0.1 (politeness off: no delay, no "
        "AutoThrottle, 16 requests per site); the crawl runs with its defaults otherwise "
        "(discovery fresh, max_depth 3). Medians, with the min–max spread over repetitions in "
        "brackets; each ratio is taken within one repetition.",
        "",
        "## Targets",
        "",
        "| target | measured | |",
        "| --- | --- | --- |",
        f"| every story found, including those reachable only through other stories' links | "
        f"{spread(found_share, 1)}% | {verdict(min(found_share) >= 100)} |",
        f"| requests per archived story on the first crawl ≤ 1.25 | {spread(per_story, 2)} | "
        f"{verdict(med(per_story) <= 1.25)} |",
        f"| first crawl ≤ 0.6× plain single-process extraction | {spread(crawl_plain)}× | "
        f"{verdict(med(crawl_plain) <= 0.6)} |",
        f"| first crawl ≤ 0.8× the trafilatura CLI | {spread(crawl_cli)}× | "
        f"{verdict(med(crawl_cli) <= 0.8)} |",
        f"| recrawl ≤ 0.25× the first crawl | {spread(recrawl_first)}× | "
        f"{verdict(med(recrawl_first) <= 0.25)} |",
        f"| ≥ 95% of the unchanged stories the recrawl checked answered 304 | "
        f"{spread(share_304, 1)}% | {verdict(med(share_304) >= 95)} |",
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
        f"{pages}, in {spread(col(lambda r: r.requests), 0)} requests; files written by the "
        f"trafilatura CLI: {spread(col(lambda r: r.cli_outputs), 0)}. The recrawl checked "
        f"{spread(col(lambda r: r.rechecked), 0)} stories (the sitemap's, the feed's and those "
        "of listings; a listing unchanged since the last run answers 304 and stands for the "
        f"links it had), {spread(col(lambda r: r.answered_304), 0)} of them answered 304.",
        "",
        "## Discovery",
        "",
        f"The site: {pages} stories, {len(manifest.sitemap_stories)} in the sitemap, "
        f"{len(manifest.feed_stories)} in the feed, {len(manifest.link_only_stories)} reachable "
        f"only through other stories' links; {len(manifest.listing_pages)} listing pages "
        f"(home and three sections, paginated), {len(manifest.tag_pages)} tag and "
        f"{len(manifest.author_pages)} author pages, {len(manifest.other_pages)} other pages. "
        "Same-site links in the story pages: "
        + ", ".join(
            f"{manifest.link_fates[fate]:,} {fate.replace('_', ' ')}"
            for fate in ("story", "tag_or_author_or_section", "other_page", "dead")
        )
        + f" (and {manifest.link_fates['offsite']:,} to other sites).",
        "",
        "| first crawl | requests | requests per story | stories found | seconds |",
        "| --- | --- | --- | --- | --- |",
        f'| `discovery = "fresh"` (default) | {med(col(lambda r: r.requests)):.0f} | '
        f"{med(per_story):.2f} | {med(col(lambda r: r.found)):.0f} of {pages} | "
        f"{med(col(lambda r: r.crawl)):.2f} |",
        f'| `discovery = "full"` (every same-site link to max_depth; one run) | {full[1]} | '
        f"{full[1] / max(1, full[2]):.2f} | {full[2]} of {pages} | {full[0]:.2f} |",
        "",
        f"What the fresh first crawl requested besides the {pages} stories (last repetition): "
        + "; ".join(f"{n} {kind}" for kind, n in sorted(reps[-1].overhead.items()))
        + ". The site's own documents, listings and navigation are fetched whatever a crawler "
        "does to find its stories; what fresh discovery controls is the rest.",
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
    site = serve_web_site(load_corpus_dir(args.corpus))
    try:
        reps = [repetition(site) for _ in range(args.repeats)]
        full = full_discovery(site)
        report = render(reps, site, full)
    finally:
        site.stop()
    print(report)
    if args.output:
        write_block(args.output, "crawl", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
