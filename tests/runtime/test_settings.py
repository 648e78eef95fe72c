"""The project settings: what a hostile page could use is off."""

from __future__ import annotations


def test_crawl_settings_switch_off_what_a_hostile_page_could_use() -> None:
    from crawler.running.runner import build_settings

    settings = build_settings("sqlite:///x.db", {})
    assert settings.getbool("TELNETCONSOLE_ENABLED") is False
    # Scrapy 2.19's remote control (an HTTP server that runs code) is off and not loaded
    assert settings.getbool("REMOTE_CONTROL_ENABLED") is False
    loaded = {**settings.getdict("EXTENSIONS_BASE"), **settings.getdict("EXTENSIONS")}
    assert not any("remote_control" in path or "telnet" in path for path in loaded)
    handlers = settings.getdict("DOWNLOAD_HANDLERS")
    assert all(handlers.get(scheme, "on") is None for scheme in ("file", "data", "ftp", "s3"))
    assert settings.getint("DOWNLOAD_MAXSIZE") == 16 * 1024 * 1024
    assert settings.getbool("ROBOTSTXT_OBEY") is True
    assert "scrapy" not in settings.get("USER_AGENT").lower().split("/")[0]
    # Scrapy counts an empty 304 as 1 kB of work in hand: at its 5 MB default a recrawl
    # piled up thousands of them (about 30 kB each in memory) behind the archive writes.
    assert settings.getint("SCRAPER_SLOT_MAX_ACTIVE_SIZE") <= 2_000_000
