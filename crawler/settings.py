"""Scrapy settings of the newsarchive project (the crawl pipeline fills these in)."""

from __future__ import annotations

BOT_NAME = "newsarchive"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
