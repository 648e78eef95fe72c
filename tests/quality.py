"""Body quality as the extraction benchmarks score it: F1 of 4-word shingles."""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+")


def shingles(text: str, size: int = 4) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + size]) for i in range(max(0, len(words) - size + 1))}


def shingle_f1(got: str, expected: str) -> float:
    a, b = shingles(got), shingles(expected)
    if not a and not b:
        return 1.0
    common = len(a & b)
    if not common:
        return 0.0
    precision, recall = common / len(a), common / len(b)
    return 2 * precision * recall / (precision + recall)
