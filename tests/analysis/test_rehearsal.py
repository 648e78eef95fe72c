"""The rehearsal page runs the whole analysis."""

from __future__ import annotations


def test_the_rehearsal_page_is_an_article() -> None:
    """The rehearsal runs the whole analysis: the decision, trafilatura with metadata and
    the preparation for storage, not just the parse of a page that is dropped early."""
    from crawler.analysis.page import PageRules, analyze_page
    from crawler.analysis.rehearsal import rehearsal_page

    analysis = analyze_page(rehearsal_page(), PageRules())
    assert analysis.kind == "article"
    assert analysis.prepared is not None
    assert analysis.prepared.record.article is not None
    assert analysis.prepared.record.article.published is not None
