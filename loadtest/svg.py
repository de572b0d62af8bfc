"""Small line charts as inline SVG text, so the HTML report opens offline (pure).

No plotting library and no script: a chart is axes, a few ticks and one polyline per
series, which is all a load report needs and what any browser draws.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import Final

COLOURS: Final = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
WIDTH: Final = 640
HEIGHT: Final = 260
PAD_L, PAD_R, PAD_T, PAD_B = 64, 16, 28, 40

Series = Sequence[tuple[float, float]]


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        return [low]
    raw = (high - low) / count
    step = 10 ** math.floor(math.log10(raw))
    for nice in (1, 2, 5, 10):
        if raw <= nice * step:
            step *= nice
            break
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 1)]


def _label(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.2g}"


def line_chart(title: str, series: Mapping[str, Series], *, x_label: str, y_label: str,
               x_text: Callable[[float], str] = _label) -> str:
    """A chart of each named series of (x, y) points; an empty chart says so."""
    points = [p for s in series.values() for p in s]
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img"><title>{escape(title)}</title>'
            f'<text x="{PAD_L}" y="18" font-size="14" font-weight="bold">{escape(title)}</text>')
    if not points:
        return head + (f'<text x="{PAD_L}" y="{HEIGHT // 2}" font-size="12">'
                       'nothing measured</text></svg>')
    x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
    y0, y1 = 0.0, max(p[1] for p in points) or 1.0
    x1 = x1 if x1 > x0 else x0 + 1.0
    w, h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B

    def sx(x: float) -> float:
        return PAD_L + (x - x0) / (x1 - x0) * w

    def sy(y: float) -> float:
        return PAD_T + h - (y - y0) / (y1 - y0) * h

    parts = [head, f'<rect x="{PAD_L}" y="{PAD_T}" width="{w}" height="{h}" fill="none" '
             'stroke="#999"/>']
    for y in _ticks(y0, y1):
        parts.append(f'<line x1="{PAD_L}" x2="{PAD_L + w}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" '
                     f'stroke="#eee"/><text x="{PAD_L - 6}" y="{sy(y) + 4:.1f}" font-size="11" '
                     f'text-anchor="end">{_label(y)}</text>')
    for x in _ticks(x0, x1):
        parts.append(f'<text x="{sx(x):.1f}" y="{PAD_T + h + 16}" font-size="11" '
                     f'text-anchor="middle">{escape(x_text(x))}</text>')
    parts.append(f'<text x="{PAD_L + w / 2}" y="{HEIGHT - 4}" font-size="11" '
                 f'text-anchor="middle">{escape(x_label)}</text>')
    parts.append(f'<text x="12" y="{PAD_T + h / 2}" font-size="11" text-anchor="middle" '
                 f'transform="rotate(-90 12 {PAD_T + h / 2})">{escape(y_label)}</text>')
    for i, (name, data) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in data)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" '
                     f'points="{path}"/>')
        parts.append(f'<text x="{PAD_L + 8 + 110 * i}" y="{PAD_T + 14}" font-size="11" '
                     f'fill="{colour}">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def nines(percentile: float) -> float:
    """A percentile on the "nines" scale: 90 → 1, 99 → 2, 99.9 → 3."""
    return -math.log10(max(1e-6, 1.0 - percentile / 100.0))


def nines_text(value: float) -> str:
    return f"{100.0 * (1.0 - 10.0 ** (-value)):g}%"
