"""What a queued run carries: everything a worker needs besides its own `--db`.

The site's validated configuration travels as a sites.toml table, so workers need no
copy of the sites file (an ad-hoc URL works too), and a worker validates it again: a
message built by another version, or by hand, fails its run alone with the key named.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crawler.config.sites import SiteConfig, SitesConfigError, site_from_table, site_table

__all__ = ["RunRequest", "build_request", "read_request"]


class RunRequest:
    """A queued run's request, validated."""

    __slots__ = ("settings", "site")

    def __init__(self, site: SiteConfig, settings: dict[str, str]) -> None:
        self.site = site
        self.settings = settings


def build_request(site: SiteConfig, settings: Mapping[str, str]) -> dict[str, Any]:
    """The JSON document stored with the run and sent in its message."""
    return {
        "site": site.name,
        "adhoc": site.adhoc,
        "table": site_table(site),
        "settings": dict(settings),
    }


def read_request(document: Any) -> RunRequest:
    """Validate a request; SitesConfigError names what is wrong."""
    if not isinstance(document, Mapping):
        raise SitesConfigError("run request: expected a JSON object")
    adhoc = document.get("adhoc", False)
    if not isinstance(adhoc, bool):
        raise SitesConfigError("run request: adhoc: expected true or false")
    site = site_from_table(document.get("site"), document.get("table"), adhoc=adhoc)
    settings = document.get("settings", {})
    if not isinstance(settings, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in settings.items()
    ):
        raise SitesConfigError("run request: settings: expected NAME: VALUE strings")
    return RunRequest(site, dict(settings))
