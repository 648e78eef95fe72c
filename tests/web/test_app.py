"""The web app over HTTP: every page and its JSON, the CLI's keys, escaping, the
security headers, the archived page's sandbox, read-only opening, the token."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.web.security import ARCHIVED_PAGE_POLICY
from storage import Archive, ExtractedArticle
from tests.conftest import fetch
from tests.web.served_archive import (
    BIN,
    HOSTILE_PATH,
    HOSTILE_TITLE,
    ServedArchive,
    serve,
    served_archive as make_served_archive,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedArchive]:
    db = f"sqlite:///{tmp_path_factory.mktemp('web') / 'archive.db'}"
    yield from make_served_archive(db)


def cli_json(served: ServedArchive, *args: str) -> object:
    done = subprocess.run(
        [str(BIN / "newsarchive"), "--db", served.db, *args, "--format", "json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def api(served: ServedArchive, path: str) -> object:
    status, headers, body = served.get("/api" + path)
    assert status == 200, body
    assert headers["Content-Type"] == "application/json"
    return json.loads(body)


def story_id(served: ServedArchive, path_end: str) -> int:
    with Archive(served.db, read_only=True) as archive:
        return archive.resolve(served.site.url + path_end)


PAGES = [
    "/",
    "/search?q=harbor",
    "/search?q=harbor&site=x&language=en&since=30d&date=first_seen&collapse=1&page=1",
    "/changes",
    "/sites",
    "/runs",
    "/runs?status=succeeded",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_with_its_security_headers(served: ServedArchive, path: str) -> None:
    status, headers, body = served.get(path)
    assert status == 200, body[:500]
    assert headers["Content-Type"].startswith("text/html")
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert len(body) <= 100_000
    assert b"<script" not in body  # the app's pages run no script at all


def test_the_api_has_the_command_line_s_keys_and_values(served: ServedArchive) -> None:
    assert api(served, "/search?q=harbor")["results"] == cli_json(served, "search", "harbor")  # type: ignore[index]
    ferry = story_id(served, "/news/2026/11/port-strike-enters-second-week.html")
    page = api(served, f"/articles/{ferry}")
    assert page["article"] == cli_json(served, "show", str(ferry))  # type: ignore[index]
    assert page["versions"] == cli_json(served, "history", str(ferry))  # type: ignore[index]
    diff = api(served, f"/articles/{ferry}/diff")
    shown = cli_json(served, "diff", str(ferry))
    assert {k: diff[k] for k in shown} == shown  # type: ignore[index, union-attr]
    assert api(served, "/runs")["runs"] == cli_json(served, "runs", "--limit", "50")  # type: ignore[index]
    assert api(served, f"/articles/{ferry}/versions/1")["article"]["version"] == 1  # type: ignore[index]


def test_the_overview_and_changes_show_the_edited_headline_first(served: ServedArchive) -> None:
    overview = api(served, "/overview")
    assert (
        overview["counts"]["articles"]
        == len(overview["sites"]) * 0 + overview["sites"][0]["articles"]
    )  # type: ignore[index]
    changes = api(served, "/changes")["changes"]  # type: ignore[index]
    assert changes and changes[0]["headline_changed"]
    assert changes[0]["previous_title"] != changes[0]["title"]
    status, _, body = served.get("/changes")
    assert b'class="badge">headline' in body
    status, headers, feed = served.get("/changes.atom")
    assert status == 200 and headers["Content-Type"].startswith("application/atom+xml")
    assert b"Headline changed: " in feed and b"<feed" in feed


def test_search_counts_sites_and_languages_and_pages(served: ServedArchive) -> None:
    found = api(served, "/search?q=harbor")
    facets = found["facets"]  # type: ignore[index]
    assert facets["total"] == sum(facets["sites"].values()) == sum(facets["languages"].values())
    assert found["pages"] == 1 and found["page"] == 1  # type: ignore[index]
    status, _, body = served.get("/search?q=harbor")
    assert f'<span id="total">{facets["total"]}</span>'.encode() in body
    assert b"<mark>" in body  # highlighted snippets
    status, _, feed = served.get("/search.atom?q=harbor")
    assert status == 200 and b"<entry>" in feed
    # a malformed query and bad parameters are 400 with the reason, in HTML and JSON
    for path in ("/search?q=%22unclosed", "/search?q=a&page=0", "/search?q=a&since=soon"):
        status, _, body = served.get(path)
        assert status == 400, path
        status, _, body = served.get("/api" + path)
        assert status == 400 and "error" in json.loads(body)


def test_unknown_ids_are_404(served: ServedArchive) -> None:
    huge = "9" * 30  # beyond any database integer
    for path in (
        "/articles/999999",
        "/articles/1/versions/99",
        "/sites/nowhere",
        "/nothing",
        f"/articles/{huge}",
        f"/articles/1/versions/{huge}/raw/body",
        f"/api/articles/{huge}/diff",
    ):
        status, _, _ = served.get(path)
        assert status == 404, path
    status, _, body = served.get("/api/articles/999999")
    assert status == 404 and json.loads(body) == {"error": "no article with id 999999"}


def test_archived_strings_are_escaped_and_javascript_urls_are_not_links(
    served: ServedArchive,
) -> None:
    hostile = story_id(served, HOSTILE_PATH)
    article = api(served, f"/articles/{hostile}")["article"]  # type: ignore[index]
    assert article["title"] == HOSTILE_TITLE and article["image"] == "javascript:alert(3)"
    for path in (f"/articles/{hostile}", "/search?q=ferry", "/", f"/articles/{hostile}/versions/1"):
        status, _, body = served.get(path)
        text = body.decode()
        assert status == 200
        assert "<script>alert(2)</script>" not in text and "<img src=x" not in text
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in text or path == "/"
        assert not re.search(r"href=\s*['\"]?\s*javascript:", text, re.IGNORECASE)
    status, _, body = served.get(f"/articles/{hostile}")
    assert b'<span class="unsafe-url">javascript:alert(3)</span>' in body


def test_the_archived_page_is_served_sandboxed_and_loads_nothing(served: ServedArchive) -> None:
    hostile = story_id(served, HOSTILE_PATH)
    status, headers, body = served.get(f"/articles/{hostile}/versions/1/raw/body")
    assert status == 200
    assert headers["Content-Security-Policy"] == ARCHIVED_PAGE_POLICY
    assert headers["Content-Security-Policy"].startswith("sandbox;")
    assert "img-src" not in headers["Content-Security-Policy"]  # default-src 'none' rules
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    assert b'http-equiv="refresh"' not in body and b"alert(2)" in body
    status, _, page = served.get(f"/articles/{hostile}/versions/1/raw")
    assert re.search(rb"<iframe[^>]* sandbox[ >]", page)
    assert b"allow-scripts" not in page and b"allow-same-origin" not in page


def test_the_site_page_draws_its_charts(served: ServedArchive) -> None:
    site = api(served, "/sites")["sites"][0]["name"]  # type: ignore[index]
    status, _, body = served.get(f"/sites/{site}")
    assert status == 200
    assert body.count(b'<svg class="chart"') == 2
    data = api(served, f"/sites/{site}")
    assert len(data["stories_per_day"]) == 30  # type: ignore[index]
    assert sum(d["stories"] for d in data["stories_per_day"]) == data["site"]["articles"]  # type: ignore[index]
    assert [r["id"] for r in data["runs"]] == sorted((r["id"] for r in data["runs"]), reverse=True)  # type: ignore[index]


def test_the_archive_is_opened_read_only(tmp_path: Path) -> None:
    db_file = tmp_path / "archive.db"
    Archive(f"sqlite:///{db_file}").close()
    with (
        Archive(f"sqlite:///{db_file}", read_only=True) as archive,
        pytest.raises(Exception, match=r"readonly|read-only|query_only"),
        archive.engine.begin() as conn,
    ):
        conn.exec_driver_sql("DELETE FROM sites")
    sqlite3.connect(db_file).execute(
        "UPDATE alembic_version SET version_num = '0004'"
    ).connection.commit()
    done = subprocess.run(
        [str(BIN / "newsarchive"), "--db", f"sqlite:///{db_file}", "serve", "--port", "9"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().startswith("error: the archive's schema is at revision 0004")
    missing = subprocess.run(
        [str(BIN / "newsarchive"), "--db", f"sqlite:///{tmp_path / 'none.db'}", "serve"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert missing.returncode == 1 and "no archive at" in missing.stderr
    assert not (tmp_path / "none.db").exists()


@pytest.mark.postgres
def test_postgresql_is_served_read_only(pg_url: str) -> None:
    Archive(pg_url).close()
    with Archive(pg_url, read_only=True) as archive:
        assert archive.counts()["articles"] == 0
        with pytest.raises(Exception, match=r"read-only transaction"), archive.engine.begin() as c:
            c.exec_driver_sql("DELETE FROM sites")


def test_other_addresses_need_a_token_or_public(sqlite_url: str) -> None:
    Archive(sqlite_url).close()
    for args, expected in (
        (["--host", "0.0.0.0"], "error: --host 0.0.0.0 is reachable from other machines"),
        (["--token", "short"], "error: --token: use 16 to 256"),
    ):
        done = subprocess.run(
            [str(BIN / "newsarchive"), "--db", sqlite_url, "serve", *args],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(expected)


def test_a_token_is_asked_of_every_request(sqlite_url: str) -> None:
    Archive(sqlite_url).close()
    token = "s3cret-token-of-the-archive"
    process, url = serve(sqlite_url, "--token", token)
    try:
        served = ServedArchive(sqlite_url, url, None, None, process)  # type: ignore[arg-type]
        for path in ("/", "/api/overview", "/static/style.css", "/changes.atom"):
            status, headers, _ = served.get(path)
            assert status == 401, path
            assert headers["Content-Security-Policy"]
        status, _, _ = served.get("/", {"Authorization": "Bearer wrong-token-of-the-archive"})
        assert status == 401
        status, _, _ = served.get("/api/overview", {"Authorization": f"Bearer {token}"})
        assert status == 200
        status, headers, _ = served.get(f"/?token={token}")
        assert status == 200
        cookie = headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        status, _, _ = served.get("/runs", {"Cookie": cookie.split(";")[0]})
        assert status == 200
    finally:
        process.terminate()
        process.wait(15)


def test_an_archived_page_in_another_charset_reads_as_it_was_archived(sqlite_url: str) -> None:
    words = "Новости гавани: паром отменён"
    body = (
        f'<html><head><meta charset="windows-1251"><title>{words}</title></head>'
        f"<body><p>{words}</p></body></html>"
    ).encode("cp1251")
    article = ExtractedArticle(title=words, text=f"{words}. " * 40)
    with Archive(sqlite_url) as archive:
        archive.record_fetch(fetch("https://ru.example/1", article, site="ru", body=body))
    process, url = serve(sqlite_url)
    try:
        served = ServedArchive(sqlite_url, url, None, None, process)  # type: ignore[arg-type]
        status, headers, page = served.get("/articles/1/versions/1/raw/body")
    finally:
        process.terminate()
        process.wait(15)
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert f"<p>{words}</p>" in page.decode("utf-8")
