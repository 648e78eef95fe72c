"""One docs/benchmarks.md written by several benchmark scripts, each owning a block.

A script replaces only the text between its markers, so running one benchmark never
erases another's figures or the hand-written log of what each optimization bought.
"""

from __future__ import annotations

from pathlib import Path

HISTORY_HEADING = "## What each change bought"


def write_block(path: Path, name: str, markdown: str) -> None:
    """Put `markdown` between this block's markers: in place, else before the history log."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{markdown.rstrip()}\n{end}\n"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if start in old and end in old:
        before, _, rest = old.partition(start)
        _, _, after = rest.partition(end)
        new = before + block + after.lstrip("\n")
    else:
        at = old.find(HISTORY_HEADING)
        head, tail = (old, "") if at < 0 else (old[:at], old[at:])
        new = head.rstrip("\n") + ("\n\n" if head.strip() else "") + block + "\n" + tail
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")
