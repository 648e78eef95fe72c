"""Site leases: one holder at a time, on SQLite and PostgreSQL, lapsing when not renewed."""

from __future__ import annotations

import threading
from datetime import timedelta

from storage import Archive

TTL = timedelta(seconds=30)


def test_one_holder_at_a_time(archive: Archive) -> None:
    assert archive.acquire_lease("demo", "a", TTL)
    assert not archive.acquire_lease("demo", "b", TTL)
    assert archive.acquire_lease("demo", "a", TTL)  # ours already: a renewal
    assert archive.acquire_lease("other-site", "b", TTL)
    lease = archive.lease("demo")
    assert lease is not None and lease.holder == "a"
    assert archive.renew_lease("demo", "a", TTL)
    assert not archive.renew_lease("demo", "b", TTL)
    archive.release_lease("demo", "b")  # not b's to release
    assert archive.lease("demo") is not None
    archive.release_lease("demo", "a")
    assert archive.lease("demo") is None
    assert archive.acquire_lease("demo", "b", TTL)


def test_an_expired_lease_can_be_taken_over(archive: Archive) -> None:
    assert archive.acquire_lease("demo", "dead-process", timedelta(seconds=-1))
    assert archive.lease("demo") is None  # expired: nobody holds it
    assert archive.acquire_lease("demo", "b", TTL)
    assert not archive.renew_lease("demo", "dead-process", TTL)


def test_racing_holders_get_exactly_one_lease(db_url: str) -> None:
    winners: list[str] = []
    barrier = threading.Barrier(6)

    def contend(name: str) -> None:
        with Archive(db_url) as archive:
            barrier.wait()
            if archive.acquire_lease("contested", name, TTL):
                winners.append(name)

    with Archive(db_url):
        pass  # create the schema before the race
    threads = [threading.Thread(target=contend, args=(f"h{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
