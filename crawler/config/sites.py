"""The sites to crawl: `sites.toml`, validated on load, and ad-hoc sites from bare URLs.

Adding a site is configuration, not code. Every key is checked when the file is read, so a
typo fails the command at once with the key named (`sites.example.max_depth: ...`) instead
of surfacing hours later as a crawl that quietly found nothing.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.config.timespec import format_duration, parse_duration
from crawler.keys import DISCOVERY_MODES, Setting

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_RUNTIME",
    "SiteConfig",
    "SitesConfigError",
    "adhoc_site",
    "ascii_host",
    "check_setting_value",
    "load_sites",
    "parse_sites",
    "resolve_targets",
    "site_from_table",
    "site_table",
]

DEFAULT_MAX_DEPTH = 3
# The largest sites file read (thousands of sites take well under a megabyte).
MAX_SITES_FILE = 16 * 2**20
# The shortest max_runtime a site may set: "0s" would stop every run as it starts.
MIN_MAX_RUNTIME = timedelta(seconds=1)
# The longest a run may take when its site sets no max_runtime (scheduler and workers).
DEFAULT_MAX_RUNTIME = timedelta(hours=2)
# A page decided "not a story" (or 404/410) is fetched again after this long.
DEFAULT_RECHECK_AFTER = timedelta(days=7)

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
_SETTING_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
# Keys a `[defaults]` table may set for every site; the URL lists are per site by nature.
_DEFAULTABLE = (
    "allow",
    "deny",
    "max_depth",
    "discovery",
    "recheck_after",
    "since",
    "schedule",
    "max_runtime",
    "settings",
    "spider",
)
_BOOLEAN_WORDS = {"true", "false", "1", "0", "yes", "no", "on", "off"}
_SITE_KEYS = ("start_urls", "feeds", "sitemaps", "domains", *_DEFAULTABLE)


class SitesConfigError(ValueError):
    """`sites.toml` (or a URL given as a site) is not usable; the message names the key."""


@dataclass(frozen=True)
class SiteConfig:
    """One site: where discovery starts, which URLs may be stories, how hard to crawl."""

    name: str
    start_urls: tuple[str, ...]
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    # Extra registrable domains whose hosts (and subdomains) belong to the site.
    domains: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    max_depth: int = DEFAULT_MAX_DEPTH
    discovery: str = "fresh"
    recheck_after: timedelta = DEFAULT_RECHECK_AFTER
    since: timedelta | None = None
    schedule: str | None = None
    # The longest a scheduled run may take before the scheduler stops it.
    max_runtime: timedelta | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    # The spider that crawls it: the generic "news" one, or a site-specific subclass.
    spider: str = "news"
    # An ad-hoc site (a bare URL on the command line) stays on exactly that host.
    adhoc: bool = False

    @cached_property
    def hostnames(self) -> frozenset[str]:
        """Host names the crawl may request: those of the site's URLs, with www variants.

        A bare URL pins the crawl to its one host; configured sites also accept the
        `www.` twin of each host because publishers redirect between the two.
        """
        urls = (*self.start_urls, *self.feeds, *self.sitemaps)
        hosts = {ascii_host(urlsplit(url).hostname or "") for url in urls}
        if not self.adhoc:
            hosts |= {h[4:] if h.startswith("www.") else "www." + h for h in hosts}
        return frozenset(hosts)

    @cached_property
    def ports(self) -> frozenset[int]:
        """Ports the crawl may use: http's and https's, and any the site's URLs name.

        Another port of the same host is another service (a database, an admin panel),
        not the site.
        """
        urls = (*self.start_urls, *self.feeds, *self.sitemaps)
        return frozenset({80, 443} | {p for url in urls if (p := urlsplit(url).port)})

    def allows_host(self, hostname: str) -> bool:
        host = ascii_host(hostname)
        if host in self.hostnames:
            return True
        return any(host == d or host.endswith("." + d) for d in self.domains)

    def allows_url(self, url: str) -> bool:
        """An http(s) URL on one of the site's hosts and ports."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False
        effective = port or (443 if parts.scheme == "https" else 80)
        return effective in self.ports and self.allows_host(parts.hostname)

    @property
    def run_limit(self) -> timedelta:
        """max_runtime, or the default when the site sets none."""
        return self.max_runtime or DEFAULT_MAX_RUNTIME

    @property
    def allow_patterns(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p) for p in self.allow)

    @property
    def deny_patterns(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p) for p in self.deny)


