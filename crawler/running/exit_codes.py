"""The exit statuses of `newsarchive` commands, which scripts and the scheduler read.

0 means every run finished (page-level errors are counted, not fatal); the others follow.
"""

from __future__ import annotations

from typing import Final

__all__ = ["EXIT_BUSY", "EXIT_FAILURE", "EXIT_USAGE"]

# A run failed or was interrupted; an unknown URL or id; an archive that cannot be opened.
EXIT_FAILURE: Final = 1
# A bad argument, setting value or sites file.
EXIT_USAGE: Final = 2
# A site is being crawled already (by the scheduler or another command); the scheduling
# service reads it as "skipped, busy".
EXIT_BUSY: Final = 3
