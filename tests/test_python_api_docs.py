"""docs/python-api.md, run: every Python block in order, each block's output checked
against the `text` block after it (`…` stands for what changes from run to run)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from storage import Archive
from tests import REPO
from tests.demo_stories import load_demo

DOC = REPO / "docs" / "python-api.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def _blocks() -> list[tuple[str, str | None]]:
    """(code, expected output or None) for each python block of the page."""
    fences = FENCE.findall(DOC.read_text(encoding="utf-8"))
    blocks = []
    for n, (kind, body) in enumerate(fences):
        if kind == "python":
            following = fences[n + 1] if n + 1 < len(fences) else None
            expected = following[1] if following and following[0] == "text" else None
            blocks.append((body, expected))
    return blocks


def _matches(expected: str, shown: str) -> bool:
    pattern = ".*?".join(re.escape(part) for part in expected.split("…"))
    return re.fullmatch(pattern, shown, re.DOTALL) is not None


def test_the_python_api_page_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Archive(f"sqlite:///{tmp_path / 'archive.db'}") as archive:
        load_demo(archive)
    monkeypatch.chdir(tmp_path)
    blocks = _blocks()
    assert len(blocks) >= 5 and all(expected is not None for _, expected in blocks)
    namespace: dict[str, object] = {}
    for code, expected in blocks:
        shown = io.StringIO()
        with contextlib.redirect_stdout(shown):
            exec(compile(code, str(DOC), "exec"), namespace)
        assert _matches(expected or "", shown.getvalue()), (code, shown.getvalue())
    assert not (tmp_path / "achive.db").exists()  # the mistyped path made nothing
