"""`newsarchive serve`: a read-only web app to search, read, compare and watch the archive."""
