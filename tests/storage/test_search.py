"""Full-text search on both databases: ranking, filters, query language, hostile input."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from storage import Archive, ExtractedArticle, QuerySyntaxError, SearchFilters
from tests.conftest import fetch

FILLER = " ".join(f"filler{i}" for i in range(60))


def _story(title: str, body: str, **extra: object) -> ExtractedArticle:
    return ExtractedArticle(title=title, text=f"{body}\n{FILLER}", **extra)  # type: ignore[arg-type]


@pytest.fixture
def filled(archive: Archive) -> Archive:
    stories = [
        (
            "harbor",
            "https://harbor.example/1",
            _story(
                "Port strike ends after nine days",
                "Dock workers returned to the port. Union leaders signed the contract.",
                authors=("Mara Lindqvist",),
                language="en",
                published=datetime(2026, 11, 2, tzinfo=UTC),
            ),
        ),
        (
            "harbor",
            "https://harbor.example/2",
            _story(
                "Library reopens",
                "The library reopened after the renovation; a strike was avoided.",
                authors=("Ines Duarte",),
                language="en",
                published=datetime(2026, 10, 1, tzinfo=UTC),
            ),
        ),
        (
            "valley",
            "https://valley.example/3",
            _story(
                "Greve no porto termina",
                "Os estivadores voltaram ao trabalho no porto depois da greve.",
                authors=("Joana Reis",),
                language="pt-BR",
                published=datetime(2026, 11, 3, tzinfo=UTC),
            ),
        ),
        (
            "valley",
            "https://valley.example/4",
            _story(
                "Comet visible this week",
                "Astronomers say the comet is visible before dawn. Strikes of lightning aside.",
                authors=("Wire Service",),
                language="en",
                published=datetime(2026, 11, 4, tzinfo=UTC),
            ),
        ),
    ]
    for site, url, article in stories:
        archive.record_fetch(fetch(url, article, site=site))
    return archive


def _urls(archive: Archive, query: str, **filters: object) -> list[str]:
    return [h.url for h in archive.search(query, SearchFilters(**filters))]  # type: ignore[arg-type]


def test_title_matches_rank_first_and_hits_carry_snippets(filled: Archive) -> None:
    hits = filled.search("strike")
    # English stemming on both databases: "strike" also finds "Strikes".
    assert {h.url for h in hits} == {
        "https://harbor.example/1",
        "https://harbor.example/2",
        "https://valley.example/4",
    }
    assert hits[0].url == "https://harbor.example/1"
    assert hits[0].score > hits[1].score
    assert all("<mark>" in h.snippet and "strike" in h.snippet.lower() for h in hits[1:])
    assert hits[0].title == "Port strike ends after nine days"


def test_query_language(filled: Archive) -> None:
    assert _urls(filled, "dock union") == ["https://harbor.example/1"]
    assert _urls(filled, '"union leaders"') == ["https://harbor.example/1"]
    assert _urls(filled, '"leaders union"') == []
    assert set(_urls(filled, "comet OR library")) == {
        "https://valley.example/4",
        "https://harbor.example/2",
    }
    assert _urls(filled, "strike -library -comet") == ["https://harbor.example/1"]
    assert set(_urls(filled, "estiva*")) == {"https://valley.example/3"}
    assert _urls(filled, "STRIKE ends") == ["https://harbor.example/1"]


def test_filters(filled: Archive) -> None:
    assert _urls(filled, "porto", site="valley") == ["https://valley.example/3"]
    assert _urls(filled, "porto", site="harbor") == []
    assert _urls(filled, "strike", language="en")[:1] == ["https://harbor.example/1"]
    assert _urls(filled, "porto", language="pt") == ["https://valley.example/3"]
    assert _urls(filled, "porto", language="p_") == []  # '_' is a letter here, not a wildcard
    assert _urls(filled, "strike", author="lindq") == ["https://harbor.example/1"]
    assert _urls(filled, "strike", author="100%_") == []
    assert _urls(filled, "strike", since=datetime(2026, 11, 1, tzinfo=UTC)) == [
        "https://harbor.example/1",
        "https://valley.example/4",
    ]
    assert _urls(filled, "strike", until=datetime(2026, 11, 1, tzinfo=UTC)) == [
        "https://harbor.example/2"
    ]
    everything = _urls(
        filled, "filler1", date_field="first_seen", since=datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert len(everything) == 4


def test_only_the_latest_version_is_searched(archive: Archive) -> None:
    first = _story("Mayor resigns", "The mayor resigned on Tuesday amid protests.")
    archive.record_fetch(fetch("https://e.example/m", first))
    archive.record_fetch(
        fetch(
            "https://e.example/m",
            dataclasses.replace(
                first, title="Mayor stays", text=f"The mayor withdrew the resignation.\n{FILLER}"
            ),
        )
    )
    assert _urls(archive, "protests") == []
    assert _urls(archive, "withdrew") == ["https://e.example/m"]
    (hit,) = archive.search("mayor")
    assert hit.version == 2


def test_collapse_near_duplicates(archive: Archive) -> None:
    body = "Astronomers said a bright comet will be visible to the naked eye this week " * 8
    archive.record_fetch(fetch("https://one.example/c", _story("Comet tonight", body), site="one"))
    archive.record_fetch(fetch("https://two.example/c", _story("Comet visible", body), site="two"))
    assert len(archive.search("comet")) == 2
    collapsed = archive.search("comet", collapse_duplicates=True)
    assert len(collapsed) == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('"unterminated phrase', "unterminated quote"),
        ("", "empty query"),
        ("   ", "empty query"),
        ("-only -excluded", "only excluded"),
        ("OR strike", "OR needs"),
        ("strike OR", "OR needs"),
        ("a OR OR b", "OR needs"),
        ("a OR -b", "OR cannot"),
        ('""', "empty phrase"),
        ("***", "nothing to search"),
        ("x" * 2000, "too long"),
    ],
)
def test_syntax_errors_are_clear(archive: Archive, query: str, message: str) -> None:
    with pytest.raises(QuerySyntaxError, match=message):
        archive.search(query)


@pytest.mark.parametrize(
    "hostile",
    [
        "'; DROP TABLE articles; --",
        '" OR 1=1 --',
        "strike) OR (1=1",
        "title:strike",
        "NEAR(strike port)",
        "strike AND NOT port",
        "^strike",
        "strike:* | !port",
        "\\' ; SELECT pg_sleep(5)",
        "strike\x00port",
        "a & b | !c <-> d",
    ],
)
def test_hostile_queries_never_reach_sql_as_syntax(filled: Archive, hostile: str) -> None:
    try:
        filled.search(hostile)
    except QuerySyntaxError:
        pass
    assert filled.stats()["articles"] == 4


def test_hostile_filters_are_parameters(filled: Archive) -> None:
    assert _urls(filled, "strike", site="harbor' OR '1'='1") == []
    assert _urls(filled, "strike", language="en' OR 1=1 --") == []
    assert _urls(filled, "strike", author="%' OR 1=1 --") == []
    assert filled.stats()["articles"] == 4
