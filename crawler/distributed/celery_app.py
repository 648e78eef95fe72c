"""The Celery application of newsarchive: `celery -A crawler.distributed.celery_app ...`.

Celery is configured for long jobs whose record lives elsewhere:
- late acknowledgement, so a run whose worker dies is delivered again (a site run is
  safe to repeat: the archive keeps one article per story and the run is claimed once);
- one message reserved per free slot (prefetch 1), so a busy worker does not sit on runs
  another could start;
- a broker visibility timeout longer than the longest run (NEWSARCHIVE_BROKER_VISIBILITY,
  3 h by default against the default 2 h `max_runtime`), or Redis would hand a long run
  to a second worker while the first still crawls it; every worker must use the same
  value, since any worker's sweep hands back any worker's lost runs;
- no result backend: the archive's `crawl_runs` table is the record of every run.

The broker comes from `--broker` or NEWSARCHIVE_BROKER; the app is built at import (as
`celery -A` needs) but connects only when used.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from celery import Celery

from crawler.keys import Env

__all__ = [
    "DEFAULT_VISIBILITY_SECONDS",
    "QUEUE",
    "TASK_NAME",
    "app",
    "configure",
    "publishing_app",
    "visibility_seconds",
]

QUEUE = "newsarchive.runs"
TASK_NAME = "newsarchive.run_site"
DEFAULT_VISIBILITY_SECONDS = 3 * 3600
# How long publishing waits for an unreachable broker before saying so.
CONNECT_TIMEOUT = 5


def visibility_seconds() -> int:
    """NEWSARCHIVE_BROKER_VISIBILITY, or 3 h; at least a minute."""
    raw = os.environ.get(Env.BROKER_VISIBILITY, "")
    try:
        value = int(float(raw)) if raw else DEFAULT_VISIBILITY_SECONDS
    except (ValueError, OverflowError):
        raise ValueError(f"{Env.BROKER_VISIBILITY}={raw!r}: expected a number of seconds") from None
    if not 1 <= value <= 30 * 86400:
        raise ValueError(f"{Env.BROKER_VISIBILITY}={raw!r}: expected 1 to 2592000 seconds")
    return value


def _settings(broker: str | None) -> dict[str, Any]:
    visibility = visibility_seconds()
    return {
        "broker_url": broker,
        "broker_transport_options": {
            "visibility_timeout": visibility,
            # kombu's Redis transport looks for runs of lost workers every 10 s, but
            # scans only every tenth look by default: a lost run then waited up to
            # 100 s past its visibility timeout.
            "unacked_restore_throttle": 1,
            # A broker that accepts connections but never answers is an error, not a hang.
            "socket_timeout": 15,
            "socket_connect_timeout": CONNECT_TIMEOUT,
        },
        "broker_connection_timeout": CONNECT_TIMEOUT,
        "broker_connection_retry_on_startup": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,
        "worker_prefetch_multiplier": 1,
        "task_ignore_result": True,
        "result_backend": None,
        "task_default_queue": QUEUE,
        "task_serializer": "json",
        "accept_content": ["json"],
        # Task events, so Flower and `celery events` show each run as it goes.
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "worker_hijack_root_logger": False,
        "worker_redirect_stdouts": False,
        "enable_utc": True,
        "timezone": "UTC",
    }


def configure(broker: str | None) -> Celery:
    """Point the worker's app at `broker` (None: NEWSARCHIVE_BROKER) and return it."""
    app.conf.update(_settings(broker or os.environ.get(Env.BROKER) or None))
    return app


def publishing_app(broker: str) -> Celery:
    """An app of its own for a publisher: its connection pool belongs to this broker
    (the shared app keeps the pool of the first broker it connected to)."""
    publisher = Celery("newsarchive", set_as_current=False)
    publisher.conf.update(_settings(broker))
    return publisher


def _settings_at_import() -> dict[str, Any]:
    """The app's settings when this module is imported (by `celery -A` too): a bad
    NEWSARCHIVE_BROKER_VISIBILITY is reported in one line by the command that uses the
    broker (Publisher), not as a traceback here."""
    try:
        return _settings(os.environ.get(Env.BROKER) or None)
    except ValueError:
        with _visibility_default():
            return _settings(os.environ.get(Env.BROKER) or None)


@contextlib.contextmanager
def _visibility_default() -> Iterator[None]:
    saved = os.environ.pop(Env.BROKER_VISIBILITY, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ[Env.BROKER_VISIBILITY] = saved


app = Celery("newsarchive", set_as_current=False)
app.conf.update(_settings_at_import())
app.conf.include = ["crawler.distributed.site_task"]
