"""Publishing runs: recorded as queued in the archive first, then sent to the broker.

The order matters: a message whose run row does not exist would be dropped by the
worker, while a row whose message was lost is found by `republish_stale` and sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from crawler.config.sites import SiteConfig
from crawler.config.timespec import format_duration
from crawler.distributed.celery_app import (
    CONNECT_TIMEOUT,
    QUEUE,
    TASK_NAME,
    publishing_app,
    visibility_seconds,
)
from crawler.distributed.run_request import build_request

__all__ = [
    "BrokerError",
    "Publisher",
    "check_max_runtime",
]

log = logging.getLogger("newsarchive.publisher")


class BrokerError(RuntimeError):
    """The broker could not be reached or refused a message (one line, for the CLI)."""


def check_max_runtime(site: SiteConfig) -> None:
    """A run longer than the broker's visibility timeout would be delivered to a second
    worker while the first still crawls it; refuse to publish such a run."""
    runtime = site.run_limit
    visibility = timedelta(seconds=visibility_seconds())
    if runtime >= visibility:
        raise BrokerError(
            f"site {site.name}: max_runtime {format_duration(runtime)} is not shorter than the "
            f"broker's visibility timeout ({format_duration(visibility)}); raise "
            "NEWSARCHIVE_BROKER_VISIBILITY (workers and publishers alike) or lower max_runtime"
        )


class Publisher:
    """Sends runs to one broker for one archive."""

    def __init__(self, broker: str, db_url: str) -> None:
        self.broker = broker
        self.db_url = db_url
        try:
            self.app = publishing_app(broker)
        except ValueError as exc:  # NEWSARCHIVE_BROKER_VISIBILITY
            raise BrokerError(str(exc)) from None

    def check(self) -> None:
        """Connect once, now: an unreachable broker is one line, not a traceback later."""
        try:
            with self.app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=CONNECT_TIMEOUT)
        except Exception as exc:
            raise BrokerError(f"broker {_safe(self.broker)}: {_reason(exc)}") from None

    def publish(
        self, sites: Sequence[SiteConfig], trigger: str, settings: Mapping[str, str]
    ) -> list[int]:
        """Record one queued run per site, then send them; their ids."""
        from storage.archive import Archive

        for site in sites:
            check_max_runtime(site)
        queued: list[tuple[int, dict[str, Any]]] = []
        with Archive(self.db_url) as archive:
            for site in sites:
                request = build_request(site, settings)
                queued.append((archive.queue_run(site.name, trigger, request), request))
            self._send(archive, queued)
        return [run_id for run_id, _ in queued]

    def republish_stale(self, older_than: timedelta) -> list[int]:
        """Send again the runs still queued that were last sent before `older_than` ago
        (or never: a publisher that died between the record and the send)."""
        from storage.archive import Archive

        now = datetime.now(UTC)
        with Archive(self.db_url) as archive:
            stale = archive.stale_queued_runs(now - older_than)
            if not stale:
                return []
            # Runs merely waiting behind others are not lost: when the queue holds a
            # message for every queued run, nothing is sent twice.
            queued = archive.queued_run_count()
            waiting = self.waiting_messages()
            if waiting is not None and waiting >= queued:
                return []
            self._send(archive, stale)
        return [run_id for run_id, _ in stale]

    def waiting_messages(self) -> int | None:
        """Messages in the runs' queue not yet taken by a worker (None: unknown)."""
        try:
            with self.app.connection_for_write() as connection:
                channel: Any = connection.default_channel
                declared = channel.queue_declare(QUEUE, passive=True)
                return int(declared.message_count)
        except Exception:
            return None

    def _send(self, archive: Any, runs: Sequence[tuple[int, dict[str, Any]]]) -> None:
        try:
            with self.app.producer_or_acquire() as producer:
                for run_id, request in runs:
                    self.app.send_task(
                        TASK_NAME,
                        args=(run_id, request),
                        queue=QUEUE,
                        producer=producer,
                        retry=False,
                    )
                    archive.mark_published([run_id])
        except Exception as exc:
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            raise BrokerError(f"broker {_safe(self.broker)}: {_reason(exc)}") from None


def _safe(url: str) -> str:
    """The broker URL without its password."""
    from kombu.utils.url import maybe_sanitize_url

    return str(maybe_sanitize_url(url))


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
