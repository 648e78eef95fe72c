"""`make demo`: serve the bundled demo newspaper, crawl it twice, and query the archive.

Runs the real command line (each step printed as a user would type it) against the demo
site on 127.0.0.1, so a fresh clone shows discovery, the article decision, a 304 recrawl,
an edited headline kept as a new version, and search, without network or corpus.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

from crawler.demo.newspaper import EDITED_STORY, demo_routes
from crawler.demo.siteserver import SiteServer

__all__ = ["main"]


def _run(db: str, *args: str) -> None:
    exe = Path(sys.executable).parent / "newsarchive"
    command = [str(exe) if exe.exists() else "newsarchive", "--db", db, *args]
    print(f"\n$ newsarchive --db {db} {shlex.join(args)}", flush=True)
    result = subprocess.run(command, check=False)
    if result.returncode != 0:
        sys.exit(result.returncode)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m crawler.demo.tour")
    parser.add_argument("--db", default="sqlite:///demo.db")
    args = parser.parse_args(argv)
    server = SiteServer({}).start()
    polite_off = ("-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False")
    try:
        server.set_routes(demo_routes(server.url, day=1))
        print(f"The Harbor Times (demo site) is served at {server.url}/", flush=True)
        _run(args.db, "crawl", server.url + "/", *polite_off)
        _run(args.db, "search", "comet")
        print("\n# A day later: one headline is edited, one story is new.", flush=True)
        server.set_routes(demo_routes(server.url, day=2))
        _run(args.db, "crawl", server.url + "/", *polite_off)
        _run(args.db, "history", server.url + EDITED_STORY)
        _run(args.db, "diff", server.url + EDITED_STORY, "--from", "1")
        _run(args.db, "runs")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
