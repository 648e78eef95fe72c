"""The project run from the egg `make egg` builds, zipped, as Scrapyd runs a deployed
project (issue 18, item 5): package data is read through importlib.resources, never as
paths beside the modules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest

from crawler.demo.newspaper import STORY_PATHS
from crawler.demo.siteserver import SiteServer
from storage import Archive
from storage.engine import build_engine
from storage.migrate import current_revision
from storage.migrations import HEAD_REVISION
from tests import REPO
from tests.polling import wait_for
from tests.storage.downgrades import downgrade

pytestmark = pytest.mark.e2e


def _egg(tmp_path: Path) -> Path:
    """The Scrapyd egg `make egg` builds, and nothing written into the checkout."""
    before = {p.name for p in REPO.iterdir()}
    built = subprocess.run(
        ["make", "-s", "egg", f"EGG_DIR={tmp_path}"], cwd=REPO, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    assert {p.name for p in REPO.iterdir()} == before  # no setup.py, build/, dist/
    (egg,) = tmp_path.glob("newsarchive-*.egg")
    with zipfile.ZipFile(egg) as contents:
        names = set(contents.namelist())
    assert {"storage/migrations/sqlite_head.json", "EGG-INFO/entry_points.txt"} <= names
    assert "crawler/web/templates/base.html" in names
    return egg


def _run_from(egg: Path, cwd: Path, code: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(egg),
        "SCRAPY_SETTINGS_MODULE": "crawler.runtime.settings",
    }
    prelude = (
        "import crawler, spiders, storage\n"
        f"assert all(m.__file__.startswith({str(egg)!r}) for m in (crawler, spiders, storage))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", prelude + code], cwd=cwd, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_crawl_runs_from_a_zipped_egg(demo: SiteServer, tmp_path: Path) -> None:
    """A new SQLite archive (its schema snapshot is package data) and a whole crawl,
    started as Scrapyd starts one: `scrapy crawl` with the settings module named in the
    environment and no scrapy.cfg in sight."""
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    argv = ["scrapy", "crawl", "news", "-a", f"site={demo.url}/", "-s", f"NEWSARCHIVE_DB={db}",
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0",
            "-s", "LOG_LEVEL=WARNING"]  # fmt: skip
    crawl = f"from scrapy.cmdline import execute\nexecute({argv!r})\n"
    done = _run_from(_egg(tmp_path), tmp_path, crawl)
    assert done.returncode == 0, done.stderr[-3000:]
    with Archive(db, create=False) as archive:
        assert archive.counts()["articles"] == len(STORY_PATHS[1])
        (run,) = archive.runs()
        assert run.status == "succeeded"


def test_an_older_archive_is_migrated_from_a_zipped_egg(tmp_path: Path) -> None:
    """Alembic reads migration scripts as files: from an egg they are copied out first."""
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    Archive(db).close()
    engine = build_engine(db)
    try:
        downgrade(engine, "0004")
    finally:
        engine.dispose()
    done = _run_from(
        _egg(tmp_path), tmp_path, f"from storage import Archive\nArchive({db!r}).close()\n"
    )
    assert done.returncode == 0, done.stderr[-3000:]
    engine = build_engine(db)
    try:
        with engine.connect() as conn:
            assert current_revision(conn) == HEAD_REVISION
    finally:
        engine.dispose()


def test_scrapy_finds_the_settings_through_the_entry_point() -> None:
    from importlib.metadata import entry_points

    (settings,) = entry_points(group="scrapy", name="settings")
    assert settings.value == "crawler.runtime.settings"


def test_a_crawl_deployed_to_scrapyd_runs_and_archives(demo: SiteServer, tmp_path: Path) -> None:
    """The whole Scrapyd path: a real scrapyd on 127.0.0.1, the egg `make egg` builds
    uploaded with addversion.json, a run of the `news` spider scheduled with schedule.json;
    scrapyd finds the settings through the egg's entry point."""
    from tests.redis_server import free_port

    port = free_port()
    (tmp_path / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        f"bind_address = 127.0.0.1\nhttp_port = {port}\nmax_proc = 1\npoll_interval = 0.2\n"
        f"eggs_dir = {tmp_path / 'eggs'}\nlogs_dir = {tmp_path / 'logs'}\n"
        f"dbs_dir = {tmp_path / 'dbs'}\nitems_dir =\n"
    )
    base = f"http://127.0.0.1:{port}"
    daemon = subprocess.Popen(
        [str(Path(sys.executable).parent / "scrapyd")], cwd=tmp_path,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip

    def call(path: str, *form: str) -> dict[str, object]:
        """scrapyd's JSON API; `form` fields as `name=value`, a file as `name=@path`."""
        boundary = "newsarchive-test-boundary"
        body = b""
        for field in form:
            name, _, value = field.partition("=")
            disposition = f'form-data; name="{name}"'
            if value.startswith("@"):
                disposition += f'; filename="{Path(value[1:]).name}"'
                data = Path(value[1:]).read_bytes()
            else:
                data = value.encode()
            body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
            body += data + b"\r\n"
        request = urllib.request.Request(f"{base}/{path}")
        if form:
            request.data = body + f"--{boundary}--\r\n".encode()
            request.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return dict(json.loads(answer.read()))
        except OSError:  # not up yet
            return {}

    db = f"sqlite:///{tmp_path / 'archive.db'}"
    try:
        assert wait_for(lambda: call("daemonstatus.json").get("status") == "ok", 30)
        egg = _egg(tmp_path)
        added = call("addversion.json", "project=newsarchive", "version=1", f"egg=@{egg}")
        assert added.get("spiders", 0) >= 1, added
        scheduled = call(
            "schedule.json", "project=newsarchive", "spider=news", f"site={demo.url}/",
            f"setting=NEWSARCHIVE_DB={db}", "setting=AUTOTHROTTLE_ENABLED=False",
            "setting=DOWNLOAD_DELAY=0",
        )  # fmt: skip
        assert scheduled.get("status") == "ok", scheduled

        def finished() -> bool:
            jobs = call("listjobs.json?project=newsarchive")
            return bool(jobs.get("finished"))

        assert wait_for(finished, 90)
    finally:
        daemon.terminate()
        daemon.wait(30)
    with Archive(db, create=False) as archive:
        assert archive.counts()["articles"] == len(STORY_PATHS[1])
        (run,) = archive.runs()
        assert run.status == "succeeded"
