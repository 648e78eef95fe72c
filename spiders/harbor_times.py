"""Example site-specific spider: The Harbor Times, the bundled demo newspaper.

Most sites need no code (the generic `news` spider reads them from sites.toml). This one
shows the three hooks a site-specific spider usually needs, and nothing else:

- `field_selectors`: the story body is exactly `.story-body`'s paragraphs (so the
  standfirst and kicker stay out), and its topics are the `.story-tags` links;
- `follow()`: tag and author pages only repeat the sections, so they are not fetched;
- `discovery_requests()`: the paginated local archive is a start page of its own.

Use it from sites.toml (`spider = "harbor_times"`) or with
`scrapy crawl harbor_times -a site=http://127.0.0.1:PORT/`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar
from urllib.parse import urljoin, urlsplit

import scrapy

from spiders.base import ArchiveSpider

__all__ = ["HarborTimesSpider"]


class HarborTimesSpider(ArchiveSpider):
    name = "harbor_times"
    field_selectors: ClassVar[dict[str, str]] = {
        "text": "article.story .story-body p",
        "tags": "article.story .story-tags a",
    }

    def discovery_requests(self) -> Iterable[scrapy.Request]:
        yield from super().discovery_requests()
        for start in self.site.start_urls:
            yield self.page_request(urljoin(start, "/local/?page=2"), depth=1, source="start")

    def follow(self, url: str, depth: int, source: str) -> bool:
        path = urlsplit(url).path
        if path.startswith(("/tag/", "/author/")):
            return False
        return super().follow(url, depth, source)
