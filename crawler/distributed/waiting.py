"""Waiting for published runs to end (`crawl --queue`), by reading the archive: the
queue says nothing about a run once a worker has taken it."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from crawler.distributed.site_task import run_is_over
from storage.views import RunView

__all__ = ["wait_for_runs"]

# Seconds between two looks at the archive: `poll`, or this much per run still waited
# for, at most MAX_POLL.
PAUSE_PER_RUN = 0.02
MAX_POLL = 2.0


def wait_for_runs(
    db_url: str,
    run_ids: Sequence[int],
    *,
    poll: float = 0.1,
    on_change: Callable[[RunView], None] = lambda run: None,
) -> list[RunView]:
    """The last attempt of each run, in order, once every run is over."""
    from storage.archive import Archive

    ended: dict[int, RunView] = {}
    seen: dict[int, tuple[int, str]] = {}
    with Archive(db_url) as archive:
        while len(ended) < len(run_ids):
            for run_id in run_ids:
                if run_id in ended:
                    continue
                attempt = archive.latest_attempt(run_id)
                if attempt is None:
                    raise LookupError(f"run {run_id} is gone from the archive")
                view = archive.run(attempt.id)
                assert view is not None
                if seen.get(run_id) != (view.id, view.status):
                    seen[run_id] = (view.id, view.status)
                    on_change(view)
                if run_is_over(attempt):
                    ended[run_id] = view
            pending = len(run_ids) - len(ended)
            if pending:
                # Two small queries per run waited for: a longer pause for many runs.
                time.sleep(min(MAX_POLL, max(poll, PAUSE_PER_RUN * pending)))
    return [ended[run_id] for run_id in run_ids]
