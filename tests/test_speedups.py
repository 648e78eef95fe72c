"""The start-up tricks (crawler/speedups.py): each does what it says, and
NEWSARCHIVE_SPEEDUPS=0 turns every one off without changing what a crawl fetches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.demo.newspaper import STORY_PATHS
from crawler.demo.siteserver import SiteServer
from tests.fresh_python import run_python

# Each trick observed in a fresh interpreter, printed as one JSON object.
PROBE = """
import atexit, json, sys
import pebble, htmldate.extractors as extractors
from crawler import speedups

default_poll = pebble.CONSTS.sleep_unit
speedups.poll_pebble_often(pebble.CONSTS)
parser_before = extractors.get_external_parser
speedups.limit_date_languages()
ran = []
speedups.rehearse(lambda: ran.append(1))
speedups.import_without_stack_source("scrapy.core.downloader.handlers.http11")
speedups.trim_heap()
print(json.dumps({
    "enabled": speedups.enabled(),
    "boot_a_worker_first": speedups.boot_a_worker_first(),
    "pebble_poll_changed": pebble.CONSTS.sleep_unit != default_poll,
    "date_parser_replaced": extractors.get_external_parser is not parser_before,
    "rehearsed": bool(ran),
    "handler_imported": "scrapy.core.downloader.handlers.http11" in sys.modules,
}))
atexit.register(lambda: print("interpreter teardown ran"))
sys.stdout.flush()
speedups.exit_at_once(3)
"""


def _probe(switch: str | None) -> tuple[dict[str, bool], subprocess.CompletedProcess[str]]:
    env = {k: v for k, v in os.environ.items() if k != "NEWSARCHIVE_SPEEDUPS"}
    if switch is not None:
        env["NEWSARCHIVE_SPEEDUPS"] = switch
    result = run_python(PROBE, env=env)
    assert result.returncode == 3, result.stderr
    return json.loads(result.stdout.splitlines()[0]), result


def test_every_trick_is_on_by_default() -> None:
    seen, result = _probe(None)
    assert seen == {
        "enabled": True,
        "boot_a_worker_first": True,
        "pebble_poll_changed": True,
        "date_parser_replaced": True,
        "rehearsed": True,
        "handler_imported": True,
    }
    assert "interpreter teardown ran" not in result.stdout  # os._exit skipped it


@pytest.mark.parametrize("switch", ["0", "off", "false"])
def test_the_switch_turns_every_trick_off(switch: str) -> None:
    seen, result = _probe(switch)
    assert not any(seen.values()), seen
    assert "interpreter teardown ran" in result.stdout  # a normal exit


def test_the_download_handler_import_names_its_aliases_and_restores_inspect() -> None:
    """Scrapy's TLS aliases still name their modules when imported without source context,
    and inspect.stack is Python's own again afterwards."""
    probe = (
        "import inspect\n"
        "real = inspect.stack\n"
        "from crawler import speedups\n"
        "speedups.import_without_stack_source('scrapy.core.downloader.handlers.http11')\n"
        "import scrapy.core.downloader.contextfactory as c, scrapy.core.downloader.tls as t\n"
        "assert inspect.stack is real\n"
        "print(c.ScrapyClientContextFactory.__module__, t.ScrapyClientTLSOptions.__module__)\n"
    )
    result = run_python(probe, check=True)
    assert result.stdout.split() == [
        "scrapy.core.downloader.contextfactory",
        "scrapy.core.downloader.tls",
    ]


@pytest.mark.e2e
def test_a_crawl_without_speedups_is_the_same_crawl(demo: SiteServer, tmp_path: Path) -> None:
    """For debugging a crawl with every trick off: it must still be the same crawl."""
    env = {
        **os.environ,
        "NEWSARCHIVE_SPEEDUPS": "0",
        "NEWSARCHIVE_DB": f"sqlite:///{tmp_path / 'a.db'}",
    }
    command = [str(Path(sys.executable).parent / "newsarchive"), "crawl", demo.url + "/"]
    result = subprocess.run(
        [
            *command,
            "-s",
            "AUTOTHROTTLE_ENABLED=False",
            "-s",
            "DOWNLOAD_DELAY=0",
            "--format",
            "json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (run,) = json.loads(result.stdout)
    assert run["status"] == "succeeded"
    assert run["counters"]["articles_new"] == len(STORY_PATHS[1])
