"""The `newsarchive` command line over a real archive (the demo stories)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import cli
from crawler.cli.articles import safe_for_terminal
from storage import Archive, ExtractedArticle
from tests import REPO
from tests.conftest import fetch
from tests.demo_stories import load_demo
from tests.terminal import read_until_closed

ROOT = REPO
STRIKE = "https://www.harbor-times.example/2026/11/02/port-strike-ends.html"


@pytest.fixture
def demo_db(db_url: str) -> str:
    with Archive(db_url) as archive:
        load_demo(archive)
    return db_url


def run(db: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", db, *args], obj={}, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_search_json(demo_db: str) -> None:
    code, out, _ = run(demo_db, "search", "comet", "--format", "json")
    assert code == 0
    hits = json.loads(out)
    assert len(hits) == 2
    for key in ("url", "title", "published", "snippet", "score"):
        assert key in hits[0]
    assert "<mark>" in hits[0]["snippet"].lower()
    code, out, _ = run(demo_db, "search", "comet", "--collapse", "--format", "json")
    assert len(json.loads(out)) == 1
    code, out, _ = run(demo_db, "search", "comet", "--site", "valley-post", "--format", "json")
    assert [h["site"] for h in json.loads(out)] == ["valley-post"]


def test_search_table_and_errors(demo_db: str) -> None:
    code, out, err = run(demo_db, "search", "library")
    assert code == 0 and "Central library reopens" in out and err == ""
    code, out, err = run(demo_db, "search", '"broken')
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0 and "unterminated quote" in err
    code, _, err = run(demo_db, "search", "x", "--since", "last tuesday")
    assert code == 2 and "duration" in err


def test_history_json_and_url_variants(demo_db: str) -> None:
    code, out, _ = run(
        demo_db, "history", STRIKE + "?utm_source=newsletter#top", "--format", "json"
    )
    assert code == 0
    versions = json.loads(out)
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert versions[1]["changed_fields"] == ["title"]
    assert set(versions[0]) >= {"version", "fetched_at", "content_hash", "changed_fields"}


def test_show_text_json_versions_and_html(demo_db: str) -> None:
    code, out, _ = run(demo_db, "show", STRIKE)
    assert code == 0 and "as workers win pay rise" in out and "3 of 3" in out
    code, out, _ = run(demo_db, "show", STRIKE, "--version", "1", "--format", "json")
    data = json.loads(out)
    assert data["version"] == 1 and data["title"] == "Port strike ends after nine days"
    assert data["versions"] == 3 and STRIKE in data["aliases"]
    code, out, _ = run(demo_db, "show", STRIKE, "--html")
    assert code == 0 and out.startswith("<!doctype html>")


@pytest.mark.parametrize(
    "args",
    [
        ("show", "https://nowhere.example/x"),
        ("show", "999"),
        ("history", "https://nowhere.example/x"),
        ("diff", "https://nowhere.example/x"),
        ("show", STRIKE, "--version", "9"),
        ("show", STRIKE, "--version", "0"),
        ("show", "not a url"),
        ("show", "99999999999999999999999"),
        ("show", "²"),
        ("show", "--", "-1"),
        ("diff", STRIKE, "--to", "1"),
    ],
)
def test_unknown_article_exits_1_with_one_line(demo_db: str, args: tuple[str, ...]) -> None:
    code, out, err = run(demo_db, *args)
    assert code == 1
    assert out == ""
    assert err.startswith("error: ") and err.count("\n") == 1


def test_diff_plain_and_json(demo_db: str) -> None:
    code, out, _ = run(demo_db, "diff", STRIKE)
    assert code == 0
    assert "version 2 -> 3" in out
    assert "[-nine-]{+eight+}" in out
    assert "{+Correction:" in out
    code, out, _ = run(demo_db, "diff", STRIKE, "--from", "1", "--to", "2", "--format", "json")
    data = json.loads(out)
    assert [f["field"] for f in data["fields"]] == ["title"]
    inserted = [s["text"] for s in data["fields"][0]["segments"] if s["op"] == "insert"]
    assert "".join(inserted).strip() == "as workers win pay rise"
    code, out, err = run(
        demo_db, "diff", "https://www.harbor-times.example/2026/11/03/library-reopens.html"
    )
    assert code == 1 and "is its first" in err


def test_export_stats_runs(demo_db: str, tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    code, out, err = run(
        demo_db, "export", "--format", "jsonl", "--all-versions", "-o", str(target)
    )
    assert code == 0 and out == "" and "exported 6 versions" in err
    assert len(target.read_text().splitlines()) == 6
    code, out, _ = run(demo_db, "export", "--site", "valley-post")
    assert [json.loads(line)["site"] for line in out.splitlines()] == ["valley-post"]
    code, out, _ = run(demo_db, "stats", "--format", "json")
    stats = json.loads(out)
    assert (stats["articles"], stats["snapshots"], stats["duplicate_groups"]) == (4, 6, 1)
    code, out, _ = run(demo_db, "runs", "--format", "json")
    runs = json.loads(out)
    assert {r["site"] for r in runs} == {"harbor-times", "valley-post"}
    assert all(r["trigger"] == "manual" and r["status"] == "succeeded" for r in runs)
    code, out, _ = run(demo_db, "runs", "--site", "valley-post", "--format", "json")
    assert json.loads(out)[0]["counters"] == {"new_article": 1}


def test_db_upgrade(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'fresh.db'}"
    code, out, _ = run(db, "db", "upgrade")
    assert code == 0 and "from revision empty" in out
    code, out, _ = run(db, "db", "upgrade")
    assert code == 0 and "up to date" in out


def test_bad_database_url_is_one_line() -> None:
    code, _out, err = run("mysql://root@127.0.0.1/x", "stats")
    assert code == 2 and "unsupported database" in err and err.count("\n") == 1


def test_installed_command_reads_env_and_keeps_stdout_clean(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'env.db'}"
    with Archive(db) as archive:
        load_demo(archive)
    exe = Path(sys.executable).parent / "newsarchive"
    env = {**os.environ, "NEWSARCHIVE_DB": db}
    result = subprocess.run(
        [str(exe), "search", "library", "--format", "json"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert (
        json.loads(result.stdout)[0]["title"] == "Central library reopens after two-year renovation"
    )
    assert result.stderr == ""


def test_terminal_output_of_hostile_html_is_escaped() -> None:
    hostile = b"<p>hi\x1b]0;pwned\x07\x1b[2J\x9b31m</p>\n\tok"
    shown = safe_for_terminal(hostile)
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert "\\x1b" in shown and shown.endswith("\n\tok")


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    commands: list[str] = []
    for name, command in cli.commands.items():
        sub = getattr(command, "commands", None)
        commands += [f"{name} {s}" for s in sub] if sub else [name]
    missing = [
        c for c in commands if not re.search(rf"newsarchive(\s+--\S+(\s+\S+)?)*\s+{c}\b", readme)
    ]
    assert not missing, f"README has no example of: {missing}"


@pytest.mark.parametrize(
    "args",
    [
        ("search", "x", "--since", "999999999d"),
        ("search", "x", "--since", "0001-01-01T00:00+05:00"),
        ("export", "-o", "/nonexistent/dir/out.jsonl"),
    ],
)
def test_bad_options_exit_2_without_traceback(demo_db: str, args: tuple[str, ...]) -> None:
    code, out, err = run(demo_db, *args)
    assert code == 2 and out == ""
    assert "Traceback" not in err and err.strip()


def test_query_commands_never_create_a_database(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    code, _, err = run(f"sqlite:///{missing}", "search", "strike")
    assert code == 1 and "no archive" in err
    assert not missing.exists()


def test_archive_from_a_newer_version_is_refused_clearly(demo_db: str) -> None:
    with Archive(demo_db) as archive, archive.engine.begin() as conn:
        from sqlalchemy import text

        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    code, _, err = run(demo_db, "stats")
    assert code == 1 and "newer" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "url", ["sqlite://", "sqlite:///:memory:", "sqlite:///file:x?mode=memory&uri=true"]
)
def test_an_in_memory_database_is_refused(url: str) -> None:
    for args in (["stats"], ["crawl", "http://127.0.0.1:9/"], ["db", "upgrade"]):
        code, out, err = run(url, *args)
        assert code == 2, (url, args)
        assert out == ""
        assert err.strip().splitlines() == [
            f"error: --db {url}: an in-memory SQLite database is gone when the command ends; "
            "give sqlite:///FILE or postgresql://HOST/DB"
        ]


def test_file_urls_are_not_taken_for_memory() -> None:
    from crawler.cli.root import in_memory_sqlite

    for url in ("sqlite:///a.db", "sqlite:////srv/archive.db", "postgresql://h/db", "x"):
        assert not in_memory_sqlite(url)


@pytest.mark.parametrize(
    "args",
    [
        ("show", "1", "--version", "9" * 30),
        ("diff", "1", "--from", "-" + "9" * 30),
        ("search", "strike", "--offset", "9" * 30),
    ],
)
def test_numbers_beyond_the_database_are_usage_errors(demo_db: str, args: tuple[str, ...]) -> None:
    code, out, err = run(demo_db, *args)
    assert code == 2 and out == ""
    assert "Traceback" not in err and "is not in the range" in err


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "warc"])
def test_a_reader_that_stops_early_is_not_an_error(demo_db: str, fmt: str) -> None:
    """`newsarchive export | head -1`: exit 0 and nothing on stderr, as `cat` does."""
    big = ExtractedArticle(title="A long one", text="harbor words " * 200_000)
    with Archive(demo_db) as archive:  # more than a pipe holds, whatever the format
        archive.record_fetch(fetch("https://big.example/1", big, body=b"<p>" + b"x" * 2**21))
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler", "--db", demo_db, "export", "--format", fmt,
         "--all-versions"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(10)
    process.stdout.close()
    assert process.wait(60) == 0
    assert process.stderr.read() == b""


@pytest.mark.parametrize("env", [{"TERM": "dumb"}, {"TERM": "xterm", "NO_COLOR": "1"}])
def test_a_diff_on_a_terminal_without_color_keeps_its_markers(
    demo_db: str, env: dict[str, str]
) -> None:
    """On a real terminal (a pty) that shows no color, removed and added words must still
    be told apart: the plain markers, not colors that vanish."""
    shown = on_a_terminal(demo_db, ["diff", STRIKE], env)
    assert b"[-nine-]{+eight+}" in shown


def on_a_terminal(db: str, args: list[str], env: dict[str, str]) -> bytes:
    """What a command shows on a real terminal (a pty as its stdout)."""
    import pty

    leader, follower = pty.openpty()
    done = subprocess.run(
        [sys.executable, "-m", "crawler", "--db", db, *args],
        stdout=follower, stderr=subprocess.PIPE, timeout=60,
        env={**os.environ, "COLUMNS": "100", **env},
    )  # fmt: skip
    os.close(follower)
    shown = read_until_closed(leader)
    assert done.returncode == 0, done.stderr
    return shown


UTC_TIME = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC"


def test_tables_in_a_pipe_are_tab_separated_and_whole(demo_db: str) -> None:
    """`runs | grep`, `search ... | cut -f6`: one line per row, a tab between cells, nothing
    cut to fit a width, times in UTC with their year."""
    long_title = "A headline far longer than any terminal is wide " * 4
    with Archive(demo_db) as archive:
        eastern = timezone(timedelta(hours=-5))
        article = ExtractedArticle(
            title=long_title.strip(),
            text="library words " * 50,
            published=datetime(2026, 11, 30, 23, 30, tzinfo=eastern),
        )
        archive.record_fetch(fetch("https://long.example/story", article))
    code, out, _ = run(demo_db, "search", "library")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split("\t") == ["id", "published", "site", "title", "snippet", "url", "score"]
    rows = [line.split("\t") for line in lines[1:]]
    assert all(len(row) == 7 for row in rows) and len(rows) >= 2
    (long_row,) = [row for row in rows if row[5] == "https://long.example/story"]
    assert long_row[3] == long_title.strip()
    assert long_row[1] == "2026-12-01 04:30 UTC"
    assert "<mark>" not in out and "…" not in long_row[3]
    code, out, _ = run(demo_db, "history", STRIKE)
    assert code == 0
    header, *versions = [line.split("\t") for line in out.splitlines()]
    assert header == ["version", "fetched", "changed", "title", "hash"]
    assert [v[0] for v in versions] == ["1", "2", "3"]
    assert all(re.fullmatch(UTC_TIME, v[1]) for v in versions)
    code, out, _ = run(demo_db, "runs")
    assert code == 0
    header, *runs = [line.split("\t") for line in out.splitlines()]
    assert header == ["id", "site", "status", "started", "took", "worker", "counters"]
    assert all(len(r) == 7 and re.fullmatch(UTC_TIME, r[3]) for r in runs)
    assert {r[2] for r in runs} == {"succeeded manual"}
    _, out, _ = run(demo_db, "stats")
    assert "articles\t5" in out.splitlines()


def test_tables_on_a_terminal_are_drawn(demo_db: str) -> None:
    shown = on_a_terminal(demo_db, ["runs"], {"TERM": "xterm"}).decode()
    assert "┏━━" in shown and "┃" in shown and "\t" not in shown
    assert re.search(UTC_TIME.replace(" UTC", ""), shown)


def _limit_file_size() -> None:
    import resource

    # Above SQLite's shared-memory file, below the export: a full disk, for this process.
    resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))


def test_an_export_cut_short_leaves_no_partial_file(demo_db: str, tmp_path: Path) -> None:
    """A full disk (here a file-size limit) mid-export: one line, exit 1, the earlier file
    of that name unchanged and no partial file beside it."""
    big = ExtractedArticle(title="A long one", text="harbor words " * 100_000)
    with Archive(demo_db) as archive:
        archive.record_fetch(fetch("https://big.example/1", big))
    target = tmp_path / "out" / "archive.jsonl"
    target.parent.mkdir()
    target.write_text("the export of last week\n")
    target.chmod(0o640)
    argv = [sys.executable, "-m", "crawler", "--db", demo_db, "export", "-o", str(target)]
    failed = subprocess.run(
        argv, capture_output=True, text=True, timeout=60, preexec_fn=_limit_file_size
    )
    assert failed.returncode == 1
    assert failed.stderr == (f"error: cannot write {target}: File too large; nothing was written\n")
    assert target.read_text() == "the export of last week\n"
    assert [p.name for p in target.parent.iterdir()] == ["archive.jsonl"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert len(target.read_text().splitlines()) == 5
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in target.parent.iterdir()] == ["archive.jsonl"]


@pytest.mark.parametrize("where", ["-o", "stdout"])
def test_an_export_to_a_full_device_is_one_line(demo_db: str, where: str) -> None:
    argv = [sys.executable, "-m", "crawler", "--db", demo_db, "export"]
    with open("/dev/full", "wb") as full:
        if where == "-o":
            result = subprocess.run([*argv, "-o", "/dev/full"], capture_output=True, timeout=60)
        else:
            result = subprocess.run(argv, stdout=full, stderr=subprocess.PIPE, timeout=60)
    assert result.returncode == 1
    name = "/dev/full" if where == "-o" else "standard output"
    assert result.stderr.decode().startswith(f"error: cannot write {name}: No space left on device")
    assert result.stderr.count(b"\n") == 1


def test_an_export_through_a_symlink_writes_its_target(demo_db: str, tmp_path: Path) -> None:
    real = tmp_path / "exports" / "latest.jsonl"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "archive.jsonl"
    link.symlink_to(real)
    code, _, err = run(demo_db, "export", "-o", str(link))
    assert code == 0, err
    assert link.is_symlink() and len(real.read_text().splitlines()) == 4


def test_an_export_stopped_by_sigterm_leaves_no_temporary_file(
    demo_db: str, tmp_path: Path
) -> None:
    """A stop (systemd, a timeout) mid-export: the hidden temporary file goes too."""
    import signal

    from tests.polling import wait_for

    with Archive(demo_db) as archive:  # raw bodies that take seconds to write as WARC
        for n in range(8):
            body = b"<html><body><p>" + os.urandom(1_500_000).hex().encode() + b"</p></body>"
            story = ExtractedArticle(title=f"Long page {n}", text=f"harbor {n} words " * 50)
            archive.record_fetch(fetch(f"https://big.example/{n}", story, body=body))
    target = tmp_path / "out" / "all.warc.gz"
    target.parent.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler", "--db", demo_db, "export", "--format", "warc",
         "--all-versions", "-o", str(target)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert wait_for(lambda: any(target.parent.iterdir()), 30)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert list(target.parent.iterdir()) == []
