"""newsarchive's tests, one folder per part of the package (tests/analysis mirrors
crawler/analysis, tests/storage mirrors storage, ...); the helpers they share stay here."""

from __future__ import annotations

from pathlib import Path

# The repository's root: where a test runs the project's own commands from.
REPO = Path(__file__).resolve().parents[1]
