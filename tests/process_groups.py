"""What is left of a process group: for tests that a crawl's workers end with it."""

from __future__ import annotations

from pathlib import Path

__all__ = ["live_members"]


def live_members(group: int) -> list[str]:
    """Processes of a process group that are still alive (zombies are dead)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            alive.append(stat.parent.name)
    return alive
