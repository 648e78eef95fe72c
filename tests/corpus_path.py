"""Where the shared corpus of real article pages is read from (never copied here)."""

from __future__ import annotations

import os
from pathlib import Path

CORPUS = Path(
    os.environ.get(
        "NEWSARCHIVE_CORPUS",
        Path(__file__).resolve().parents[2] / "shared" / "corpus" / "readability",
    )
)
