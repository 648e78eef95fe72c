"""Small bar charts as inline SVG, drawn on the server: no script, no chart library, and
nothing to load (the app's policy allows no remote resource)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["bar_chart", "stacked_bars"]

WIDTH = 600
HEIGHT = 120
LABEL = 16


def bar_chart(values: Sequence[tuple[str, int]], title: str) -> str:
    """One bar per (label, value); the label shows on hover and every few bars."""
    return stacked_bars([(label, (value,)) for label, value in values], ("bar",), title)


def stacked_bars(
    values: Sequence[tuple[str, Sequence[int]]], series: Sequence[str], title: str
) -> str:
    """One stacked bar per (label, (value per series)); series are styled by class."""
    count = max(1, len(values))
    top = max((sum(parts) for _, parts in values), default=0) or 1
    step = WIDTH / count
    bar = min(24.0, max(1.0, step * 0.8))
    plot = HEIGHT - LABEL
    shapes: list[str] = []
    for index, (label, parts) in enumerate(values):
        x = index * step + (step - bar) / 2
        y = float(plot)
        tip = f"{label}: " + ", ".join(
            f"{value} {name}" for name, value in zip(series, parts, strict=True)
        )
        shapes.append(f"<g><title>{escape(tip)}</title>")
        for name, value in zip(series, parts, strict=True):
            height = plot * value / top
            y -= height
            shapes.append(
                f'<rect class="{escape(name)}" x="{x:.1f}" y="{y:.1f}" '
                f'width="{bar:.1f}" height="{height:.1f}"/>'
            )
        shapes.append("</g>")
        if index % max(1, count // 6) == 0:
            shapes.append(f'<text x="{x:.1f}" y="{HEIGHT - 3}" class="axis">{escape(label)}</text>')
    shapes.append(f'<text x="{WIDTH - 2}" y="10" class="axis max">{top}</text>')
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(shapes)}</svg>"
    )
