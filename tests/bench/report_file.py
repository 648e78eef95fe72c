"""One docs/benchmarks.md written by several benchmark scripts, each owning a block.

A script replaces only the text between its markers, so running one benchmark never
erases another's figures or the hand-written log of what each optimization bought. The
helpers below format what every block reports the same way: spreads and the machine.
"""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Sequence
from pathlib import Path

HISTORY_HEADING = "## What each change bought"


def write_block(path: Path, name: str, markdown: str) -> None:
    """Put `markdown` between this block's markers: in place, else before the history log."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{markdown.rstrip()}\n{end}\n"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if start in old and end in old:
        before, _, rest = old.partition(start)
        _, _, after = rest.partition(end)
        new = before + block + after.lstrip("\n")
    else:
        at = old.find(HISTORY_HEADING)
        head, tail = (old, "") if at < 0 else (old[:at], old[at:])
        new = head.rstrip("\n") + ("\n\n" if head.strip() else "") + block + "\n" + tail
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")


def spread(values: Sequence[float], digits: int = 2) -> str:
    """The median, and the min-max range in brackets."""
    return (
        f"{statistics.median(values):.{digits}f} "
        f"({min(values):.{digits}f}–{max(values):.{digits}f})"
    )


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> str:
    """Other work on the machine skews timings; a report says how busy it was."""
    try:
        return " / ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def machine_line() -> str:
    """One line naming the machine, for blocks that need no more."""
    return (
        f"Machine: {cpu_model()}, {os.cpu_count()} cores; {platform.platform()}; "
        f"Python {platform.python_version()}; load average at the end {load_average()}."
    )
