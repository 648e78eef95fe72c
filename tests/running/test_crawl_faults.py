"""Network faults and hostile responses: counted by kind, never archived, the crawl goes on."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.analysis.page import FetchedPage, PageRules, analyze_page
from tests.fault_site import EXPECTED_COUNTS, good_story_paths, serve_fault_site

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent


def test_a_site_serving_every_fault(tmp_path: Path) -> None:
    """The issue's acceptance crawl: timeouts, resets, short bodies, broken chunking,
    5xx/429, redirect loops and chains, redirects to file:/data:/ftp:, size limits and four
    encoding bombs, files posing as pages, hostile HTML and XML, a loopback name and an
    off-site redirect. The crawl exits 0, archives every good story, counts each fault by
    kind and never requests what it must not."""
    db = tmp_path / "a.db"
    with serve_fault_site() as site:
        (tmp_path / "sites.toml").write_text(site.sites_toml())
        result = subprocess.run(
            [str(BIN / "newsarchive"), "--db", f"sqlite:///{db}",
             "--sites", str(tmp_path / "sites.toml"), "crawl", "faults",
             *site.crawl_args(), "--format", "json"],
            capture_output=True, text=True, timeout=240, env=dict(os.environ),
        )  # fmt: skip
        never = site.never_requested()
        base = site.url
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    (run,) = json.loads(result.stdout)
    assert run["status"] == "succeeded"
    counters = run["counters"]
    for key, expected in EXPECTED_COUNTS.items():
        group, _, name = key.partition("/")
        found = counters.get(group, {}).get(name, 0) if name else counters.get(group, 0)
        assert found == expected, f"{key}: {found} != {expected} in {counters}"
    assert never == dict.fromkeys(never, 0)
    # every good story, the rate-limited one included, is archived once
    with sqlite3.connect(db) as conn:
        archived = {row[0] for row in conn.execute("SELECT canonical_url FROM articles")}
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert archived == {base + path for path in good_story_paths()}
    assert counters["articles_new"] == len(good_story_paths())


def test_binary_bodies_are_not_parsed_but_utf16_pages_are() -> None:
    url = "http://127.0.0.1:8000/x"
    for body in (b"%PDF-1.4", b"\xff\xd8\xff\xe0JFIF", b"\x00\x00\x00\x18ftypmp42", b"a\x00b"):
        page = FetchedPage("t", url, url, 200, body + b"\x00" * 100, "text/html")
        assert analyze_page(page, PageRules()).kind == "not_html"
    html = "<html><body><p>" + "Ein Satz über den Hafen. " * 40 + "</p></body></html>"
    page = FetchedPage("t", url, url, 200, html.encode("utf-16"), "text/html")
    assert analyze_page(page, PageRules()).kind != "not_html"
