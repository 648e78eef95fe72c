"""Clean text and metadata from one page: the only module that imports trafilatura.

trafilatura's `bare_extraction` takes two dozen options; they live in one object here,
chosen by measurement on ../shared/corpus (docs/benchmarks.md, "Body quality"):
`fast=True` with comments excluded scores a higher 4-word-shingle F1 than the defaults
at about twice the speed, and a full (non-fast) pass is run again only when the fast one
finds almost nothing. Gaps in metadata are filled from JSON-LD and Open Graph, and every
value records where it came from so a wrong date can be traced to its source.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Final

from lxml.html import HtmlElement

from crawler.analysis.pagemeta import PageMeta
from crawler.analysis.web_dates import parse_web_date
from crawler.speedups import limit_date_languages
from storage.records import ExtractedArticle

__all__ = [
    "Extraction",
    "ExtractionOptions",
    "extract_article",
    "extractor_name",
    "parse_html",
    "text_weight",
]


@dataclass(frozen=True, slots=True)
class ExtractionOptions:
    """trafilatura's options as newsarchive uses them (see module docstring)."""

    fast: bool = True
    include_comments: bool = False
    include_tables: bool = True
    favor_precision: bool = False
    favor_recall: bool = False
    # Below this many characters the fast pass is retried with trafilatura's fallbacks.
    retry_below_chars: int = 500
    # A JSON-LD articleBody replaces the extracted text only when the text is this short
    # and the articleBody at least `article_body_ratio` times longer.
    article_body_below_chars: int = 250
    article_body_ratio: float = 2.0


@dataclass(frozen=True, slots=True)
class Extraction:
    """An extracted article plus the measures the article decision needs."""

    article: ExtractedArticle
    # Text length with CJK characters weighted (see text_weight).
    text_chars: int


def parse_html(text: str) -> HtmlElement | None:
    """Parse decoded HTML once; every later step (meta, links, extraction) reuses the tree."""
    from trafilatura.utils import load_html

    tree = load_html(text)
    return tree if isinstance(tree, HtmlElement) else None


# newsarchive's own part of extraction (the gaps filled from JSON-LD, the headline taken
# off the body...). Bump it when a change of those rules changes what an unchanged page
# yields: versions made after it are then recorded as re-extractions, not edits.
EXTRACTION_REVISION: Final = 1


@cache  # one name per site's rules, not a hash per page
def extractor_name(options: ExtractionOptions, selectors: tuple[tuple[str, str], ...]) -> str:
    """What extracts with these options, as recorded with each version: trafilatura's
    version and a hash of everything else that decides the result."""
    decided_by = repr((EXTRACTION_REVISION, options, tuple(sorted(selectors))))
    digest = hashlib.sha256(decided_by.encode("utf-8")).hexdigest()[:12]
    return f"trafilatura {_trafilatura_version()}, options {digest}"


@cache
def _trafilatura_version() -> str:
    from importlib.metadata import version

    return version("trafilatura")


