"""Alembic migrations of the archive schema (run by storage.migrate, never by hand)."""

# The newest revision in versions/. Opening an archive already at this revision skips
# loading Alembic altogether; tests check it matches the scripts' head.
HEAD_REVISION = "0007"
