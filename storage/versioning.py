"""When is a refetched story a new version? Normalization and content hashing.

Pages change on every fetch (ads, timestamps, tracking markup) while the story does not,
so versions are decided on the extracted fields that make up the story: title, body,
authors and dates, compared after Unicode NFKC and whitespace normalization. Anything else
(HTML noise, description, image) never creates a version by itself.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from storage.records import ExtractedArticle

__all__ = [
    "EDIT",
    "RE_EXTRACTION",
    "VERSIONED_FIELDS",
    "NormalizedContent",
    "changed_fields",
    "normalize_article",
    "normalize_line",
    "normalize_text",
    "to_utc",
    "version_cause",
]

VERSIONED_FIELDS = ("title", "text", "authors", "published", "modified")

# Characters that render as nothing but make two equal strings differ.
_INVISIBLE_RE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")


def _canonical_form(value: str) -> str:
    """NFKC without invisible characters (fast paths: most text is already clean)."""
    if not unicodedata.is_normalized("NFKC", value):
        value = unicodedata.normalize("NFKC", value)
    if _INVISIBLE_RE.search(value):
        value = _INVISIBLE_RE.sub("", value)
    return value


def normalize_line(value: str | None) -> str:
    """NFKC, drop invisible characters, collapse all whitespace to one space, strip."""
    if not value:
        return ""
    return " ".join(_canonical_form(value).split())


def normalize_text(value: str | None) -> str:
    """Normalize a body while keeping paragraph breaks: one non-empty line per block.

    Works on the whole text at once (one NFKC pass, C-level splitting) because bodies are
    normalized on every fetch, changed or not.
    """
    if not value:
        return ""
    lines = (" ".join(line.split()) for line in _canonical_form(value).splitlines())
    return "\n".join(line for line in lines if line)


def to_utc(moment: datetime | None) -> datetime | None:
    """Timezone-aware UTC; a naive datetime is taken to be UTC already."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _date_key(moment: datetime | None) -> str:
    value = to_utc(moment)
    return value.isoformat() if value else ""


@dataclass(frozen=True, slots=True)
class NormalizedContent:
    """The versioned fields of an article in comparable form, with their hash."""

    title: str
    text: str
    authors: tuple[str, ...]
    published: str
    modified: str
    content_hash: str

    def as_dict(self) -> dict[str, object]:
        return {
            "title": self.title,
            "text": self.text,
            "authors": list(self.authors),
            "published": self.published,
            "modified": self.modified,
        }

    def field_hashes(self) -> dict[str, str]:
        """A short hash per versioned field, stored so later fetches can say what changed."""
        return {
            name: hashlib.sha256(json.dumps(value, ensure_ascii=False).encode("utf-8")).hexdigest()[
                :16
            ]
            for name, value in self.as_dict().items()
        }


def normalize_article(article: ExtractedArticle) -> NormalizedContent:
    """Normalize the versioned fields and hash them (SHA-256 of a canonical JSON)."""
    authors = tuple(a for a in (normalize_line(x) for x in article.authors) if a)
    title = normalize_line(article.title)
    text = normalize_text(article.text)
    published = _date_key(article.published)
    modified = _date_key(article.modified)
    payload = json.dumps(
        [title, text, list(authors), published, modified], ensure_ascii=False, separators=(",", ":")
    )
    digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
    return NormalizedContent(title, text, authors, published, modified, digest)


def changed_fields(previous: dict[str, str] | None, current: dict[str, str]) -> tuple[str, ...]:
    """Names of the versioned fields whose hashes differ, in a fixed order.

    The first version of a story has no predecessor and so no changed fields.
    """
    if previous is None:
        return ()
    return tuple(name for name in VERSIONED_FIELDS if previous.get(name) != current.get(name))


EDIT: Final = "edit"
RE_EXTRACTION: Final = "re-extraction"


def version_cause(previous_extractor: str | None, extractor: str | None) -> str:
    """Why a version differs from the one before: an edit, or a re-extraction when a
    different extractor made it. Unknown extractors (versions archived before they were
    recorded, or records given without one) count as the same: an edit, as before."""
    if previous_extractor and extractor and previous_extractor != extractor:
        return RE_EXTRACTION
    return EDIT
