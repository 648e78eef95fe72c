"""Code run in a fresh interpreter: what a module imports or patches shows only in a new
process, since the test process may have loaded it already."""

from __future__ import annotations

import subprocess
import sys

__all__ = ["run_python"]


def run_python(
    code: str, *, check: bool = False, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
        env=env,
    )
