"""`scrapy crawl SPIDER -a site=...`: Scrapy's crawl command, with the site checked first.

Scrapy creates a spider inside its engine's first task, where an exception becomes a
traceback logged after a screen of start-up lines, and the command still exits 0. An
archive spider's site (a name in the sites file, or a URL) is resolved here instead,
before anything starts, so a mistake is one line on stderr and exit status 2, as with
`newsarchive crawl`. The project's settings set in the environment
(crawler/config/environment.py) apply here too.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.settings import Settings
from scrapy.spiderloader import get_spider_loader

from crawler.config.environment import apply_environment
from crawler.config.sites import SitesConfigError
from crawler.running.exit_codes import EXIT_USAGE
from spiders.base import ArchiveSpider

__all__ = ["Command", "environment_or_exit"]


class Command(ScrapyCrawlCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if self.settings is not None:
            environment_or_exit(self.settings)
        if len(args) != 1 or self.settings is None:
            return  # Scrapy reports a missing or extra spider name itself
        try:
            spider_class = get_spider_loader(self.settings).load(args[0])
        except KeyError:
            return  # and an unknown spider
        if not issubclass(spider_class, ArchiveSpider):
            return
        try:
            spider_class.resolve_site(opts.spargs.get("site"), self.settings)
        except SitesConfigError as exc:
            _refuse(exc)


def environment_or_exit(settings: Settings) -> None:
    """As `newsarchive crawl` does: the environment under the site's settings and -s; a bad
    value is one line and exit status 2."""
    try:
        apply_environment(settings)
    except SitesConfigError as exc:
        _refuse(exc)


def _refuse(exc: SitesConfigError) -> NoReturn:
    sys.stderr.write(f"error: {exc}\n")
    sys.exit(EXIT_USAGE)
