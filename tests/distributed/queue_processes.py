"""Processes of the queue tests: workers and scheduling services as an operator starts
them (`newsarchive worker`, `newsarchive schedule run --broker`), logs in files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from storage import Archive
from storage.views import RunView
from tests.polling import wait_for

BIN = Path(sys.executable).parent
QUICK = "{ DOWNLOAD_DELAY = 0, AUTOTHROTTLE_ENABLED = false }"
# One request a second, one at a time: a crawl of the demo site takes about 20 s.
SLOW = (
    "{ DOWNLOAD_DELAY = 1, DOWNLOAD_DELAY_JITTER = 0, CONCURRENT_REQUESTS = 1, "
    "AUTOTHROTTLE_ENABLED = false }"
)


class Logged:
    """A process whose stderr goes to a file we can read while it runs."""

    def __init__(self, args: list[str], log: Path, env: Mapping[str, str] | None = None) -> None:
        self.log = log
        self._file = log.open("w")
        # Standard output apart: a worker or a service writes nothing there.
        self._out = log.with_suffix(".out").open("w")
        self.process = subprocess.Popen(
            args,
            stdout=self._out,
            stderr=self._file,
            text=True,
            env={**os.environ, **(env or {})},
        )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_line(self, needle: str, timeout: float = 30) -> None:
        if not wait_for(lambda: needle in self.text(), timeout):
            raise AssertionError(f"{needle!r} not in {self.log.name}:\n{self.text()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        finally:
            self._file.close()
            self._out.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._file.close()
        self._out.close()


def worker(
    db: str,
    broker: str,
    name: str,
    log_dir: Path,
    *extra: str,
    env: Mapping[str, str] | None = None,
) -> Logged:
    process = Logged(
        [str(BIN / "newsarchive"), "--db", db, "--broker", broker, "worker", "--name", name,
         "--concurrency", "1", *extra],
        log_dir / f"worker-{name}.log",
        env,
    )  # fmt: skip
    process.wait_for_line("ready.")
    return process


def scheduler(
    db: str, broker: str, sites: Path, log: Path, *extra: str, env: Mapping[str, str] | None = None
) -> Logged:
    return Logged(
        [str(BIN / "newsarchive"), "--db", db, "--broker", broker, "--sites", str(sites),
         "schedule", "run", *extra],
        log,
        env,
    )  # fmt: skip


def all_runs(db: str, site: str | None = None) -> list[RunView]:
    with Archive(db) as archive:
        return sorted(archive.runs(site=site, limit=1000), key=lambda r: r.id)


def write_sites(path: Path, sites: Mapping[str, str], schedule: str, settings: str) -> Path:
    path.write_text(
        "".join(
            f'[sites.{name}]\nstart_urls = ["{url}/"]\nschedule = "{schedule}"\n'
            f'max_runtime = "12s"\nsettings = {settings}\n'
            for name, url in sites.items()
        )
    )
    return path


def spare_crawls(db: str) -> list[int]:
    """PIDs of crawl processes waiting for a run of this archive (a worker's spare)."""
    from crawler.running.spare_crawl import ON_STDIN

    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if ON_STDIN.encode() in args and db.encode() in args:
            found.append(int(entry.name))
    return found
