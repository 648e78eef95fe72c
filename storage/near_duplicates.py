"""Near-duplicate detection: MinHash signatures of word pairs, with LSH bands.

Wire copies of one story appear on many sites with small edits (a byline line, a credit, a
changed word). A 32-value MinHash signature estimates the Jaccard similarity of two bodies'
word pairs; eight bands of four values turn "similar" into "shares a band key", which an
ordinary index answers. tests/storage/test_near_duplicates.py holds the rule on the
corpus (edited wire copies grouped, unrelated articles not); the measured similarities,
and why a SimHash was dropped, are in docs/benchmarks.md ("Figures behind choices in the
code").
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import re
import zlib

__all__ = [
    "BANDS",
    "MIN_WORDS",
    "SIGNATURE_SIZE",
    "THRESHOLD",
    "band_keys",
    "signature",
    "similarity",
]

SIGNATURE_SIZE = 32
BANDS = 8
_ROWS = SIGNATURE_SIZE // BANDS
THRESHOLD = 0.7
# Bodies shorter than this are too generic to call duplicates (teasers, stubs).
MIN_WORDS = 40
_SHINGLE = 2
_WORD_RE = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 1000
_EMPTY = 1 << 32
_GOLDEN = 0x9E3779B1
_MASK64 = (1 << 64) - 1
# Odd 64-bit multipliers (from splitmix64).
_MIX = 0x9E3779B97F4A7C15
_MIX2 = 0xBF58476D1CE4E5B9
_SLOT_SHIFT = 64 - (SIGNATURE_SIZE.bit_length() - 1)


def signature(text: str) -> bytes | None:
    """A 128-byte MinHash signature of the body's word pairs, or None when too short.

    One-permutation hashing: each pair's 64-bit hash picks one of 32 bins and competes for
    that bin's minimum, so the cost is one hash per pair. Empty bins borrow from the next
    filled bin (densification). Only the first MAX_WORDS words count: copies agree at least as much
    there, and the cost stays bounded for very long bodies.
    """
    # Words average well under 16 characters with their separators, so this prefix holds
    # MAX_WORDS words while sparing the regex the rest of a long body.
    words = _WORD_RE.findall(text, 0, MAX_WORDS * 16)[:MAX_WORDS]
    if len(words) < MIN_WORDS:
        return None
    # CRC-32 of each distinct word: C speed and identical in every process (unlike hash()).
    ids = {word: zlib.crc32(word.casefold().encode("utf-8")) for word in set(words)}
    sequence = [ids[word] for word in words]
    # Multiplying by odd 64-bit constants spreads each pair of 32-bit ids over all 64 bits.
    pairs = {((a * _MIX) ^ b) * _MIX2 & _MASK64 for a, b in itertools.pairwise(sequence)}
    # The top 5 bits of a pair's hash pick its bin and the next 32 bits compete for the
    # bin's minimum (a product's high bits depend on every input bit). In sorted order
    # each bin is one contiguous range, so its minimum is found by bisection.
    ordered = sorted(pairs)
    mins = [_EMPTY] * SIGNATURE_SIZE
    for slot in range(SIGNATURE_SIZE):
        index = bisect.bisect_left(ordered, slot << _SLOT_SHIFT)
        if index < len(ordered) and ordered[index] >> _SLOT_SHIFT == slot:
            mins[slot] = (ordered[index] >> (_SLOT_SHIFT - 32)) & 0xFFFFFFFF
    for i in range(SIGNATURE_SIZE):
        if mins[i] == _EMPTY:
            j = i + 1
            while mins[j % SIGNATURE_SIZE] == _EMPTY:
                j += 1
            mins[i] = (mins[j % SIGNATURE_SIZE] + (j - i) * _GOLDEN) & 0xFFFFFFFF
    return b"".join(m.to_bytes(4, "big") for m in mins)


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of the two bodies (share of equal signature values)."""
    same = sum(a[i : i + 4] == b[i : i + 4] for i in range(0, SIGNATURE_SIZE * 4, 4))
    return same / SIGNATURE_SIZE


def band_keys(sig: bytes) -> list[int]:
    """One signed 64-bit key per band; similar bodies share at least one with high probability."""
    width = _ROWS * 4
    keys = []
    for band in range(BANDS):
        digest = hashlib.blake2b(
            bytes([band]) + sig[band * width : (band + 1) * width], digest_size=8
        ).digest()
        keys.append(int.from_bytes(digest, signed=True))
    return keys
