"""What a command shows on a real terminal: a pty as its output, read until it closes."""

from __future__ import annotations

import os

__all__ = ["read_until_closed"]


def read_until_closed(leader: int) -> bytes:
    """Everything written to the pty's other end, until the last writer closed it; closes
    `leader` (the caller has closed its own copy of the follower)."""
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    return shown
