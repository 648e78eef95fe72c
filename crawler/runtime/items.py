"""What the spider hands the pipeline: a page analysed and ready to be written.

A plain dataclass around storage's PreparedFetch, so the pipeline never re-parses or
re-extracts and storage never sees a Scrapy object.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.prepare import PreparedFetch

__all__ = ["ArchivedFetch"]


@dataclass(slots=True)
class ArchivedFetch:
    """One fetch to record: an extracted article, or a 304 check of a known story."""

    url: str
    prepared: PreparedFetch
