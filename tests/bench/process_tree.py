"""Run a command and measure its wall time and the peak memory of its whole process tree.

The crawl's memory is the main process plus its extraction workers, so the peak resident
set is sampled as the sum over the tree (from /proc, every few milliseconds) rather than
taken from getrusage, which reports only the largest single process.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Measured", "run_measured", "tree_rss"]

PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Measured:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss: int  # bytes, summed over the process and its descendants
    samples: tuple[tuple[float, int], ...]  # (seconds since start, tree RSS) over time


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            pass
    return found


def tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and all its descendants, now."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            resident = int(Path(f"/proc/{current}/statm").read_text().split()[1])
        except (OSError, ValueError, IndexError):
            continue
        total += resident * PAGE
        stack += _children(current)
    return total


def run_measured(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 1800,
    interval: float = 0.02,
) -> Measured:
    samples: list[tuple[float, int]] = []
    start = time.perf_counter()
    process = subprocess.Popen(
        list(command), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(env) if env is not None else None,
    )  # fmt: skip
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append((time.perf_counter() - start, tree_rss(process.pid)))
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
    return Measured(
        process.returncode, stdout, stderr, seconds,
        max((rss for _, rss in samples), default=0), tuple(samples),
    )  # fmt: skip
