"""Atom feeds of the archive: its latest edits, and new stories matching a search, so a
feed reader can watch the archive (RFC 4287, built with the standard library's XML
writer, which escapes every archived string)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

__all__ = ["FeedEntry", "atom_feed"]

ATOM = "http://www.w3.org/2005/Atom"


class FeedEntry:
    def __init__(
        self, entry_id: str, title: str, link: str, updated: datetime, summary: str
    ) -> None:
        self.entry_id = entry_id
        self.title = title
        self.link = link
        self.updated = updated
        self.summary = summary


def _time(value: datetime) -> str:
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def atom_feed(feed_id: str, title: str, link: str, entries: Sequence[FeedEntry]) -> bytes:
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")

    def sub(parent: Any, tag: str, text: str | None = None, **attrs: str) -> Any:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    sub(feed, "id", feed_id)
    sub(feed, "title", title)
    sub(feed, "link", href=link, rel="self")
    newest = max((e.updated for e in entries), default=datetime(1970, 1, 1, tzinfo=UTC))
    sub(feed, "updated", _time(newest))
    author = sub(feed, "author")
    sub(author, "name", "newsarchive")
    for entry in entries:
        item = sub(feed, "entry")
        sub(item, "id", entry.entry_id)
        sub(item, "title", _printable(entry.title))
        sub(item, "link", href=entry.link)
        sub(item, "updated", _time(entry.updated))
        sub(item, "summary", _printable(entry.summary))
    body: bytes = ET.tostring(feed, encoding="utf-8")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def _printable(text: str) -> str:
    """Without the control characters XML 1.0 cannot carry (a hostile title may hold them)."""
    return "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 0x20)