def extract_article(
    tree: HtmlElement,
    url: str,
    page: PageMeta,
    options: ExtractionOptions = ExtractionOptions(),
    selectors: Mapping[str, str] | None = None,
) -> Extraction:
    """Run trafilatura on a parsed page and merge its result with the page's declarations."""
    document = _trafilatura(tree, url, options, fast=options.fast)
    text = (document.text if document is not None else "") or ""
    if options.fast and len(text) < options.retry_below_chars:
        retried = _trafilatura(tree, url, options, fast=False)
        retried_text = (retried.text if retried is not None else "") or ""
        if len(retried_text) > len(text):
            document, text = retried, retried_text
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}

    def take(name: str, *candidates: tuple[str, Any]) -> None:
        for source, value in candidates:
            if value:
                values[name] = value
                sources[name] = source
                return

    ld = page.article_ld or {}
    doc = document
    body_source = "trafilatura"
    ld_body = ld.get("articleBody")
    if (
        isinstance(ld_body, str)
        and len(text) < options.article_body_below_chars
        and len(ld_body.strip()) >= max(1, len(text)) * options.article_body_ratio
    ):
        text, body_source = ld_body.strip(), "json-ld"
    if text:
        sources["text"] = body_source
    take(
        "title",
        ("trafilatura", doc and doc.title),
        ("json-ld", _str(ld.get("headline")) or _str(ld.get("name"))),
        ("opengraph", page.og("og:title")),
    )
    take(
        "authors",
        ("json-ld", _ld_people(ld.get("author"))),
        ("trafilatura", _split_authors(doc and doc.author)),
        ("meta", _split_authors(page.meta.get("author"))),
    )
    take(
        "published",
        ("json-ld", _date(ld.get("datePublished"))),
        ("opengraph", _date(page.og("article:published_time"))),
        ("meta", _date(page.meta.get("date") or page.meta.get("pubdate"))),
        ("trafilatura", _date(doc and doc.date)),
    )
    take(
        "modified",
        ("json-ld", _date(ld.get("dateModified"))),
        ("opengraph", _date(page.og("article:modified_time") or page.og("og:updated_time"))),
    )
    take(
        "language",
        ("json-ld", _language(_str(ld.get("inLanguage")))),
        ("html", _language(page.html_lang)),
        ("opengraph", _language(page.og("og:locale"))),
        ("meta", _language(page.meta.get("content-language"))),
        ("trafilatura", _language(doc and doc.language)),
    )
    take(
        "description",
        ("trafilatura", doc and doc.description),
        ("json-ld", _str(ld.get("description"))),
    )
    take("image", ("trafilatura", doc and doc.image), ("json-ld", _ld_image(ld.get("image"))))
    take(
        "tags",
        ("trafilatura", tuple(_split_tags(doc and doc.tags))),
        ("opengraph", tuple(page.opengraph.get("article:tag", ()))),
        ("json-ld", tuple(_split_tags(ld.get("keywords")))),
    )
    take(
        "site_name",
        ("trafilatura", doc and doc.sitename),
        ("opengraph", page.og("og:site_name")),
        ("json-ld", _ld_name(ld.get("publisher"))),
    )
    take(
        "canonical_url",
        ("html", page.canonical),
        ("opengraph", page.og("og:url")),
        ("json-ld", _ld_url(ld.get("mainEntityOfPage")) or _str(ld.get("url"))),
    )
    text = _without_title_line(text, values.get("title"))
    if selectors:
        _apply_selectors(tree, selectors, values, sources)
        text = values.pop("text", text)
    article = ExtractedArticle(
        title=values.get("title"),
        text=text,
        authors=tuple(values.get("authors", ())),
        published=values.get("published"),
        modified=values.get("modified"),
        language=values.get("language"),
        description=values.get("description"),
        image=values.get("image"),
        tags=tuple(values.get("tags", ())),
        site_name=values.get("site_name"),
        canonical_url=values.get("canonical_url"),
        sources=sources,
    )
    return Extraction(article=article, text_chars=text_weight(text))


_WIDE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def text_weight(text: str) -> int:
    """Length in Latin-script characters: a CJK character carries about three letters'
    worth of content, so 900 characters of Chinese is a full story, not a brief."""
    return len(text) + 2 * len(_WIDE.findall(text))


def _without_title_line(text: str, title: str | None) -> str:
    """Drop the headline when the body starts with it (trafilatura keeps the <h1>).

    The title is its own versioned field; repeating it in the body would count a headline
    edit twice in every diff and search snippet (and it raises the corpus's F1: see
    docs/benchmarks.md).
    """
    if not title or not text:
        return text
    first, _, rest = text.partition("\n")
    if " ".join(first.split()).casefold() == " ".join(title.split()).casefold():
        return rest.strip()
    return text


