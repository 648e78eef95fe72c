"""Writers for `newsarchive export`: JSON Lines, CSV, Parquet and WARC, all streaming.

Every writer consumes the row iterator of `Archive.iter_snapshot_rows` and holds at most one
chunk in memory (Parquet: one row group), so an archive of any size exports in constant
memory.
"""

from __future__ import annotations

import csv
import http
import io
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import IO, Any
from urllib.parse import urldefrag

from storage.archive import Archive
from storage.export_rows import EXPORT_KEYS

__all__ = ["FORMATS", "export"]

FORMATS = ("jsonl", "csv", "parquet", "warc")
_LIST_KEYS = ("authors", "tags", "changed_fields")
_DATE_KEYS = ("published", "modified", "first_seen", "last_seen", "fetched_at")
PARQUET_ROW_GROUP = 1000
# Versions whose bodies are read with one query: raw pages are large once decompressed.
WARC_CHUNK = 50


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in _DATE_KEYS:
        out[key] = _iso(out[key])
    return out


def _write_jsonl(rows: Iterable[dict[str, Any]], out: IO[bytes], _archive: Archive) -> int:
    count = 0
    for row in rows:
        out.write(json.dumps(_jsonable(row), ensure_ascii=False).encode("utf-8") + b"\n")
        count += 1
    return count


def _write_csv(rows: Iterable[dict[str, Any]], out: IO[bytes], _archive: Archive) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.DictWriter(text, fieldnames=list(EXPORT_KEYS))
    writer.writeheader()
    count = 0
    for row in rows:
        record = _jsonable(row)
        for key in _LIST_KEYS:  # lists as JSON arrays: lossless and easy to parse back
            record[key] = json.dumps(record[key], ensure_ascii=False)
        writer.writerow(record)
        count += 1
    text.flush()
    text.detach()
    return count


def _parquet_schema() -> Any:
    import pyarrow as pa

    ts = pa.timestamp("us", tz="UTC")
    types: dict[str, Any] = {
        "authors": pa.list_(pa.string()),
        "tags": pa.list_(pa.string()),
        "changed_fields": pa.list_(pa.string()),
        "version": pa.int32(),
        "versions": pa.int32(),
        "duplicate_group": pa.int64(),
        "http_status": pa.int32(),
        "article_id": pa.int64(),
        **dict.fromkeys(_DATE_KEYS, ts),
    }
    return pa.schema([(key, types.get(key, pa.string())) for key in EXPORT_KEYS])


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _write_parquet(rows: Iterable[dict[str, Any]], out: IO[bytes], _archive: Archive) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _parquet_schema()
    count = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        for batch in _chunks(rows, PARQUET_ROW_GROUP):
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            count += len(batch)
    return count


def _write_warc(rows: Iterable[dict[str, Any]], out: IO[bytes], archive: Archive) -> int:
    """A `warcinfo` record, then one `response` record per version with stored HTML.

    The HTTP header block is the response's own, as recorded (its Content-Type with the
    charset the page was decoded with, Date, Last-Modified...), under a status line with
    the status's standard reason phrase (servers' own phrases are not kept). Versions
    archived before headers were recorded get a block rebuilt from what is known: the
    status and an HTML content type. Content-Length always states the body written,
    and transfer and content encodings are left out: the body is stored decoded. The
    target URI is the URL the version was fetched from, without its fragment.
    """
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    writer = WARCWriter(out, gzip=True)
    writer.write_record(writer.create_warcinfo_record("newsarchive-export.warc.gz", _warcinfo()))
    count = 0
    for batch in _chunks(rows, WARC_CHUNK):
        bodies = archive.blobs([row["blob_sha256"] for row in batch if row["blob_sha256"]])
        for row in batch:
            body = bodies.get(row["blob_sha256"] or "")
            if body is None:
                continue
            status = int(row["http_status"])
            http_headers = StatusAndHeaders(
                f"{status} {_reason(status)}",
                _http_headers(row.get("http_headers"), len(body)),
                protocol="HTTP/1.1",
            )
            warc_headers = {"WARC-Date": row["fetched_at"].strftime("%Y-%m-%dT%H:%M:%SZ")}
            record = writer.create_warc_record(
                urldefrag(row["url"]).url,
                "response",
                payload=io.BytesIO(body),
                length=len(body),
                http_headers=http_headers,
                warc_headers_dict=warc_headers,
            )
            writer.write_record(record)
            count += 1
    return count


# Headers that described the bytes on the wire, not the body as stored (decoded, whole).
_WIRE_HEADERS = frozenset(
    {"content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive"}
)


def _http_headers(recorded: list[list[str]] | None, length: int) -> list[tuple[str, str]]:
    if not recorded:
        headers = [("Content-Type", "text/html")]
    else:
        headers = [(name, value) for name, value in recorded if name.lower() not in _WIRE_HEADERS]
    return [*headers, ("Content-Length", str(length))]


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _warcinfo() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        software = f"newsarchive/{version('newsarchive')}"
    except PackageNotFoundError:
        software = "newsarchive"
    return {
        "software": software,
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "description": "response records of the HTML archived by newsarchive, one per version",
    }


_WRITERS: dict[str, Callable[[Iterable[dict[str, Any]], IO[bytes], Archive], int]] = {
    "jsonl": _write_jsonl,
    "csv": _write_csv,
    "parquet": _write_parquet,
    "warc": _write_warc,
}


def export(
    archive: Archive,
    fmt: str,
    out: IO[bytes],
    *,
    all_versions: bool = False,
    site: str | None = None,
    since: datetime | None = None,
) -> int:
    """Write the archive (latest versions, or every version) to `out`; returns the count."""
    if fmt not in _WRITERS:
        raise ValueError(f"format: expected one of {', '.join(FORMATS)}")
    rows = archive.iter_snapshot_rows(
        all_versions=all_versions, site=site, since=since, http_headers=fmt == "warc"
    )
    return _WRITERS[fmt](rows, out, archive)
