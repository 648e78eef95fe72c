"""The window of listed pages."""

from __future__ import annotations


def test_the_window_releases_listed_pages_and_refills_as_pages_finish() -> None:
    from crawler.runtime.listed_pages import Listed, ListedWindow

    feed = ListedWindow(window=3)
    for n in range(7):
        feed.add(Listed(f"http://example.com/{n}", 1, "sitemap"))
    first = feed.release()
    assert [page.url[-1] for page in first] == ["0", "1", "2"]
    assert feed.release() == []  # the window is full
    feed.finished()
    assert [page.url[-1] for page in feed.release()] == ["3"]
    feed.nothing_in_flight()  # Scrapy idle: whatever was in flight has ended somewhere
    assert [page.url[-1] for page in feed.release()] == ["4", "5", "6"]
    assert len(feed) == 0 and feed.peak == 3
    for _ in range(5):
        feed.finished()  # more finishes than releases never open the window wider
    feed.add(Listed("http://example.com/7", 1, "feed"))
    feed.add(Listed("http://example.com/8", 1, "feed"))
    feed.add(Listed("http://example.com/9", 1, "feed"))
    feed.add(Listed("http://example.com/10", 1, "feed"))
    assert len(feed.release()) == 3
