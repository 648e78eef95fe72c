"""`scrapy parse URL --spider news -a site=...`: Scrapy's parse command, writing nothing.

`parse` is a look at what a spider makes of one page. Scrapy still opens the spider's item
pipelines, and ours opened the archive, recorded a crawl run (failed: no page fetched by
a crawl) and stored the frontier's verdicts as the site's discovery memory. Here the
archive is left alone (NEWSARCHIVE_RECORD off) unless `--pipelines` asks for the items
to go through the pipelines, as they then do in a crawl. The items shown, and written by
`-o`, are the articles as `scrapy crawl -o` writes them, not the raw fetch with its bytes.
"""

from __future__ import annotations

import argparse
from typing import Any

from itemadapter import ItemAdapter
from scrapy.commands.parse import Command as ScrapyParseCommand
from scrapy.utils import display

from crawler.keys import Setting
from crawler.running.scrapy_commands.crawl import environment_or_exit
from crawler.runtime.items import ArchivedFetch, feed_item

__all__ = ["Command"]


class Command(ScrapyParseCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if self.settings is None:
            return
        environment_or_exit(self.settings)
        if not opts.pipelines:
            self.settings.set(Setting.RECORD, False, priority="cmdline")

    def print_items(self, lvl: int | None = None, colour: bool = True) -> None:
        if lvl is None:
            items = [item for found in self.items.values() for item in found]
        else:
            items = self.items.get(lvl, [])
        print("# Scraped Items ", "-" * 60)
        display.pprint([_shown(item) for item in items], colorize=colour)


def _shown(item: Any) -> Any:
    if isinstance(item, ArchivedFetch):
        return feed_item(item) or {"url": item.url, "not_modified": True}
    return ItemAdapter(item).asdict()
