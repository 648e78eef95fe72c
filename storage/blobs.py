"""Raw page bodies: content-addressed by SHA-256 and zstd-compressed.

zstd at level 3: higher levels save little more at a fraction of the speed, and a
dictionary trained on other sites' pages saved almost nothing (docs/benchmarks.md,
"Raw HTML storage"), so neither is used.
"""

from __future__ import annotations

import hashlib
import threading

import zstandard

__all__ = ["CODEC", "compress", "decompress", "sha256_hex"]

CODEC = "zstd"
LEVEL = 3
# Refuse to inflate a stored blob beyond this (a corrupt or hostile row must not exhaust memory).
MAX_BLOB_SIZE = 256 * 1024 * 1024

_local = threading.local()


def _compressor() -> zstandard.ZstdCompressor:
    found: zstandard.ZstdCompressor | None = getattr(_local, "compressor", None)
    if found is None:
        found = zstandard.ZstdCompressor(level=LEVEL)
        _local.compressor = found
    return found


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def compress(body: bytes) -> bytes:
    return _compressor().compress(body)


def decompress(codec: str, data: bytes) -> bytes:
    if codec == "identity":
        return data
    if codec != CODEC:
        raise ValueError(f"unknown blob codec {codec!r}")
    return zstandard.ZstdDecompressor().decompress(data, max_output_size=MAX_BLOB_SIZE)
