"""Waiting for published runs to end (`crawl --queue`), by reading the archive: the
queue says nothing about a run once a worker has taken it."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from crawler.distributed.site_task import run_is_over
from storage.views import RunView

__all__ = ["wait_for_runs"]


def wait_for_runs(
    db_url: str,
    run_ids: Sequence[int],
    *,
    poll: float = 0.25,
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
            if len(ended) < len(run_ids):
                time.sleep(poll)
    return [ended[run_id] for run_id in run_ids]
