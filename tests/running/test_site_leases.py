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

TTL = timedelta(minutes=5)


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _holder_like_ours(pid: int) -> str:
    """A holder name as holder_name() writes it, for another process of this machine."""
    host, _, rest = holder_name().partition(":")
    _, _, tag = rest.partition(":")
    return f"{host}:{pid}:{tag}"


def test_only_a_missing_process_of_this_host_and_namespace_is_gone() -> None:
    dead = _dead_pid()
    assert holder_is_gone(_holder_like_ours(dead))
    assert not holder_is_gone(_holder_like_ours(os.getpid()))  # ourselves
    assert not holder_is_gone(_holder_like_ours(os.getppid()))  # alive
    other_host = _holder_like_ours(dead).replace(socket.gethostname(), "elsewhere.example", 1)
    assert not holder_is_gone(other_host)
    host, pid, tag = _holder_like_ours(dead).split(":")
    namespace, _, random_part = tag.partition(".")
    other_namespace = "0001" if namespace != "0001" else "0002"
    assert not holder_is_gone(f"{host}:{pid}:{other_namespace}.{random_part}")
    for odd in ("scheduler-child", "", "::", f"{host}:notapid:{tag}", f"{host}:-1:{tag}"):
        assert not holder_is_gone(odd)


def test_the_lease_of_a_dead_crawl_of_this_machine_is_taken_at_once(db_url: str) -> None:
    dead = _holder_like_ours(_dead_pid())
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
        holder = _holder_like_ours(os.getppid())
    else:
        holder = _holder_like_ours(_dead_pid()).replace(socket.gethostname(), "elsewhere", 1)
    with Archive(db_url) as archive:
        assert archive.acquire_lease("demo", holder, TTL)
    with pytest.raises(SiteBusyError, match=f"being crawled by {holder}"):
        SiteLeases(db_url, ["demo"]).acquire()


def test_a_dead_holder_that_was_replaced_meanwhile_is_not_displaced(archive: Archive) -> None:
    """`replacing` takes only the named holder's lease: if another crawl took it first,
    that one keeps it."""
    dead = _holder_like_ours(_dead_pid())
    assert archive.acquire_lease("demo", "first-to-notice", TTL)
    assert not archive.acquire_lease("demo", "second", TTL, replacing=dead)
    lease = archive.lease("demo")
    assert lease is not None and lease.holder == "first-to-notice"
