"""Hold the crawl leases of the sites one command crawls, for as long as it crawls them.

The lease (storage.leases) is what keeps a manual `newsarchive crawl SITE` and the
scheduler's run of the same site from overlapping. It is renewed from a thread every
quarter of its time to live, so a crawl of any length keeps it, and a process that dies
(SIGKILL, power cut) stops renewing and loses it within one time to live; sooner when the
next crawl runs on the same machine, which takes the lease of a holder whose process no
longer exists at once.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

from crawler.keys import Env
from storage.archive import Archive
from storage.engine import describe_error
from storage.leases import Lease

__all__ = [
    "LEASE_TTL_RANGE",
    "LeaseSettingError",
    "SiteBusyError",
    "SiteLeases",
    "holder_is_gone",
    "holder_name",
    "lease_ttl",
]

log = logging.getLogger(__name__)


# Bounds of NEWSARCHIVE_LEASE_TTL, in seconds: renewed every quarter of it, a lease must
# outlive a renewal's round trip; a dead holder's site waits that long at most.
LEASE_TTL_RANGE = (2.0, 86_400.0)


class LeaseSettingError(ValueError):
    """NEWSARCHIVE_LEASE_TTL is not a number of seconds in LEASE_TTL_RANGE."""


def lease_ttl() -> timedelta:
    """60 s, or NEWSARCHIVE_LEASE_TTL seconds: longer where the database is far or flaky."""
    raw = os.environ.get(Env.LEASE_TTL, "60")
    low, high = LEASE_TTL_RANGE
    try:
        seconds = float(raw)
    except ValueError:
        seconds = float("nan")
    if not low <= seconds <= high:  # also refuses nan and inf
        raise LeaseSettingError(
            f"{Env.LEASE_TTL}={raw!r}: expected a number of seconds from {low:g} to {high:g}"
        )
    return timedelta(seconds=seconds)


class SiteBusyError(RuntimeError):
    def __init__(self, site: str, lease: Lease | None) -> None:
        self.site = site
        self.lease = lease
        who = f" by {lease.holder} since {lease.acquired_at:%Y-%m-%d %H:%M:%S} UTC" if lease else ""
        super().__init__(f"site {site} is being crawled{who}")


def holder_name(tag: str | None = None, pid: int | None = None) -> str:
    """`HOST:PID:MACHINE.TAG`: unique, and telling an operator where to look.

    MACHINE is a key of this machine and PID namespace (see _machine_key), so a process
    is only judged by a PID that means the same process here; TAG is random unless the
    caller names it (the scheduling service names its children's, to know their holder
    names before they take their leases).
    """
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_machine_key()}.{tag or uuid.uuid4().hex[:6]}"


@functools.cache
def _machine_key() -> str:
    """A short key of this machine (systemd's machine-id, else this boot's id) and this
    PID namespace: two machines that share a host name (every "ubuntu"), or a container
    that shares the host's, get different keys. Empty when neither id can be read: then
    no holder is ever judged gone, and leases lapse as they always did."""
    for source in (
        "/etc/machine-id",
        "/var/lib/dbus/machine-id",
        "/proc/sys/kernel/random/boot_id",
    ):
        try:
            machine = Path(source).read_text("ascii").strip()
        except (OSError, UnicodeDecodeError):
            continue
        if machine:
            break
    else:
        return ""
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        namespace = 0
    return hashlib.sha256(f"{machine}:{namespace}".encode()).hexdigest()[:8]


def holder_is_gone(holder: str) -> bool:
    """True when `holder` (see holder_name) is a process of this machine and PID namespace
    that no longer exists, so its lease can be taken at once instead of after its TTL.

    Anything else (another machine or namespace, a name of another form, a process that
    exists, even one whose PID was reused) is judged alive: waiting out a lease is safe,
    taking a live crawl's is not.
    """
    key = _machine_key()
    parts = holder.rsplit(":", 2)
    if not key or len(parts) != 3:
        return False
    host, pid_text, tag = parts
    if host != socket.gethostname() or not tag.startswith(key + "."):
        return False
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, under another user
        return False
    return False


def _stop_this_process(site: str) -> None:
    """The default when a lease is lost: end this crawl as Ctrl-C would (run interrupted),
    since another process may now be crawling the same site."""
    os.kill(os.getpid(), signal.SIGTERM)


class SiteLeases:
    def __init__(
        self,
        db_url: str,
        sites: Sequence[str],
        ttl: timedelta | None = None,
        on_lost: Callable[[str], None] = _stop_this_process,
    ) -> None:
        self.db_url = db_url
        self.sites = list(dict.fromkeys(sites))
        self.ttl = ttl or lease_ttl()
        self.on_lost = on_lost
        # The scheduling service names its child's tag, to free a dead child's lease.
        self.holder = holder_name(tag=os.environ.get(Env.LEASE_TAG) or None)
        self._held: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(
        self,
        wait: bool = False,
        poll: float = 2.0,
        on_wait: Callable[[SiteBusyError], None] | None = None,
    ) -> None:
        """Take every site's lease, or none: raise SiteBusyError (or wait, with `wait`)."""
        with Archive(self.db_url) as archive:
            announced = False
            while True:
                busy = self._try_all(archive)
                if busy is None:
                    break
                if not wait:
                    raise busy
                if on_wait is not None and not announced:
                    on_wait(busy)
                    announced = True
                time.sleep(poll)
        self._thread = threading.Thread(target=self._renew_loop, name="lease", daemon=True)
        self._thread.start()

    def _try_all(self, archive: Archive) -> SiteBusyError | None:
        for site in self.sites:
            if archive.acquire_lease(site, self.holder, self.ttl):
                self._held.append(site)
                continue
            lease = archive.lease(site)
            if lease is not None and self._take_from_the_dead(archive, lease):
                self._held.append(site)
                continue
            busy = SiteBusyError(site, lease)
            for held in self._held:  # all or none: never sit on half the sites
                archive.release_lease(held, self.holder)
            self._held.clear()
            return busy
        return None

    def _take_from_the_dead(self, archive: Archive, lease: Lease) -> bool:
        """Take the lease of a crawl of this machine that died without releasing it
        (SIGKILL, the OOM killer), rather than refuse the site until the lease lapses."""
        if not holder_is_gone(lease.holder):
            return False
        if not archive.acquire_lease(lease.site, self.holder, self.ttl, replacing=lease.holder):
            return False
        log.warning(
            "site %s: took the lease of %s, a process of this machine that no longer exists",
            lease.site,
            lease.holder,
        )
        return True

    def _renew_loop(self) -> None:
        """Renew every quarter TTL. A lease taken over by someone else, or not renewed for a
        whole TTL (database unreachable), is lost: `on_lost` stops the work it guarded."""
        interval = self.ttl.total_seconds() / 4
        renewed = time.monotonic()
        with Archive(self.db_url) as archive:
            while not self._stop.wait(interval):
                lost: list[str] = []
                try:
                    for site in self._held:
                        if not archive.renew_lease(site, self.holder, self.ttl):
                            lost.append(site)
                    renewed = time.monotonic()
                except Exception as exc:  # a database hiccup: try again next round
                    log.warning("could not renew the crawl leases: %s", describe_error(exc))
                    if time.monotonic() - renewed >= self.ttl.total_seconds():
                        lost = list(self._held)
                for site in lost:
                    log.error("lost the crawl lease of site %s: stopping", site)
                    self._held.remove(site)
                    self.on_lost(site)

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if not self._held:
            return
        with Archive(self.db_url) as archive:
            for site in self._held:
                archive.release_lease(site, self.holder)
        self._held.clear()
