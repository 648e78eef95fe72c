"""The web app: routes, each an HTML page and the same data as JSON under /api.

Read-only by construction: the archive is opened read-only (crawler.web.pages reads it
through storage.Archive), every route answers GET (and HEAD) only, and nothing in the app
writes. Archived HTML is served only by `raw_body`, under the sandbox policy of
crawler.web.security.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from crawler.analysis.charset import decode_html
from crawler.web import charts, pages
from crawler.web.feeds import FeedEntry, atom_feed
from crawler.web.security import (
    ARCHIVED_PAGE_POLICY,
    SecurityHeaders,
    TokenGate,
    neutralize_archived_html,
    safe_href,
)
from storage.archive import Archive, ArticleNotFoundError
from storage.fulltext import MARK_END, MARK_START
from storage.json_shapes import dumps, search_hit_json
from storage.query_syntax import QuerySyntaxError

__all__ = ["build_app"]

HERE = Path(__file__).parent
# How far back a search's feed looks for new matches, unless the feed's URL says `since`.
FEED_DAYS = 30
PageData = Callable[[Archive, Request], dict[str, Any]]


def _when(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if not isinstance(value, datetime):
        return "-"
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _marked(snippet: str) -> Markup:
    """A search snippet: every archived character escaped, the match marks kept."""
    out = Markup("")
    rest = snippet
    while MARK_START in rest:
        before, _, after = rest.partition(MARK_START)
        marked, _, rest = after.partition(MARK_END)
        out += before  # Markup + str escapes the str
        out += Markup("<mark>{}</mark>").format(marked)
    return out + rest


def _segments(segments: list[dict[str, str]]) -> Markup:
    """A field's word-level diff: runs of removed and added words as <del> and <ins>."""
    out = Markup("")
    for segment in segments:
        if segment["op"] == "delete":
            out += Markup("<del>{}</del>").format(segment["text"])
        elif segment["op"] == "insert":
            out += Markup("<ins>{}</ins>").format(segment["text"])
        else:
            out += segment["text"]
    return out


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    env = templates.env
    env.autoescape = True
    env.filters.update(
        when=_when,
        href=safe_href,
        marked=_marked,
        segments=_segments,
        qs=urlencode,
    )
    return templates


