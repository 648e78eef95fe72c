"""`python -m crawler` is the `newsarchive` command (the scheduler starts crawls this way)."""

from __future__ import annotations

from crawler.cli import main

if __name__ == "__main__":
    main()
