"""The query commands' tables: boxes for a person at a terminal, tab-separated lines in a pipe.

Rich draws a table as wide as the terminal and wraps or truncates cells to fit; in a pipe
(`runs | grep failed`, `search ... > hits.txt`) that made box characters and cut words
the data. So when stdout is not a terminal a table is one header line and one line per
row, cells separated by tabs, never truncated, with the tabs and line breaks inside a
cell turned into spaces (`cut -f`, `awk -F'\\t'` and spreadsheets read it as is).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from crawler.cli.common import console, stdout_is_terminal

__all__ = ["Column", "OutputTable"]


@dataclass(frozen=True, slots=True)
class Column:
    """A column and how Rich lays it out on a terminal (ignored in a pipe)."""

    name: str
    no_wrap: bool = False
    max_width: int | None = None
    justify: str = "left"
    ratio: int | None = None


@dataclass(slots=True)
class OutputTable:
    """Rows of plain strings or Rich Text; printed for the terminal or for the pipe."""

    columns: Sequence[Column | str]
    header: bool = True
    lines: bool = False
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    for_terminal: bool = field(default_factory=stdout_is_terminal)

    def add_row(self, *cells: Any) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"{len(cells)} cells for {len(self.columns)} columns")
        self.rows.append(cells)

    def print(self) -> None:
        if self.for_terminal:
            self._print_rich()
        else:
            self._print_tab_separated()

    def _print_rich(self) -> None:
        from rich.table import Table

        table = Table(show_header=self.header, show_lines=self.lines)
        for column in self.columns:
            spec = Column(column) if isinstance(column, str) else column
            table.add_column(
                spec.name,
                no_wrap=spec.no_wrap,
                max_width=spec.max_width,
                justify=spec.justify,  # type: ignore[arg-type]
                ratio=spec.ratio,
            )
        for row in self.rows:
            table.add_row(*row)
        console().print(table)

    def _print_tab_separated(self) -> None:
        out = []
        if self.header:
            names = (c if isinstance(c, str) else c.name for c in self.columns)
            out.append("\t".join(names))
        out.extend("\t".join(_flat(cell) for cell in row) for row in self.rows)
        sys.stdout.write("".join(line + "\n" for line in out))


def _flat(cell: Any) -> str:
    """A cell on one line: Rich Text as its plain text, tabs and line breaks as spaces."""
    text = cell.plain if hasattr(cell, "plain") else str(cell)
    return " ".join(text.split())
