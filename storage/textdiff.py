"""Word-level differences between two versions of a story.

Edits to news stories are small (a word in a headline, a corrected figure), so the diff is
computed over words with the whitespace between them kept, and reported per versioned field.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from storage.views import SnapshotView

__all__ = [
    "FieldDiff",
    "NothingToCompareError",
    "Segment",
    "VersionDiff",
    "diff_snapshots",
    "diff_words",
    "render_plain",
]

# Whitespace runs, words, and single punctuation marks, so "Smith," vs "Smith" is no change.
_TOKEN_RE = re.compile(r"\s+|\w+|[^\w\s]")

Op = Literal["equal", "delete", "insert"]


@dataclass(frozen=True, slots=True)
class Segment:
    op: Op
    text: str


@dataclass(frozen=True, slots=True)
class FieldDiff:
    field: str
    segments: tuple[Segment, ...]

    @property
    def changed(self) -> bool:
        return any(s.op != "equal" for s in self.segments)


class NothingToCompareError(ValueError):
    """A version asked to be compared with the one before it is the article's first."""


@dataclass(frozen=True, slots=True)
class VersionDiff:
    """Two versions of an article and the word-level differences of its versioned fields."""

    article_id: int
    older: SnapshotView
    newer: SnapshotView
    fields: tuple[FieldDiff, ...]

    @property
    def changed(self) -> tuple[FieldDiff, ...]:
        """Only the fields that differ, in the order title, authors, dates, text."""
        return tuple(d for d in self.fields if d.changed)


def diff_words(old: str, new: str) -> tuple[Segment, ...]:
    """Segments that turn `old` into `new`, compared word by word; consecutive changed
    words are one change, as `git diff --word-diff` shows them."""
    a = _TOKEN_RE.findall(old)
    b = _TOKEN_RE.findall(new)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    segments: list[Segment] = []
    for tag, i1, i2, j1, j2 in _grouped(matcher.get_opcodes(), a):
        if tag == "equal":
            segments.append(Segment("equal", "".join(a[i1:i2])))
            continue
        removed = "".join(a[i1:i2]) if tag in ("delete", "replace") else ""
        added = "".join(b[j1:j2]) if tag in ("insert", "replace") else ""
        if removed.strip() and added.strip():
            segments.extend(_replaced(removed, added))
        elif removed.strip():
            segments.extend(_marked("delete", removed))
        elif added.strip():
            segments.extend(_marked("insert", added))
        elif added:
            segments.append(Segment("equal", added))
    return tuple(segments)


def _replaced(removed: str, added: str) -> list[Segment]:
    """A replacement: whitespace both sides share stays outside the marks; what differs
    (a space only the old text had) stays inside, so neither text loses a character."""
    lead = _common_whitespace(removed, added)
    trail = _common_whitespace(removed[::-1], added[::-1])[::-1]
    old, new = (
        removed[len(lead) : len(removed) - len(trail)],
        added[len(lead) : len(added) - len(trail)],
    )
    parts = [Segment("equal", lead), Segment("delete", old), Segment("insert", new)]
    parts.append(Segment("equal", trail))
    return [p for p in parts if p.text]


def _common_whitespace(first: str, second: str) -> str:
    shared = []
    for x, y in zip(first, second, strict=False):
        if x != y or not x.isspace():
            break
        shared.append(x)
    return "".join(shared)


Opcode = tuple[str, int, int, int, int]


def _grouped(opcodes: Sequence[Opcode], a: list[str]) -> list[Opcode]:
    """Changes separated only by spaces merge into one replacement, so a rewritten phrase
    reads [-old words-]{+new words+}, not one bracket pair per word. A line break keeps
    two changes apart, so paragraphs stay visible."""
    merged: list[Opcode] = []
    for opcode in opcodes:
        tag, _, i2, _, j2 = opcode
        if (
            tag != "equal"
            and len(merged) >= 2
            and merged[-2][0] != "equal"
            and merged[-1][0] == "equal"
            and all(_within_a_line(token) for token in a[merged[-1][1] : merged[-1][2]])
        ):
            merged.pop()
            start = merged.pop()
            merged.append(("replace", start[1], i2, start[3], j2))
        else:
            merged.append(opcode)
    return merged


# What str.splitlines breaks lines at.
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def _within_a_line(token: str) -> bool:
    return token.isspace() and not _LINE_BREAKS.intersection(token)


def _marked(op: Op, text: str) -> list[Segment]:
    """A run only removed or only added, with its surrounding whitespace outside the marks."""
    words = text.strip()
    start = text.index(words)
    before, after = text[:start], text[start + len(words) :]
    parts = [Segment("equal", before), Segment(op, words), Segment("equal", after)]
    return [p for p in parts if p.text]


def _field_text(snapshot: SnapshotView, name: str) -> str:
    value = getattr(snapshot, name)
    if isinstance(value, list):
        return ", ".join(value)
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def diff_snapshots(old: SnapshotView, new: SnapshotView) -> list[FieldDiff]:
    """One FieldDiff per versioned field, in the order title, authors, dates, text."""
    return [
        FieldDiff(name, diff_words(_field_text(old, name), _field_text(new, name)))
        for name in ("title", "authors", "published", "modified", "text")
    ]


def render_plain(segments: tuple[Segment, ...]) -> str:
    """wdiff-style text: [-removed-] and {+added+}, for pipes and files."""
    parts = []
    for segment in segments:
        if segment.op == "equal":
            parts.append(segment.text)
        elif segment.op == "delete":
            parts.append(f"[-{segment.text}-]")
        else:
            parts.append(f"{{+{segment.text}+}}")
    return "".join(parts)