class WebApp:
    """The routes over one read-only archive."""

    def __init__(self, db_url: str) -> None:
        self.archive = Archive(db_url, read_only=True)
        self.templates = _templates()
        # Reads are synchronous (SQLAlchemy); each runs in a thread, a few at a time.
        self.gate = asyncio.Semaphore(8)

    async def _data(self, request: Request, page: PageData) -> dict[str, Any]:
        async with self.gate:
            return await asyncio.to_thread(page, self.archive, request)

    def page(self, template: str, page: PageData) -> Callable[[Request], Any]:
        async def html(request: Request) -> Response:
            try:
                data = await self._data(request, page)
            except (ArticleNotFoundError, LookupError) as exc:
                return self._error(request, 404, str(exc))
            except (pages.BadRequest, QuerySyntaxError) as exc:
                return self._error(request, 400, str(exc))
            context = {**data, "path": request.url.path, "params": dict(request.query_params)}
            context.update(_extras(template, data))
            return self.templates.TemplateResponse(request, template, context)

        return html

    def api(self, page: PageData) -> Callable[[Request], Any]:
        async def json(request: Request) -> Response:
            try:
                data = await self._data(request, page)
            except (ArticleNotFoundError, LookupError) as exc:
                return _json({"error": str(exc)}, 404)
            except (pages.BadRequest, QuerySyntaxError) as exc:
                return _json({"error": str(exc)}, 400)
            return _json(data, 200)

        return json

    def _error(self, request: Request, status: int, message: str) -> Response:
        return self.templates.TemplateResponse(
            request, "error.html", {"status": status, "message": message}, status_code=status
        )

    async def raw_body(self, request: Request) -> Response:
        """The archived HTML itself, for the frame of the raw view only."""
        try:
            article_id, version = _ints(request, "id", "version")
            body = await asyncio.to_thread(self.archive.raw_html, article_id, version)
        except ArticleNotFoundError as exc:
            return Response(str(exc), 404, media_type="text/plain")
        # Decoded as the crawler decoded it, sent as UTF-8 (the header's charset overrides
        # the page's own declaration, which no longer applies).
        text, _ = decode_html(body)
        return Response(
            neutralize_archived_html(text.encode("utf-8")),
            media_type="text/html; charset=utf-8",
            headers={
                "content-security-policy": ARCHIVED_PAGE_POLICY,
                "x-frame-options": "SAMEORIGIN",
                "cache-control": "no-store",
            },
        )

    async def changes_atom(self, request: Request) -> Response:
        data = await self._data(request, _changes)
        base = str(request.base_url).rstrip("/")
        entries = [
            FeedEntry(
                f"{base}/articles/{c['id']}/versions/{c['version']}",
                ("Headline changed: " if c["headline_changed"] else "Edited: ") + c["title"],
                f"{base}/articles/{c['id']}/diff?from={c['version'] - 1}&to={c['version']}",
                c["fetched_at"],
                f"{c['site']}: {', '.join(c['changed_fields'])} changed"
                + (f" (was: {c['previous_title']})" if c["headline_changed"] else ""),
            )
            for c in sorted(data["changes"], key=lambda c: c["fetched_at"], reverse=True)
        ]
        site = f" of {data['site']}" if data["site"] else ""
        title = f"Edits{site} in the archive"
        feed = atom_feed(f"{base}/changes.atom", title, str(request.url), entries)
        return Response(feed, media_type="application/atom+xml; charset=utf-8")

    async def search_atom(self, request: Request) -> Response:
        try:
            data = await self._data(request, _newest_matches)
        except (pages.BadRequest, QuerySyntaxError) as exc:
            return Response(str(exc), 400, media_type="text/plain")
        base = str(request.base_url).rstrip("/")
        entries = [
            FeedEntry(
                f"{base}/articles/{hit['id']}",
                hit["title"],
                f"{base}/articles/{hit['id']}",
                hit["first_seen"],
                f"{hit['site']}: " + hit["snippet"].replace(MARK_START, "").replace(MARK_END, ""),
            )
            for hit in data["results"]
        ]
        feed_id = f"{base}/search.atom?{urlencode({'q': data['query']})}"
        title = f"New stories matching {data['query']}"
        feed = atom_feed(feed_id, title, str(request.url), entries)
        return Response(feed, media_type="application/atom+xml; charset=utf-8")

    async def health(self, request: Request) -> Response:
        return Response("ok\n", media_type="text/plain")


def _json(data: Any, status: int) -> Response:
    return Response(dumps(data, indent=None), status, media_type="application/json")


# Ids and versions a database column can hold; a larger one names nothing.
MAX_ID = 2**63 - 1


def _ints(request: Request, *names: str) -> tuple[int, ...]:
    values = tuple(int(request.path_params[name]) for name in names)
    for name, value in zip(names, values, strict=True):
        if value > MAX_ID:
            raise ArticleNotFoundError(f"no {name} {value}")
    return values


# Page data from a request: the routes' parameters to crawler.web.pages.


def _overview(archive: Archive, request: Request) -> dict[str, Any]:
    return pages.overview_page(archive)


def _search(archive: Archive, request: Request) -> dict[str, Any]:
    form = pages.SearchForm.parse(request.query_params)
    data = pages.search_page(archive, form)
    data["form"] = form.params()
    return data


def _newest_matches(archive: Archive, request: Request) -> dict[str, Any]:
    """A search's newest matches, for its feed: the best 200 matches archived in the last
    FEED_DAYS days (or since `since`), newest first."""
    form = pages.SearchForm.parse(request.query_params)
    if not form.q:
        raise pages.BadRequest("q: a search is needed")
    filters = form.filters()
    if filters.since is None:
        recent = datetime.now(UTC) - timedelta(days=FEED_DAYS)
        filters = dataclasses.replace(filters, since=recent, date_field="first_seen")
    hits = archive.search(form.q, filters, limit=200)
    newest = sorted(hits, key=lambda h: h.first_seen, reverse=True)[:50]
    return {"query": form.q, "results": [search_hit_json(h) for h in newest]}


