"""Near-duplicate detection: 64-bit SimHash over the words of a body.

Wire copies of one story appear on many sites with small edits (a different byline line,
a trailing credit). SimHash maps near-identical bodies to fingerprints a few bits apart.
Splitting the 64 bits into four 16-bit bands turns "at most 3 bits differ" into "at least
one band is equal" (pigeonhole), which an ordinary index can answer.
"""

from __future__ import annotations

import hashlib
import re

__all__ = [
    "BANDS",
    "MAX_DISTANCE",
    "MIN_WORDS",
    "bands",
    "hamming",
    "simhash",
    "to_signed",
    "to_unsigned",
]

BANDS = 4
MAX_DISTANCE = 3
# Bodies shorter than this are too generic to call duplicates (teasers, stubs).
MIN_WORDS = 40
# Single words: on the corpus, unrelated articles stay >= 15 bits apart while copies with a
# changed byline, credit line and 1% of words edited land within 3 bits for most pages;
# longer shingles spread such copies further (measured in tests/test_fingerprint.py).
_SHINGLE = 1
_WORD_RE = re.compile(r"\w+", re.UNICODE)
_MASK64 = (1 << 64) - 1


def _tokens(text: str) -> list[str]:
    return _WORD_RE.findall(text.casefold())


# For each bit b, a table mapping a byte to 1 when bit b is set, else 0.
_BIT_TABLES = [bytes((byte >> b) & 1 for byte in range(256)) for b in range(8)]


def simhash(text: str) -> int | None:
    """The unsigned 64-bit SimHash of `text`, or None when it is too short to compare.

    Bit counting works on the concatenated shingle hashes with bytes slicing and
    `translate`, so the per-bit loop runs in C rather than once per shingle.
    """
    words = _tokens(text)
    if len(words) < MIN_WORDS:
        return None
    shingles = {" ".join(words[i : i + _SHINGLE]) for i in range(len(words) - _SHINGLE + 1)}
    digests = b"".join(hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest() for s in shingles)
    total = len(shingles)
    result = 0
    for position in range(8):  # byte 0 of a big-endian digest holds bits 63..56
        column = digests[position::8]
        for b in range(8):
            ones = column.translate(_BIT_TABLES[b]).count(1)
            if 2 * ones > total:
                result |= 1 << ((7 - position) * 8 + b)
    return result


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two 64-bit fingerprints."""
    return ((a ^ b) & _MASK64).bit_count()


def bands(fingerprint: int) -> tuple[int, ...]:
    """The four 16-bit bands of a fingerprint, lowest first."""
    return tuple((fingerprint >> (16 * i)) & 0xFFFF for i in range(BANDS))


def to_signed(value: int) -> int:
    """Fit an unsigned 64-bit value into a signed BIGINT column."""
    return value - (1 << 64) if value >= 1 << 63 else value


def to_unsigned(value: int) -> int:
    return value & _MASK64
