"""The generic `news` spider: any site from sites.toml or a bare URL, no site code.

scrapy crawl news -a site=example          # a site from sites.toml
scrapy crawl news -a site=https://example.com/ -a since=2d
"""

from __future__ import annotations

from spiders.base import ArchiveSpider

__all__ = ["NewsSpider"]


class NewsSpider(ArchiveSpider):
    name = "news"