def _article(archive: Archive, request: Request) -> dict[str, Any]:
    (article_id,) = _ints(request, "id")
    return pages.article_page(archive, article_id)


def _version(archive: Archive, request: Request) -> dict[str, Any]:
    article_id, version = _ints(request, "id", "version")
    return pages.version_page(archive, article_id, version)


def _diff(archive: Archive, request: Request) -> dict[str, Any]:
    (article_id,) = _ints(request, "id")
    return pages.diff_page(archive, article_id, request.query_params)


def _changes(archive: Archive, request: Request) -> dict[str, Any]:
    return pages.changes_page(archive, request.query_params)


def _sites(archive: Archive, request: Request) -> dict[str, Any]:
    return pages.sites_page(archive)


def _site(archive: Archive, request: Request) -> dict[str, Any]:
    return pages.site_page(archive, request.path_params["name"])


def _runs(archive: Archive, request: Request) -> dict[str, Any]:
    return pages.runs_page(archive, request.query_params)


def _extras(template: str, data: dict[str, Any]) -> dict[str, Any]:
    """What only the HTML shows: the diff's versions by names a template can use, the
    site page's charts."""
    if template == "diff.html":
        return {"this_from": data["from"], "this_to": data["to"]}
    if template != "site.html":
        return {}
    per_day = charts.bar_chart(
        [(d["day"][5:], d["stories"]) for d in data["stories_per_day"]],
        "new stories per day, last 30 days",
    )
    runs = list(reversed(data["runs"]))
    per_run = charts.stacked_bars(
        [
            (
                f"run {r['id']}",
                (
                    _count(r["counters"].get("articles_new")),
                    _count(r["counters"].get("articles_changed")),
                    _count(r["counters"].get("errors")),
                ),
            )
            for r in runs
        ],
        ("new", "changed", "errors"),
        "new, changed and errors per run",
    )
    # Built from numbers and escaped labels (crawler.web.charts).
    return {"chart_per_day": Markup(per_day), "chart_runs": Markup(per_run)}  # noqa: S704


def _count(value: Any) -> int:
    """A counter: a number, or a dict of numbers by kind (errors)."""
    if isinstance(value, dict):
        return sum(_count(v) for v in value.values())
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class ServerTiming:
    """`Server-Timing: app;dur=MS` on every response: the server's own time for a page,
    from the request to the first byte of its answer (what `make bench` reports)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed(message: Any) -> None:
            if message["type"] == "http.response.start":
                spent = (time.perf_counter() - started) * 1000
                timing = (b"server-timing", f"app;dur={spent:.1f}".encode())
                message["headers"] = [*message.get("headers", []), timing]
            await send(message)

        await self.app(scope, receive, timed)


def build_app(db_url: str, *, token: str | None = None) -> Starlette:
    web = WebApp(db_url)
    routes: list[Route | Mount] = []
    for path, template, data in (
        ("/", "overview.html", _overview),
        ("/search", "search.html", _search),
        ("/articles/{id:int}", "article.html", _article),
        ("/articles/{id:int}/versions/{version:int}", "version.html", _version),
        ("/articles/{id:int}/diff", "diff.html", _diff),
        ("/articles/{id:int}/versions/{version:int}/raw", "raw.html", _version),
        ("/changes", "changes.html", _changes),
        ("/sites", "sites.html", _sites),
        ("/sites/{name:str}", "site.html", _site),
        ("/runs", "runs.html", _runs),
    ):
        routes.append(Route(path, web.page(template, data)))
        routes.append(Route("/api" + (path if path != "/" else "/overview"), web.api(data)))
    routes += [
        Route("/articles/{id:int}/versions/{version:int}/raw/body", web.raw_body),
        Route("/changes.atom", web.changes_atom),
        Route("/search.atom", web.search_atom),
        Route("/healthz", web.health),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    middleware = [Middleware(ServerTiming), Middleware(SecurityHeaders)]
    if token:
        middleware.append(Middleware(TokenGate, token=token))
    app = Starlette(routes=routes, middleware=middleware)
    app.state.web = web
    return app
