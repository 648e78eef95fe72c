"""sites.toml: every key validated on load, errors name the key, bare URLs are ad-hoc sites."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from crawler.config.sites import (
    SitesConfigError,
    adhoc_site,
    load_sites,
    parse_sites,
    resolve_targets,
)

EXAMPLE = """
[defaults]
max_depth = 2
settings = { DOWNLOAD_DELAY = 0.5 }

[sites.example]
start_urls = ["https://example.com/", "https://example.com/world/"]
feeds = ["https://feeds.example.com/rss"]
sitemaps = ["https://example.com/sitemap.xml"]
allow = ['/\\d{4}/\\d{2}/']
deny = ['/tag/', '/author/']
max_depth = 3
since = "7d"
schedule = "every 30m"
settings = { CONCURRENT_REQUESTS_PER_DOMAIN = 2 }

[sites.other]
start_urls = ["http://127.0.0.1:8123/"]
"""


def test_full_example_loads(tmp_path: Path) -> None:
    path = tmp_path / "sites.toml"
    path.write_text(EXAMPLE)
    sites = load_sites(path)
    example = sites["example"]
    assert example.start_urls == ("https://example.com/", "https://example.com/world/")
    assert example.feeds == ("https://feeds.example.com/rss",)
    assert example.max_depth == 3
    assert example.since == timedelta(days=7)
    assert example.schedule == "every 30m"
    assert example.spider == "news"
    # defaults merge, the site's own table wins key by key
    assert example.settings == {"DOWNLOAD_DELAY": 0.5, "CONCURRENT_REQUESTS_PER_DOMAIN": 2}
    assert sites["other"].max_depth == 2
    assert [p.pattern for p in example.allow_patterns] == [r"/\d{4}/\d{2}/"]


def test_an_internationalized_site_allows_the_punycode_its_requests_use() -> None:
    """Scrapy requests `http://xn--bcher-kva.example/` for `http://bücher.example/`: a
    site kept in Unicode refused all its own requests as off the site, archived nothing
    and reported success."""
    site = adhoc_site("http://bücher.example/")
    assert site.allows_url("http://xn--bcher-kva.example/neu/")
    assert site.allows_url("http://BÜCHER.example/neu/")  # either spelling
    assert not site.allows_url("http://xn--bcher-kva.example.evil/")
    configured = parse_sites(
        {"sites": {"b": {"start_urls": ["https://news.example/"], "domains": ["Bücher.example"]}}}
    )["b"]
    assert configured.domains == ("xn--bcher-kva.example",)
    assert configured.allows_url("https://img.xn--bcher-kva.example/x.jpg")


def test_hosts_and_ports_of_a_site() -> None:
    site = parse_sites(
        {"sites": {"x": {"start_urls": ["https://example.com/"], "domains": ["cdn-news.net"]}}}
    )["x"]
    assert site.allows_url("https://example.com/a")
    assert site.allows_url("http://www.example.com/a")  # the www twin, http or https
    assert site.allows_url("https://img.cdn-news.net/x")  # declared domain and subdomains
    assert not site.allows_url("https://evil-example.com/")
    assert not site.allows_url("https://example.com.evil.net/")
    # another port of the same host is another service, not the site
    assert not site.allows_url("http://example.com:6379/")
    assert not site.allows_url("https://www.example.com:8443/")
    assert site.allows_url("https://example.com:443/a")
    assert not site.allows_url("ftp://example.com/")
    assert not site.allows_url("https://example.com:99999/")


def test_adhoc_site_is_pinned_to_its_host_and_port() -> None:
    site = adhoc_site("http://127.0.0.1:8123/news/")
    assert site.name == "127.0.0.1:8123"
    assert site.allows_url("http://127.0.0.1:8123/a")
    assert not site.allows_url("http://127.0.0.1:9999/a")
    assert not site.allows_url("http://localhost:8123/a")
    www = adhoc_site("https://news.example.org/")
    assert www.allows_url("https://news.example.org/x")
    assert not www.allows_url("https://www.news.example.org/")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"start_urls": []}, "sites.x.start_urls: required"),
        ({}, "sites.x.start_urls: required"),
        ({"start_urls": ["ftp://example.com/"]}, "sites.x.start_urls: 'ftp://example.com/'"),
        ({"start_urls": "https://example.com/", "feeds": [1]}, "sites.x.feeds: expected a list"),
        ({"start_urls": ["https://e.com/"], "max_depth": -1}, "sites.x.max_depth"),
        ({"start_urls": ["https://e.com/"], "max_depth": True}, "sites.x.max_depth"),
        ({"start_urls": ["https://e.com/"], "since": "a week"}, "sites.x.since"),
        ({"start_urls": ["https://e.com/"], "allow": ["(unclosed"]}, "sites.x.allow: '(unclosed'"),
        ({"start_urls": ["https://e.com/"], "settings": {"delay": 1}}, "sites.x.settings.delay"),
        ({"start_urls": ["https://e.com/"], "schedule": ""}, "sites.x.schedule"),
        (
            {"start_urls": ["https://e.com/"], "schedule": "sometimes"},
            "sites.x.schedule: 'sometimes'",
        ),
        ({"start_urls": ["https://e.com/"], "schedule": "every 5 mins"}, "sites.x.schedule"),
        ({"start_urls": ["https://e.com/"], "max_runtime": "long"}, "sites.x.max_runtime"),
        (
            {"start_urls": ["https://e.com/"], "max_runtime": "0s"},
            "sites.x.max_runtime: expected at least 1s, got '0s'",
        ),
        ({"start_urls": ["https://e.com/"], "start_url": ["x"]}, "sites.x.start_url: unknown key"),
        ({"start_urls": ["https://e.com:99999/"]}, "sites.x.start_urls"),
        ({"start_urls": ["https://e.com/"], "spider": "no spaces"}, "sites.x.spider"),
        (
            {"start_urls": ["https://e.com/"], "settings": {"DOWNLOAD_DELAY": "fast"}},
            "sites.x.settings.DOWNLOAD_DELAY: expected a number, got 'fast'",
        ),
        (
            {"start_urls": ["https://e.com/"], "settings": {"ROBOTSTXT_OBEY": "maybe"}},
            "sites.x.settings.ROBOTSTXT_OBEY: expected true or false",
        ),
        (
            {"start_urls": ["https://e.com/"], "settings": {"NEWSARCHIVE_WORKERS": "two"}},
            "sites.x.settings.NEWSARCHIVE_WORKERS: expected a whole number, got 'two'",
        ),
        # the project's numbers are ranged: each of these crashed or spun a crawl
        *(
            (
                {"start_urls": ["https://e.com/"], "settings": {name: value}},
                f"sites.x.settings.{name}: expected {expected}, got {value!r}",
            )
            for name, value, expected in (
                ("NEWSARCHIVE_WORKERS", "1.5", "a whole number"),
                ("NEWSARCHIVE_WORKERS", -1, "a whole number from 0 to 256"),
                ("NEWSARCHIVE_FLUSH_SECONDS", 0, "a number from 0.01 to 3600"),
                ("NEWSARCHIVE_FLUSH_SECONDS", "nan", "a number from 0.01 to 3600"),
                ("NEWSARCHIVE_PAGE_TIMEOUT", -1, "a number from 0.1 to 86400"),
                ("NEWSARCHIVE_BATCH_SIZE", "inf", "a whole number"),
                ("NEWSARCHIVE_BATCH_SIZE", True, "a whole number"),
            )
        ),
    ],
)
def test_invalid_site_names_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(SitesConfigError) as info:
        parse_sites({"sites": {"x": table}})
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_invalid_tables(tmp_path: Path) -> None:
    with pytest.raises(SitesConfigError, match="sitez: unknown table"):
        parse_sites({"sitez": {}})
    with pytest.raises(SitesConfigError, match=r"defaults\.start_urls: unknown key"):
        parse_sites({"defaults": {"start_urls": []}})
    with pytest.raises(SitesConfigError, match=r"sites\.bad name"):
        parse_sites({"sites": {"bad name": {"start_urls": ["https://e.com/"]}}})
    path = tmp_path / "sites.toml"
    path.write_text("[sites.x\nstart_urls = 1")
    with pytest.raises(SitesConfigError, match="not valid TOML"):
        load_sites(path)
    with pytest.raises(SitesConfigError, match="no such sites file"):
        load_sites(tmp_path / "missing.toml")


def test_targets_resolve_to_sites_or_adhoc_urls() -> None:
    sites = parse_sites({"sites": {"ex": {"start_urls": ["https://example.com/"]}}})
    resolved = resolve_targets(["ex", "http://127.0.0.1:9/"], sites)
    assert [s.name for s in resolved] == ["ex", "127.0.0.1:9"]
    assert resolved[1].adhoc
    with pytest.raises(SitesConfigError, match="'nope': not a site"):
        resolve_targets(["nope"], sites)
    with pytest.raises(SitesConfigError, match="no sites file"):
        resolve_targets(["nope"], None)


def test_a_sites_file_that_is_no_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(SitesConfigError, match=r"^/dev/zero: larger than 16 MiB: not a sites"):
        load_sites("/dev/zero")  # a bounded read: it would never end
    nested = tmp_path / "nested.toml"
    nested.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(SitesConfigError, match=r"nested\.toml: not valid TOML: nested too deeply"):
        load_sites(nested)
