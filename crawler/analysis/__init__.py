"""Page analysis: pure functions of one fetched page, run in the extraction workers.

Decoding (`charset`), the page's own declarations (`pagemeta`), its links (`links`),
trafilatura (`extraction`, the only module importing it), the article decision
(`article_decision`), sitemaps, feeds and robots.txt (`listings`) and web dates
(`web_dates`); `page.analyze_page` runs them in one pass. Nothing here imports Scrapy,
Twisted or SQLAlchemy (`make lint` checks it): a worker must start in tens of
milliseconds, and these functions must be testable on bytes alone.
"""
