"""What is left of a process group: for tests that a crawl's workers end with it."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

__all__ = ["live_members", "live_processes"]


def _stat_fields(stat: Path) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first), or None once
    the process is gone."""
    try:
        return stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def live_members(group: int) -> list[str]:
    """Processes of a process group that are still alive (zombies are dead)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat_fields(stat)
        if fields is not None and int(fields[2]) == group and fields[0] != "Z":
            alive.append(stat.parent.name)
    return alive


def live_processes(pids: Iterable[int]) -> set[int]:
    """Those of `pids` still alive (zombies are dead)."""
    alive = set()
    for pid in pids:
        fields = _stat_fields(Path(f"/proc/{pid}/stat"))
        if fields is not None and fields[0] != "Z":
            alive.add(pid)
    return alive