def _trafilatura(tree: HtmlElement, url: str, options: ExtractionOptions, *, fast: bool) -> Any:
    from trafilatura import bare_extraction

    limit_date_languages()

    try:
        return bare_extraction(
            tree,
            url=url,
            fast=fast,
            include_comments=options.include_comments,
            include_tables=options.include_tables,
            favor_precision=options.favor_precision,
            favor_recall=options.favor_recall,
            with_metadata=True,
            # Never deduplicate: its cache is shared across pages and would empty bodies
            # depending on crawl order.
            deduplicate=False,
        )
    except (ValueError, TypeError, RecursionError):
        return None


def _apply_selectors(
    tree: HtmlElement, selectors: Mapping[str, str], values: dict[str, Any], sources: dict[str, str]
) -> None:
    """A custom spider's field selectors override everything else for their fields."""
    for name, expression in selectors.items():
        found = _select(tree, expression)
        if not found:
            continue
        if name in ("authors", "tags"):
            values[name] = tuple(found)
        elif name in ("published", "modified"):
            moment = _date(found[0])
            if moment is None:
                continue
            values[name] = moment
        elif name == "text":
            values[name] = "\n".join(found)
        else:
            values[name] = found[0]
        sources[name] = "selector"


def _select(tree: HtmlElement, expression: str) -> list[str]:
    """Text of the nodes an XPath (starting with / or .) or CSS selector finds."""
    if expression.startswith(("/", "./", "(")):
        results = tree.xpath(expression)
    else:
        results = tree.cssselect(expression)
    texts: list[str] = []
    for result in results if isinstance(results, list) else [results]:
        value = result.text_content() if isinstance(result, HtmlElement) else str(result)
        value = " ".join(value.split())
        if value:
            texts.append(value)
    return texts


def _str(value: Any) -> str | None:
    if isinstance(value, list) and value:
        value = value[0]
    return value.strip() or None if isinstance(value, str) else None


def _language(value: Any) -> str | None:
    """One language tag (`pt_BR` -> `pt-BR`, `en, fr` -> `en`), normalized before it is
    chosen, so a value with no tag in it (`,en`) leaves the field to the next source."""
    if not isinstance(value, str):
        return None
    return value.replace("_", "-").split(",")[0].strip()[:35].strip() or None


def _ld_name(value: Any) -> str | None:
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, dict):
        return _str(value.get("name"))
    return _str(value)


def _ld_people(value: Any) -> tuple[str, ...]:
    people = value if isinstance(value, list) else [value]
    names: list[str] = []
    for person in people:
        name = _ld_name(person)
        if name and name not in names and not name.startswith(("http://", "https://")):
            names.append(name)
    return tuple(names)


def _ld_image(value: Any) -> str | None:
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, dict):
        return _str(value.get("url")) or _str(value.get("contentUrl"))
    return _str(value)


def _ld_url(value: Any) -> str | None:
    if isinstance(value, dict):
        return _str(value.get("@id")) or _str(value.get("url"))
    return _str(value)


_AUTHOR_SPLIT = re.compile(r"\s*(?:;|\band\b|&|\bund\b|\bet\b|\by\b)\s*")


def _split_authors(value: Any) -> tuple[str, ...]:
    if not isinstance(value, str):
        return ()
    names = [n.strip(" ,") for n in _AUTHOR_SPLIT.split(value)]
    return tuple(dict.fromkeys(n for n in names if n))


def _split_tags(value: Any) -> list[str]:
    if isinstance(value, list):
        return [v.strip() for v in value if isinstance(v, str) and v.strip()]
    if isinstance(value, str):
        return [v.strip() for v in re.split(r"[,;]", value) if v.strip()]
    return []


def _date(value: Any) -> datetime | None:
    """An ISO 8601 date or timestamp as UTC; dates without a zone are taken as UTC."""
    text = _str(value)
    moment = parse_web_date(text, rfc822=False) if text else None
    # Years outside this range are template placeholders (0001-01-01) or typos.
    return moment if moment is not None and 1990 <= moment.year <= 2100 else None
