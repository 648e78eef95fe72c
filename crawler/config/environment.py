"""The project's tuning settings read from the environment, as docs/crawling.md promises.

A deployment sets `NEWSARCHIVE_WORKERS=2` once (a systemd unit, a container) rather than
repeating `-s` on every command. The environment is the weakest source: a site's own
`settings` and `-s` win over it. A value is checked as `-s` values are, naming the
variable, so a typo is one line and exit 2 rather than a pool that crashes mid-crawl.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Final

from crawler.config.sites import check_setting_value
from crawler.keys import Setting

__all__ = ["FROM_ENVIRONMENT", "apply_environment", "settings_from_environment"]

# The settings an environment variable of the same name sets. Not NEWSARCHIVE_DB and
# NEWSARCHIVE_SITES (read by the settings module itself, as the defaults of --db and
# --sites), nor the ones the project sets for its own child processes (TRIGGER, RUN_ID).
FROM_ENVIRONMENT: Final = (
    Setting.WORKERS,
    Setting.PAGE_TIMEOUT,
    Setting.WORKER_MEMORY,
    Setting.BATCH_SIZE,
    Setting.FLUSH_SECONDS,
    Setting.MAX_PAGES,
    Setting.CONDITIONAL,
    Setting.MAX_RETRY_AFTER,
    Setting.MAX_SITEMAPS,
    Setting.MAX_SITEMAP_DEPTH,
)


def settings_from_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The tuning settings set in the environment (an empty value counts as unset).

    SitesConfigError names the variable when a value is out of its setting's range.
    """
    environ = os.environ if environ is None else environ
    found: dict[str, str] = {}
    for name in FROM_ENVIRONMENT:
        value = environ.get(name, "").strip()
        if value:
            check_setting_value(name, value, f"environment variable {name}")
            found[name] = value
    return found


def apply_environment(settings: Any) -> None:
    """Put the environment's values into Scrapy `settings` at the project's priority, under
    a site's settings and -s (SitesConfigError for a bad one)."""
    for name, value in settings_from_environment().items():
        settings.set(name, value, priority="project")
