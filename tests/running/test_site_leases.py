"""Site leases held by a command: a dead crawl of this machine does not block the site."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta

import pytest

from crawler.running.site_leases import SiteBusyError, SiteLeases, holder_is_gone, holder_name
from storage import Archive
from tests.fresh_python import run_python

TTL = timedelta(minutes=5)


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_only_a_missing_process_of_this_host_and_namespace_is_gone() -> None:
    dead = _dead_pid()
    assert holder_is_gone(holder_name(pid=dead))
    assert not holder_is_gone(holder_name(pid=os.getpid()))  # ourselves
    assert not holder_is_gone(holder_name(pid=os.getppid()))  # alive
    other_host = holder_name(pid=dead).replace(socket.gethostname(), "elsewhere.example", 1)
    assert not holder_is_gone(other_host)
    host, pid, tag = holder_name(pid=dead).split(":")
    other_machine = "0" * 8 if not tag.startswith("0" * 8) else "1" * 8
    assert not holder_is_gone(f"{host}:{pid}:{other_machine}.{tag.partition('.')[2]}")
    for odd in ("scheduler-child", "", "::", f"{host}:notapid:{tag}", f"{host}:-1:{tag}"):
        assert not holder_is_gone(odd)


def test_the_lease_of_a_dead_crawl_of_this_machine_is_taken_at_once(db_url: str) -> None:
    dead = holder_name(pid=_dead_pid())
    with Archive(db_url) as archive:
        assert archive.acquire_lease("demo", dead, TTL)
    leases = SiteLeases(db_url, ["demo"])
    leases.acquire()  # no SiteBusyError although the lease runs for minutes
    try:
        with Archive(db_url) as archive:
            lease = archive.lease("demo")
            assert lease is not None and lease.holder == leases.holder
            assert not archive.renew_lease("demo", dead, TTL)
    finally:
        leases.release()


@pytest.mark.parametrize("who", ["a live process here", "a process of another host"])
def test_a_live_or_distant_holder_keeps_its_lease(db_url: str, who: str) -> None:
    if who == "a live process here":
        holder = holder_name(pid=os.getppid())
    else:
        holder = holder_name(pid=_dead_pid()).replace(socket.gethostname(), "elsewhere", 1)
    with Archive(db_url) as archive:
        assert archive.acquire_lease("demo", holder, TTL)
    with pytest.raises(SiteBusyError, match=f"being crawled by {holder}"):
        SiteLeases(db_url, ["demo"]).acquire()


def test_a_dead_holder_that_was_replaced_meanwhile_is_not_displaced(archive: Archive) -> None:
    """`replacing` takes only the named holder's lease: if another crawl took it first,
    that one keeps it."""
    dead = holder_name(pid=_dead_pid())
    assert archive.acquire_lease("demo", "first-to-notice", TTL)
    assert not archive.acquire_lease("demo", "second", TTL, replacing=dead)
    lease = archive.lease("demo")
    assert lease is not None and lease.holder == "first-to-notice"


def test_a_scheduled_crawl_holds_its_lease_under_its_own_pid() -> None:
    """The scheduling service names its child's tag, not its holder: the holder carries
    the child's PID, so a crawl that outlives a killed service is still judged alive."""
    code = (
        "from crawler.running.site_leases import SiteLeases\n"
        "print(SiteLeases('sqlite://', ['x']).holder)\n"
    )
    child = run_python(code, check=True, env={**os.environ, "NEWSARCHIVE_LEASE_TAG": "abc123"})
    _, pid, tag = child.stdout.strip().split(":")
    assert holder_name(tag="abc123", pid=int(pid)) == child.stdout.strip()
    assert int(pid) != os.getpid() and tag.endswith(".abc123")