def ascii_host(host: str) -> str:
    """A host name as requests spell it: lower case, and an internationalized name in its
    IDNA (punycode) form, which Scrapy puts in the request URL; a site's hosts are kept so,
    or every request to `bücher.example` would be refused as off the site."""
    host = host.lower().rstrip(".")
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii").rstrip(".")
    except UnicodeError:
        return host


def _host_of(url: str) -> str:
    host = urlsplit(url).hostname or ""
    port = urlsplit(url).port
    host = host.lower().rstrip(".")
    # Ports are part of a host's identity for a test site on 127.0.0.1:PORT.
    return f"{host}:{port}" if port else host


def load_sites(path: str | Path) -> dict[str, SiteConfig]:
    """Read and validate a sites file; SitesConfigError names the file and the key."""
    path = Path(path)
    try:
        with path.open("rb") as file:  # bounded: NEWSARCHIVE_SITES=/dev/zero never ends
            raw = file.read(MAX_SITES_FILE + 1)
    except FileNotFoundError:
        raise SitesConfigError(f"{path}: no such sites file") from None
    except OSError as exc:
        raise SitesConfigError(f"{path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_SITES_FILE:
        raise SitesConfigError(
            f"{path}: larger than {MAX_SITES_FILE // 2**20} MiB: not a sites file"
        )
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SitesConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise SitesConfigError(f"{path}: not valid TOML: nested too deeply") from None
    try:
        return parse_sites(data)
    except SitesConfigError as exc:
        raise SitesConfigError(f"{path}: {exc}") from None


def parse_sites(data: Mapping[str, Any]) -> dict[str, SiteConfig]:
    """Validate a parsed sites document (the TOML's tables) into SiteConfigs by name."""
    unknown = sorted(set(data) - {"sites", "defaults"})
    if unknown:
        raise SitesConfigError(f"{unknown[0]}: unknown table (expected [sites.NAME] or [defaults])")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, Mapping):
        raise SitesConfigError("defaults: expected a table")
    for key in defaults:
        if key not in _DEFAULTABLE:
            raise SitesConfigError(
                f"defaults.{key}: unknown key (a default may set {', '.join(_DEFAULTABLE)})"
            )
    sites = data.get("sites", {})
    if not isinstance(sites, Mapping):
        raise SitesConfigError("sites: expected tables such as [sites.example]")
    configs: dict[str, SiteConfig] = {}
    for name, table in sites.items():
        if not _NAME_RE.match(name):
            raise SitesConfigError(
                f"sites.{name}: a site name is letters, digits, '.', '_', '-' or ':'"
            )
        if not isinstance(table, Mapping):
            raise SitesConfigError(f"sites.{name}: expected a table")
        merged = {**defaults, **table}
        if "settings" in defaults and "settings" in table:
            merged["settings"] = {**defaults["settings"], **table["settings"]}
        configs[name] = _site(name, merged)
    return configs


def _site(name: str, table: Mapping[str, Any]) -> SiteConfig:
    where = f"sites.{name}"
    for key in table:
        if key not in _SITE_KEYS:
            raise SitesConfigError(f"{where}.{key}: unknown key (known: {', '.join(_SITE_KEYS)})")
    start_urls = _urls(table, "start_urls", where)
    if not start_urls:
        raise SitesConfigError(f"{where}.start_urls: required, at least one http(s) URL")
    return SiteConfig(
        name=name,
        start_urls=start_urls,
        feeds=_urls(table, "feeds", where),
        sitemaps=_urls(table, "sitemaps", where),
        domains=tuple(ascii_host(d.strip(".")) for d in _strings(table, "domains", where)),
        allow=_patterns(table, "allow", where),
        deny=_patterns(table, "deny", where),
        max_depth=_max_depth(table, where),
        discovery=_discovery(table, where),
        recheck_after=_recheck_after(table, where),
        since=_duration(table, "since", where),
        schedule=_schedule(table, where),
        max_runtime=_max_runtime(table, where),
        settings=_settings(table, where),
        spider=_spider(table, where),
    )


