"""The web app in a real browser (Debian's chromium driven by Playwright): a person's
walk from a search to a story, its diff, its archived page and its site; and a hostile
archived page that must not run, load or navigate anything.

Screenshots of the main pages go to $NEWSARCHIVE_SCREENSHOTS (the README's come from
there), else to the test's temporary directory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from storage import Archive
from tests.web.served_archive import (
    HOSTILE_PATH,
    HOSTILE_TITLE,
    ServedArchive,
    served_archive as make_served_archive,
)

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _browser_or_skip() -> None:
    if Path(CHROMIUM).exists():
        return
    message = f"no chromium at {CHROMIUM}: `apt-get install chromium` (.ci/run does)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedArchive]:
    _browser_or_skip()
    db = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'archive.db'}"
    yield from make_served_archive(db)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("NEWSARCHIVE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_search_article_diff_raw_and_site_as_a_person_sees_them(
    served: ServedArchive, browser: object, shots: Path
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page.goto(served.url + "/")
    assert page.locator("h1").inner_text() == "The archive"
    page.screenshot(path=str(shots / "overview.png"))
    # search from the header box
    page.fill("header input[name=q]", "strike harbor")
    page.press("header input[name=q]", "Enter")
    page.wait_for_url("**/search?q=strike+harbor")
    assert "matching" in page.locator("p.summary").inner_text()
    assert page.locator("ol.results mark").count() > 0
    page.screenshot(path=str(shots / "search.png"))
    # the edited story: its headline changed between the two crawls
    page.click("ol.results a.title >> text=Port strike")
    page.wait_for_url("**/articles/*")
    assert "talks with harbor board collapse" in page.locator("h1").inner_text()
    timeline = page.locator("section.timeline li")
    assert timeline.count() == 2
    page.screenshot(path=str(shots / "article.png"), full_page=True)
    page.click("section.timeline a >> text=what changed")
    page.wait_for_url("**/diff?from=1&to=2")
    headline = page.locator("section.field-diff.headline .diff")
    assert "container ships queue offshore" in headline.locator("del").first.inner_text()
    assert "talks with harbor board collapse" in headline.locator("ins").first.inner_text()
    # changed words are grouped: one deletion and one insertion in the headline
    assert headline.locator("del").count() == 1 and headline.locator("ins").count() == 1
    page.screenshot(path=str(shots / "diff.png"), full_page=True)
    # the archived page, in its sandboxed frame
    page.go_back()
    page.click("text=archived page")
    page.wait_for_url("**/raw")
    frame = page.frame_locator("iframe.archived")
    assert "Port strike" in frame.locator("h1").first.inner_text()
    page.screenshot(path=str(shots / "raw.png"))
    # the site's page
    page.go_back()
    page.click("dl.fields a >> nth=0")
    page.wait_for_url("**/sites/*")
    assert page.locator("svg.chart").count() == 2
    assert page.locator("table.runs tbody tr").count() == 2
    page.screenshot(path=str(shots / "site.png"), full_page=True)
    page.close()


def test_a_hostile_archived_page_runs_loads_and_navigates_nothing(
    served: ServedArchive, browser: object, shots: Path
) -> None:
    with Archive(served.db, read_only=True) as archive:
        hostile = archive.resolve(served.site.url + HOSTILE_PATH)
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    requests: list[str] = []
    answered: list[str] = []
    blocked: dict[str, str] = {}
    dialogs: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("response", lambda response: answered.append(response.url))
    page.on("requestfailed", lambda request: blocked.update({request.url: request.failure}))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    served.publisher.log.clear()
    # the story's page: its markup is text
    page.goto(f"{served.url}/articles/{hostile}")
    assert page.locator("h1").inner_text() == HOSTILE_TITLE
    assert page.locator("a[href^='javascript:']").count() == 0
    assert page.locator("span.unsafe-url").inner_text() == "javascript:alert(3)"
    # its archived page: scripts, a refresh (in <noscript>), images, a stylesheet, a frame
    # and a self-submitting form, all aimed at the publisher or the app
    raw = f"{served.url}/articles/{hostile}/versions/1/raw"
    page.goto(raw)
    frame = page.frame_locator("iframe.archived")
    assert "winter timetable" in frame.locator("body").inner_text()
    page.wait_for_timeout(2500)  # past the refresh's 1 s
    assert page.url == raw
    assert page.title().startswith("Archived page")
    assert dialogs == []
    # nothing reached the publisher: the browser refused what the page asked for (by the
    # frame's policy) before it left the machine
    assert served.publisher.log == []
    publisher = urlsplit(served.publisher.url).netloc
    assert [u for u in answered if urlsplit(u).netloc == publisher] == []
    tried = [u for u in requests if urlsplit(u).netloc == publisher]
    assert tried and all(blocked.get(u) == "csp" for u in tried), blocked
    # nor the app's API (scripts do not run at all)
    assert [u for u in requests if "/api/" in u] == []
    assert context.cookies() == []  # and it set none
    # the frame itself is still the archived page (no navigation inside it either); the
    # page's own frame of the publisher was refused (Chromium shows its error page)
    frames = [f.url for f in page.frames if f != page.main_frame]
    assert frames[0] == f"{served.url}/articles/{hostile}/versions/1/raw/body"
    assert all(url.startswith("chrome-error://") for url in frames[1:])
    page.screenshot(path=str(shots / "hostile-raw.png"))
    context.close()
