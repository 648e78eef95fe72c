"""Export round trips in every format, per article and per version, on both databases."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from warcio.archiveiterator import ArchiveIterator

from storage import Archive, ExtractedArticle
from storage.export import export
from storage.export_rows import EXPORT_KEYS
from tests.conftest import fetch
from tests.corpus import CorpusPage

CONTRACT_KEYS = {
    "url", "canonical_url", "site", "title", "text", "authors", "published", "modified",
    "language", "description", "image", "tags", "first_seen", "last_seen", "version",
    "versions", "content_hash", "duplicate_group",
}  # fmt: skip


@pytest.fixture
def stocked(archive: Archive, corpus: list[CorpusPage]) -> Archive:
    for page in corpus[:5]:
        url = f"https://news.example.com/{page.name}?utm_campaign=x"
        article = page.article(tags=("world", "politics"), image="https://news.example.com/i.jpg")
        archive.record_fetch(fetch(url, article, body=page.html, site="news"))
    page = corpus[0]
    edited = page.article(
        title="Updated: " + str(page.metadata.get("title")), tags=("world", "politics")
    )
    archive.record_fetch(
        fetch(
            f"https://news.example.com/{page.name}",
            edited,
            body=page.html + b"<!-- v2 -->",
            site="news",
        )
    )
    archive.record_fetch(
        fetch(
            "https://other.example.org/x",
            ExtractedArticle(title="Other", text="Short."),
            site="other",
        )
    )
    return archive


def _export(archive: Archive, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    export(archive, fmt, out, **options)  # type: ignore[arg-type]
    return out.getvalue()


def test_jsonl_round_trip(stocked: Archive) -> None:
    rows = [json.loads(line) for line in _export(stocked, "jsonl").splitlines()]
    assert len(rows) == 6
    assert set(rows[0]) >= CONTRACT_KEYS
    first = rows[0]
    snapshot = stocked.snapshot(first["canonical_url"])
    assert first["title"] == snapshot.title and first["text"] == snapshot.text
    assert first["version"] == first["versions"] == 2
    assert isinstance(first["authors"], list) and first["tags"] == ["world", "politics"]
    assert first["published"] is None or datetime.fromisoformat(first["published"]).tzinfo
    assert datetime.fromisoformat(first["first_seen"]).tzinfo is not None
    assert "utm_campaign" not in first["canonical_url"]


def test_all_versions_and_filters(stocked: Archive) -> None:
    rows = [json.loads(line) for line in _export(stocked, "jsonl", all_versions=True).splitlines()]
    assert len(rows) == 7
    versions = [
        (r["version"], r["versions"]) for r in rows if r["article_id"] == rows[0]["article_id"]
    ]
    assert versions == [(1, 2), (2, 2)]
    only_other = _export(stocked, "jsonl", site="other").splitlines()
    assert [json.loads(line)["site"] for line in only_other] == ["other"]
    assert _export(stocked, "jsonl", since=datetime(2100, 1, 1, tzinfo=UTC)) == b""


def test_chunk_boundaries_lose_and_repeat_nothing(stocked: Archive) -> None:
    rows = list(stocked.iter_snapshot_rows(all_versions=True, site=None, since=None, chunk=2))
    keys = [(r["article_id"], r["version"]) for r in rows]
    assert len(keys) == len(set(keys)) == 7
    whole = stocked.iter_snapshot_rows(all_versions=True, site=None, since=None, chunk=1000)
    assert keys == [(r["article_id"], r["version"]) for r in whole]


def test_csv_round_trip(stocked: Archive) -> None:
    rows = list(csv.DictReader(io.StringIO(_export(stocked, "csv").decode("utf-8"))))
    assert len(rows) == 6
    assert list(rows[0]) == list(EXPORT_KEYS)
    assert json.loads(rows[0]["tags"]) == ["world", "politics"]
    jsonl = [json.loads(line) for line in _export(stocked, "jsonl").splitlines()]
    assert [r["text"] for r in rows] == [r["text"] for r in jsonl]


def test_parquet_round_trip(stocked: Archive) -> None:
    table = pq.read_table(io.BytesIO(_export(stocked, "parquet", all_versions=True)))
    assert table.num_rows == 7
    assert set(table.column_names) >= CONTRACT_KEYS
    rows = table.to_pylist()
    jsonl = [json.loads(line) for line in _export(stocked, "jsonl", all_versions=True).splitlines()]
    assert [r["content_hash"] for r in rows] == [r["content_hash"] for r in jsonl]
    assert rows[0]["tags"] == ["world", "politics"]
    assert rows[0]["first_seen"].tzinfo is not None


def test_warc_is_valid_and_holds_the_raw_html(
    stocked: Archive, corpus: list[CorpusPage], tmp_path: Path
) -> None:
    path = tmp_path / "out.warc.gz"
    path.write_bytes(_export(stocked, "warc", all_versions=True))
    with path.open("rb") as stream:
        records = [
            (
                r.rec_headers.get_header("WARC-Target-URI"),
                r.http_headers.get_statuscode(),
                r.content_stream().read(),
            )
            for r in ArchiveIterator(stream)
            if r.rec_type == "response"
        ]
    assert len(records) == 7
    bodies = {uri: body for uri, _, body in records}
    page = corpus[1]
    assert bodies[f"https://news.example.com/{page.name}?utm_campaign=x"] == page.html
    assert all(status == "200" for _, status, _ in records)
    warcio = shutil.which("warcio", path=str(Path(sys.executable).parent))
    assert warcio is not None
    check = subprocess.run([warcio, "check", "-v", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_unknown_format_is_refused(stocked: Archive) -> None:
    with pytest.raises(ValueError, match="format"):
        _export(stocked, "xml")


def test_export_of_replaced_fields_keeps_lists(archive: Archive) -> None:
    article = ExtractedArticle(title="T", text="Body", authors=("A", "B"))
    archive.record_fetch(fetch("https://e.example/t", article))
    archive.record_fetch(fetch("https://e.example/t", dataclasses.replace(article, authors=("A",))))
    rows = [json.loads(line) for line in _export(archive, "jsonl", all_versions=True).splitlines()]
    assert [r["authors"] for r in rows] == [["A", "B"], ["A"]]
    assert rows[1]["changed_fields"] == ["authors"]


def test_warc_keeps_the_response_headers_and_opens_with_warcinfo(
    archive: Archive, tmp_path: Path
) -> None:
    headers = (
        ("Content-Type", "text/html; charset=windows-1251"),
        ("Date", "Tue, 01 Dec 2026 10:00:00 GMT"),
        ("Last-Modified", "Mon, 30 Nov 2026 08:00:00 GMT"),
        ("Content-Encoding", "gzip"),  # of the wire, not of the body as stored
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
    )
    body = "<html><body><p>Привет</p></body></html>".encode("cp1251")
    article = ExtractedArticle(title="Привет", text="Привет, мир. " * 20)
    archive.record_fetch(fetch("https://ru.example/1", article, body=body, headers=headers,
                               status=203))  # fmt: skip
    archive.record_fetch(fetch("https://old.example/1", article, body=b"<p>old</p>"))
    path = tmp_path / "out.warc.gz"
    path.write_bytes(_export(archive, "warc", all_versions=True))
    with path.open("rb") as stream:
        records = [(r.rec_type, r.rec_headers, r.http_headers, r.content_stream().read())
                   for r in ArchiveIterator(stream)]  # fmt: skip
    assert [kind for kind, *_ in records] == ["warcinfo", "response", "response"]
    info = records[0][3].decode()
    assert "software: newsarchive" in info and "format: WARC File Format 1.1" in info
    _, warc, http, stored = records[1]
    assert warc.get_header("WARC-Target-URI") == "https://ru.example/1"
    assert http.statusline == "203 Non-Authoritative Information"
    assert http.get_header("Content-Type") == "text/html; charset=windows-1251"
    assert http.get_header("Last-Modified") == "Mon, 30 Nov 2026 08:00:00 GMT"
    assert [v for k, v in http.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert http.get_header("Content-Encoding") is None
    assert http.get_header("Content-Length") == str(len(body)) and stored == body
    _, _, old_http, _ = records[2]  # no headers recorded: rebuilt as before
    assert old_http.statusline == "200 OK"
    assert old_http.get_header("Content-Type") == "text/html"
    warcio = shutil.which("warcio", path=str(Path(sys.executable).parent))
    assert warcio is not None
    check = subprocess.run([warcio, "check", "-v", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
