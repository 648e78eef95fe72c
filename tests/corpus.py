"""Real article pages for the tests: a bundled subset always, the full corpus when present.

A fresh clone must pass `make test` with nothing beside it, so 43 of the corpus's 81 pages
ship compressed in `tests/data/corpus/pages.tar.xz` (about 1.2 MB; source and licence in
that folder's README): every page the local news site (tests/corpus_site.py) can use,
the pages tests name, and one page in each of the corpus's other languages. The crawl
tests always build their site from this subset, so their truths are the same on every
machine.

The full corpus stays outside the repository (`NEWSARCHIVE_CORPUS`, by default
`../shared/corpus/readability` beside the clone). Tests of a rule over every real page
(extraction quality, the article decision, near-duplicate separation) run on the subset
always and on the full corpus when it is there; otherwise they skip with one line saying
where they looked. The benchmarks read only the full corpus.
"""

from __future__ import annotations

import functools
import io
import json
import os
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from storage import ExtractedArticle
from tests import REPO

__all__ = [
    "BUNDLE",
    "CorpusPage",
    "bundled_pages",
    "full_corpus_dir",
    "full_corpus_pages",
    "missing_full_corpus",
]

BUNDLE = REPO / "tests" / "data" / "corpus" / "pages.tar.xz"
# Where the full corpus is looked for when NEWSARCHIVE_CORPUS is not set.
DEFAULT_FULL_CORPUS = REPO.parent / "shared" / "corpus" / "readability"
_FILES = ("source.html", "expected.txt", "metadata.json")
# The bundled subset: the 37 pages the local news site may use as stories (see
# corpus_site._eligible), two that storage tests name, and one page in each of the
# corpus's other languages (Czech, German, French, Spanish). `python -m tests.corpus`
# packs them again from the full corpus.
SUBSET = (
    "002", "aktualne", "ars-1", "bbc-1", "blogger", "dropbox-blog", "ebb-org", "ehow-1",
    "ehow-2", "firefox-nightly-blog", "folha", "gmw", "guardian-1", "heise", "iab-1",
    "keep-images", "la-nacion", "lazy-image-2", "lemonde-1", "lifehacker-working",
    "medium-1", "medium-2", "mercurial", "nytimes-1", "nytimes-2", "nytimes-3", "nytimes-4",
    "pixnet", "salon-1", "schema-org-context-object", "spiceworks", "tmz-1", "toc-missing",
    "topicseed-1", "tumblr", "v8-blog", "wapo-1", "wapo-2", "wikia", "wordpress", "yahoo-3",
    "yahoo-4", "youth",
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class CorpusPage:
    """One real page: its bytes as served, the reference body text and its metadata."""

    name: str
    html: bytes
    expected: str
    metadata: dict[str, object]

    @property
    def title(self) -> str:
        """The page's title from metadata.json, whitespace collapsed (its name if none)."""
        value = self.metadata.get("title")
        return " ".join(value.split()) if isinstance(value, str) and value.strip() else self.name

    def article(self, **overrides: object) -> ExtractedArticle:
        """The reference text and metadata as an extracted article (for storage tests)."""
        published = self.metadata.get("publishedTime")
        fields: dict[str, object] = {
            "title": self.metadata.get("title") or self.name,
            "text": self.expected,
            "authors": (str(self.metadata["byline"]),) if self.metadata.get("byline") else (),
            "published": _parse_date(published) if isinstance(published, str) else None,
            "language": self.metadata.get("lang"),
            "description": self.metadata.get("excerpt"),
            "site_name": self.metadata.get("siteName"),
        }
        fields.update(overrides)
        return ExtractedArticle(**fields)  # type: ignore[arg-type]


def _parse_date(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _page(name: str, files: dict[str, bytes]) -> CorpusPage:
    return CorpusPage(
        name=name,
        html=files["source.html"],
        expected=files["expected.txt"].decode("utf-8"),
        metadata=json.loads(files["metadata.json"].decode("utf-8")),
    )


@functools.cache
def bundled_pages() -> tuple[CorpusPage, ...]:
    """The subset shipped with the tests, in name order (read once per process)."""
    found: dict[str, dict[str, bytes]] = {}
    with tarfile.open(BUNDLE, "r:xz") as bundle:
        for member in bundle.getmembers():
            folder, _, filename = member.name.removeprefix("./").partition("/")
            if not member.isfile() or filename not in _FILES:
                continue
            data = bundle.extractfile(member)
            assert data is not None
            found.setdefault(folder, {})[filename] = data.read()
    return tuple(_page(name, found[name]) for name in sorted(found))


def full_corpus_dir() -> Path:
    """Where the full corpus is read from: NEWSARCHIVE_CORPUS, or beside the clone."""
    return Path(os.environ.get("NEWSARCHIVE_CORPUS") or DEFAULT_FULL_CORPUS)


def missing_full_corpus() -> str | None:
    """Why the full corpus cannot be read (one line), or None when it can."""
    where = full_corpus_dir()
    if not where.is_dir():
        return f"full corpus not found at {where} (set NEWSARCHIVE_CORPUS to its readability/)"
    if not any(all((f / name).is_file() for name in _FILES) for f in where.iterdir()):
        return f"no corpus pages (NAME/{', '.join(_FILES)}) in {where}"
    return None


@functools.cache
def full_corpus_pages() -> tuple[CorpusPage, ...]:
    """Every page of the full corpus, in name order; check missing_full_corpus() first."""
    folders = sorted(
        p for p in full_corpus_dir().iterdir() if all((p / name).is_file() for name in _FILES)
    )
    return tuple(
        _page(folder.name, {name: (folder / name).read_bytes() for name in _FILES})
        for folder in folders
    )


def write_bundle(pages: Iterable[Path], target: Path = BUNDLE) -> int:
    """Pack corpus folders into the bundle (xz, no timestamps); its size in bytes."""
    import lzma

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as bundle:
        for folder in sorted(pages, key=lambda p: p.name):
            for name in _FILES:
                data = (folder / name).read_bytes()
                info = tarfile.TarInfo(f"{folder.name}/{name}")
                info.size, info.mode, info.mtime = len(data), 0o644, 0
                bundle.addfile(info, io.BytesIO(data))
    packed = lzma.compress(buffer.getvalue(), preset=9 | lzma.PRESET_EXTREME)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(packed)
    return len(packed)


if __name__ == "__main__":
    problem = missing_full_corpus()
    if problem:
        raise SystemExit(problem)
    size = write_bundle(full_corpus_dir() / name for name in SUBSET)
    print(f"{BUNDLE.relative_to(REPO)}: {len(SUBSET)} pages, {size:,} bytes")