def _strings(table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SitesConfigError(f"{where}.{key}: expected a list of non-empty strings")
    return tuple(value)


def _urls(table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    urls = _strings(table, key, where)
    for url in urls:
        _check_url(url, f"{where}.{key}")
    return urls


def _check_url(url: str, where: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        raise SitesConfigError(f"{where}: {url!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SitesConfigError(f"{where}: {url!r} is not an http(s) URL with a host")


def _patterns(table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    patterns = _strings(table, key, where)
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise SitesConfigError(
                f"{where}.{key}: {pattern!r} is not a valid regular expression ({exc})"
            ) from None
    return patterns


def _max_depth(table: Mapping[str, Any], where: str) -> int:
    value = table.get("max_depth", DEFAULT_MAX_DEPTH)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 50:
        raise SitesConfigError(f"{where}.max_depth: expected an integer from 0 to 50")
    return value


def _discovery(table: Mapping[str, Any], where: str) -> str:
    value = table.get("discovery", "fresh")
    if value not in DISCOVERY_MODES:
        raise SitesConfigError(f'{where}.discovery: expected "fresh" or "full"')
    return str(value)


def _max_runtime(table: Mapping[str, Any], where: str) -> timedelta | None:
    value = _duration(table, "max_runtime", where)
    if value is not None and value < MIN_MAX_RUNTIME:
        raise SitesConfigError(
            f"{where}.max_runtime: expected at least {format_duration(MIN_MAX_RUNTIME)}, "
            f"got {table['max_runtime']!r} (a run would be stopped as it starts)"
        )
    return value


def _recheck_after(table: Mapping[str, Any], where: str) -> timedelta:
    value = _duration(table, "recheck_after", where)
    return DEFAULT_RECHECK_AFTER if value is None else value


def _duration(table: Mapping[str, Any], key: str, where: str) -> timedelta | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise SitesConfigError(f'{where}.{key}: expected a duration such as "7d" or "30m"')
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise SitesConfigError(f"{where}.{key}: {exc}") from None


def _schedule(table: Mapping[str, Any], where: str) -> str | None:
    value = table.get("schedule")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise SitesConfigError(f'{where}.schedule: expected a string such as "every 30m"')
    from crawler.config.schedules import parse_schedule

    try:
        parse_schedule(value)
    except ValueError as exc:
        raise SitesConfigError(f"{where}.schedule: {exc}") from None
    return value


def _spider(table: Mapping[str, Any], where: str) -> str:
    value = table.get("spider", "news")
    if not isinstance(value, str) or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", value):
        raise SitesConfigError(f'{where}.spider: expected a spider name such as "news"')
    return value


def _settings(table: Mapping[str, Any], where: str) -> dict[str, Any]:
    value = table.get("settings", {})
    if not isinstance(value, Mapping):
        raise SitesConfigError(f"{where}.settings: expected a table of Scrapy settings")
    for key, setting in value.items():
        if not _SETTING_RE.match(key):
            raise SitesConfigError(f"{where}.settings.{key}: Scrapy setting names are UPPER_CASE")
        check_setting_value(key, setting, f"{where}.settings.{key}")
    return dict(value)


# The project's numeric settings: whole number or not, and the values that make sense.
# A value outside is an error naming the key (a 0 or nan flush interval spun the writer,
# a negative page timeout killed every worker, 1.5 workers crashed the pool).
_PROJECT_NUMBERS: dict[str, tuple[bool, float, float]] = {
    Setting.WORKERS: (True, 0, 256),
    Setting.PAGE_TIMEOUT: (False, 0.1, 86_400),
    Setting.WORKER_MEMORY: (True, 0, 1_048_576),
    Setting.BATCH_SIZE: (True, 1, 100_000),
    Setting.FLUSH_SECONDS: (False, 0.01, 3_600),
    Setting.MAX_PAGES: (True, 0, 10**12),
    Setting.MAX_RETRY_AFTER: (False, 0, 86_400),
    Setting.MAX_SITEMAPS: (True, 0, 10**9),
    Setting.MAX_SITEMAP_DEPTH: (True, 0, 100),
    Setting.RUN_ID: (True, 0, 2**63 - 1),
}


def check_setting_value(name: str, value: Any, where: str) -> None:
    """A value that the setting's type (Scrapy's default, or ours) cannot take is an error
    now, with the key named, rather than a traceback once the crawl has started."""
    if name in _PROJECT_NUMBERS:
        _check_project_number(name, value, where)
        return
    import scrapy.settings.default_settings as scrapy_defaults

    import crawler.runtime.settings as project

    default = getattr(project, name, getattr(scrapy_defaults, name, None))
    if isinstance(default, bool):
        if isinstance(value, bool) or str(value).strip().lower() in _BOOLEAN_WORDS:
            return
        raise SitesConfigError(f"{where}: expected true or false, got {value!r}")
    if isinstance(default, int | float) and not isinstance(value, bool):
        # Only "is it a number": Scrapy reads some int-defaulted settings as floats
        # (DOWNLOAD_TIMEOUT), so 7.5 must not be refused for them.
        try:
            float(str(value).strip())
        except ValueError:
            raise SitesConfigError(f"{where}: expected a number, got {value!r}") from None


def _check_project_number(name: str, value: Any, where: str) -> None:
    whole, low, high = _PROJECT_NUMBERS[name]
    kind = "a whole number" if whole else "a number"
    if isinstance(value, bool):
        raise SitesConfigError(f"{where}: expected {kind}, got {value!r}")
    try:
        number = float(str(value).strip())
    except ValueError:
        raise SitesConfigError(f"{where}: expected {kind}, got {value!r}") from None
    if whole and not _whole(value, number):
        raise SitesConfigError(f"{where}: expected {kind}, got {value!r}")
    if not low <= number <= high:  # also refuses nan and inf
        raise SitesConfigError(f"{where}: expected {kind} from {low:g} to {high:g}, got {value!r}")


def _whole(value: Any, number: float) -> bool:
    """Whether Scrapy's getint takes it: an integer, a float without a fraction (from
    TOML), or the text of an integer ("5", not "5.0")."""
    if isinstance(value, str):
        try:
            int(value.strip())
        except ValueError:
            return False
        return True
    return number.is_integer()


def site_table(site: SiteConfig) -> dict[str, Any]:
    """The site as a sites.toml table (plain JSON values): how its configuration travels
    in a queued run, so a worker needs no copy of the sites file."""
    table: dict[str, Any] = {
        "start_urls": list(site.start_urls),
        "feeds": list(site.feeds),
        "sitemaps": list(site.sitemaps),
        "domains": list(site.domains),
        "allow": list(site.allow),
        "deny": list(site.deny),
        "max_depth": site.max_depth,
        "discovery": site.discovery,
        "recheck_after": format_duration(site.recheck_after),
        "settings": dict(site.settings),
        "spider": site.spider,
    }
    for key, value in (("since", site.since), ("max_runtime", site.max_runtime)):
        if value is not None:
            table[key] = format_duration(value)
    if site.schedule:
        table["schedule"] = site.schedule
    return table


def site_from_table(name: Any, table: Any, *, adhoc: bool = False) -> SiteConfig:
    """A site from its table, validated exactly as sites.toml is (errors name the key)."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise SitesConfigError(
            f"sites.{name}: a site name is letters, digits, '.', '_', '-' or ':'"
        )
    if not isinstance(table, Mapping):
        raise SitesConfigError(f"sites.{name}: expected a table")
    site = _site(name, table)
    if adhoc:
        site = replace(site, adhoc=True)
    return site


def adhoc_site(url: str) -> SiteConfig:
    """A site for a bare URL: start there, stay on that host, default limits."""
    _check_url(url, "URL")
    return SiteConfig(name=_host_of(url), start_urls=(url,), adhoc=True)


def resolve_targets(
    targets: Iterable[str], sites: Mapping[str, SiteConfig] | None
) -> list[SiteConfig]:
    """Map each command-line target (a site name or a URL) to its SiteConfig."""
    resolved: list[SiteConfig] = []
    for target in targets:
        if sites and target in sites:
            resolved.append(sites[target])
        elif "://" in target:
            resolved.append(adhoc_site(target))
        elif sites is None:
            raise SitesConfigError(f"{target!r}: no sites file, and not an http(s) URL")
        else:
            raise SitesConfigError(f"{target!r}: not a site in the sites file, and not a URL")
    return resolved
