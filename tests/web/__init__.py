"""The web app (`newsarchive serve`): over HTTP, and in a real browser."""
