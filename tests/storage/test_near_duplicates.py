"""Near-duplicate fingerprints, measured on the real corpus pages."""

from __future__ import annotations

import os
import random
import subprocess
import sys

from storage.near_duplicates import THRESHOLD, band_keys, signature, similarity
from tests.corpus import CorpusPage


def _wire_copy(text: str, rng: random.Random, edited: float) -> str:
    """What a second site does to a wire story: new byline and credit, some words edited."""
    words = text.split()
    for _ in range(max(1, int(len(words) * edited))):
        words[rng.randrange(len(words))] = "edited"
    return "By Staff and Wire Reports. " + " ".join(words) + " (Reporting by the wire service)"


def _grouped(a: bytes, b: bytes) -> bool:
    return bool(set(band_keys(a)) & set(band_keys(b))) and similarity(a, b) >= THRESHOLD


def _distinct_texts(corpus: list[CorpusPage]) -> list[str]:
    # The corpus holds one story twice (two URLs of one page); keep each body once.
    return list(dict.fromkeys(p.expected for p in corpus if signature(p.expected) is not None))


def test_wire_copies_are_grouped(every_corpus: list[CorpusPage]) -> None:
    rng = random.Random(7)
    texts = _distinct_texts(every_corpus)
    for edited in (0.005, 0.02):
        grouped = 0
        for text in texts:
            original, copy = signature(text), signature(_wire_copy(text, rng, edited))
            assert original is not None and copy is not None
            grouped += _grouped(original, copy)
        assert grouped / len(texts) >= 0.95, f"{edited:.1%} edits: {grouped}/{len(texts)}"


def test_unrelated_articles_are_not_grouped(every_corpus: list[CorpusPage]) -> None:
    sigs = [s for s in (signature(t) for t in _distinct_texts(every_corpus)) if s is not None]
    highest = max(similarity(a, b) for i, a in enumerate(sigs) for b in sigs[i + 1 :])
    assert highest < THRESHOLD / 2
    assert not any(_grouped(a, b) for i, a in enumerate(sigs) for b in sigs[i + 1 :])


def test_short_bodies_have_no_signature() -> None:
    assert signature("Breaking: more soon.") is None


def test_signature_is_stable_across_processes() -> None:
    # Stored signatures are compared with ones computed later, in other processes:
    # they must not depend on Python's per-process string hashing.
    code = (
        "from storage.near_duplicates import signature;"
        "print(signature(' '.join(f'word{i}' for i in range(60))).hex())"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert len(outputs) == 1
    assert len(outputs.pop()) == 256
