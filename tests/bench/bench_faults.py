"""make bench, hardening part: a crawl of a site serving every fault, with its peak memory.

Serves tests/fault_site.py on 127.0.0.1 (timeouts, resets, broken encodings, redirect loops,
size limits, four encoding bombs, files posing as pages, hostile HTML and XML, a loopback
name, an off-site redirect, beside the demo newspaper's good stories), crawls it with
`newsarchive crawl` and reports the exit status, what was archived, the counters by kind and
the peak resident memory of the crawl's whole process tree (main process and extraction
workers), sampled every 20 ms. Writes its block of docs/benchmarks.md.

    .venv/bin/python tests/bench/bench_faults.py --output docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from process_tree import run_measured  # tests/bench is on sys.path when run as a script
from report_file import machine_line, write_block

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.fault_site import EXPECTED_COUNTS, good_story_paths, serve_fault_site  # noqa: E402

BIN = Path(sys.executable).parent
MIB = 1024 * 1024


def crawl_once(workdir: Path) -> dict[str, object]:
    db = workdir / "faults.db"
    for leftover in workdir.glob("faults.db*"):
        leftover.unlink()
    with serve_fault_site() as site:
        (workdir / "sites.toml").write_text(site.sites_toml())
        measured = run_measured(
            [str(BIN / "newsarchive"), "--db", f"sqlite:///{db}",
             "--sites", str(workdir / "sites.toml"), "crawl", "faults",
             *site.crawl_args(), "--format", "json"],
            env=os.environ,
        )  # fmt: skip
        never = site.never_requested()
        base = site.url
    run = json.loads(measured.stdout)[0] if measured.returncode == 0 else {}
    with sqlite3.connect(db) as conn:
        archived = {row[0] for row in conn.execute("SELECT canonical_url FROM articles")}
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    return {
        "returncode": measured.returncode,
        "seconds": measured.seconds,
        "peak_rss": measured.peak_rss,
        "counters": run.get("counters", {}),
        "status": run.get("status"),
        "never": never,
        "good_archived": len(archived & {base + p for p in good_story_paths()}),
        "integrity": integrity,
        "stderr_tail": measured.stderr[-1500:] if measured.returncode else "",
    }


def counted(counters: dict[str, object], key: str) -> object:
    group, _, name = key.partition("/")
    value = counters.get(group, {})
    return value.get(name, 0) if isinstance(value, dict) else value


def render(runs: list[dict[str, object]]) -> str:
    last = runs[-1]
    counters = last["counters"]
    assert isinstance(counters, dict)
    rss = [int(r["peak_rss"]) / MIB for r in runs]  # type: ignore[call-overload]
    secs = [float(r["seconds"]) for r in runs]  # type: ignore[arg-type]
    lines = [
        "# Hardening: a crawl of a site serving every fault",
        "",
        f"Written by `tests/bench/bench_faults.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"{len(runs)} crawls of `tests/fault_site.py` on 127.0.0.1, each into a fresh SQLite "
        "archive (DOWNLOAD_TIMEOUT 3 s, DOWNLOAD_MAXSIZE 1 MiB, one retry).",
        "",
        "| | result |",
        "| --- | --- |",
        f"| exit status, run status | {', '.join(str(r['returncode']) for r in runs)}; "
        f"{last['status']} |",
        f"| good stories archived | {last['good_archived']} of {len(good_story_paths())} |",
        f"| requests that must never be made (off-site server, loopback name, external "
        f"entity) | {sum(last['never'].values())} |",  # type: ignore[attr-defined]
        f"| `PRAGMA integrity_check` | {last['integrity']} |",
        f"| wall time | {statistics.median(secs):.1f} s (median; {min(secs):.1f}–{max(secs):.1f}) "
        "|",
        f"| **peak RSS of the whole crawl** (main process + extraction workers, summed) | "
        f"**{statistics.median(rss):.0f} MiB** (median; {min(rss):.0f}–{max(rss):.0f}) |",
        "",
        "Counted by kind (expected → counted in the last run):",
        "",
        "| counter | expected | counted |",
        "| --- | --- | --- |",
        *(
            f"| `{key}` | {expected} | {counted(counters, key)} |"
            for key, expected in EXPECTED_COUNTS.items()
        ),
        "",
        "The bombs decompress to 64 MiB each and the largest hostile page is 900 kB, so the "
        "peak is the crawler's own working set: Scrapy stops reading at DOWNLOAD_MAXSIZE, "
        "during decompression too. Summed RSS counts shared library pages once per process, "
        "so it overstates the tree's real footprint slightly.",
        "",
        machine_line(),
        "",
        "Reproduce: `make bench`, or "
        "`.venv/bin/python tests/bench/bench_faults.py --output docs/benchmarks.md`.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        runs = [crawl_once(Path(tmp)) for _ in range(args.repeats)]
    failed = [r for r in runs if r["returncode"] != 0]
    if failed:
        print(failed[0]["stderr_tail"], file=sys.stderr)
        return 1
    report = render(runs)
    print(report)
    if args.output:
        write_block(args.output, "faults", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
