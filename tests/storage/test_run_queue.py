"""Queued runs in the archive (storage/run_queue.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage import Archive

REQUEST = {"site": "demo", "table": {"start_urls": ["http://127.0.0.1:9/"]}, "settings": {}}


def test_a_queued_run_is_claimed_once(archive: Archive) -> None:
    run_id = archive.queue_run("demo", "scheduled", REQUEST)
    (queued,) = archive.runs(site="demo")
    assert queued.status == "queued" and queued.worker is None and queued.attempt == 1
    assert archive.active_run("demo") == (run_id, "queued")
    assert archive.claim_run(run_id, "w1@host")
    assert not archive.claim_run(run_id, "w2@host")  # a second copy of the message
    (running,) = archive.runs(site="demo")
    assert running.status == "running" and running.worker == "w1@host"
    assert archive.active_run("demo") == (run_id, "running")
    archive.finish_run(run_id, "succeeded", {"requests": 3})
    assert archive.active_run("demo") is None
    assert not archive.claim_run(run_id, "w2@host")


def test_runs_published_or_queued_long_ago_are_stale(archive: Archive) -> None:
    fresh = archive.queue_run("demo", "scheduled", REQUEST)
    never = archive.queue_run("other", "manual", {**REQUEST, "site": "other"})
    archive.mark_published([fresh])
    # Queued a moment ago and not yet sent: its publisher may be sending it now.
    soon = datetime.now(UTC) - timedelta(minutes=5)
    assert archive.stale_queued_runs(soon) == []
    later = datetime.now(UTC) + timedelta(seconds=1)
    stale = archive.stale_queued_runs(later)
    assert [run_id for run_id, _ in stale] == [fresh, never]
    assert stale[0][1] == REQUEST  # the request travels with the run
    archive.claim_run(fresh, "w")
    assert [run_id for run_id, _ in archive.stale_queued_runs(later)] == [never]


def test_a_lost_attempt_is_closed_and_the_next_one_queued(archive: Archive) -> None:
    first = archive.queue_run("demo", "scheduled", REQUEST)
    archive.claim_run(first, "w1")
    attempt = archive.latest_attempt(first)
    assert attempt is not None and attempt.id == first and attempt.status == "running"
    second = archive.retry_run(attempt, "its worker was lost")
    runs = {r.id: r for r in archive.runs(site="demo")}
    assert runs[first].status == "interrupted" and runs[first].error == "its worker was lost"
    assert runs[second].status == "queued"
    assert runs[second].attempt == 2 and runs[second].retry_of == first
    # Any attempt's id leads to the newest attempt, which carries the request.
    for any_id in (first, second):
        latest = archive.latest_attempt(any_id)
        assert latest is not None and latest.id == second and latest.first == first
        assert latest.request == REQUEST
    assert archive.claim_run(second, "w2")
    third = archive.retry_run(archive.latest_attempt(first), "again")  # type: ignore[arg-type]
    assert archive.latest_attempt(second).attempt == 3  # type: ignore[union-attr]
    assert {r.id: r for r in archive.runs(site="demo")}[third].retry_of == first


def test_an_unknown_run_has_no_attempt(archive: Archive) -> None:
    assert archive.latest_attempt(12345) is None


def test_a_finished_run_keeps_its_status_when_retried_late(archive: Archive) -> None:
    first = archive.queue_run("demo", "scheduled", REQUEST)
    archive.claim_run(first, "w1")
    archive.finish_run(first, "interrupted", {}, "stopped by a signal")
    attempt = archive.latest_attempt(first)
    assert attempt is not None
    archive.retry_run(attempt, "its worker was lost")
    (_, old) = archive.runs(site="demo")
    assert old.id == first and old.error == "stopped by a signal"


@pytest.mark.parametrize("trigger", ["cron", ""])
def test_a_run_needs_a_known_trigger(archive: Archive, trigger: str) -> None:
    with pytest.raises(ValueError, match="trigger"):
        archive.queue_run("demo", trigger, REQUEST)
