"""Bar charts as plain data: the HTML report draws them as SVG, the PDF with vector strokes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    values: Sequence[float]
    colour: str


@dataclass(frozen=True, slots=True)
class BarChart:
    title: str
    categories: Sequence[str]
    series: Sequence[Series]

    @property
    def top(self) -> float:
        peak = max((v for s in self.series for v in s.values), default=0)
        return nice_ceiling(peak)


def nice_ceiling(value: float) -> float:
    """The next round number at or above ``value`` (1, 2, 5 x 10^n), at least 1.

    >>> nice_ceiling(0), nice_ceiling(7), nice_ceiling(12), nice_ceiling(230)
    (1, 10, 20, 500)
    """
    if value <= 1:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def label_every(count: int, *, room: int) -> int:
    return max(1, -(-count // room))


def to_svg(chart: BarChart, *, width: int = 720, height: int = 220, titled: bool = False) -> str:
    left, right, top, bottom = 40, 10, 24 if titled else 8, 34
    plot_w = width - left - right
    plot_h = height - top - bottom
    count = max(1, len(chart.categories))
    group_w = plot_w / count
    bar_w = max(1.0, group_w * 0.8 / max(1, len(chart.series)))
    peak = chart.top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(chart.title)}" class="chart">',
    ]
    if titled:
        parts.append(f'<text x="{left}" y="14" class="chart-title">{escape(chart.title)}</text>')
    for step in range(5):
        value = peak * step / 4
        y = top + plot_h - plot_h * step / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end" class="tick">'
            f"{value:g}</text>"
        )
    every = label_every(count, room=24)
    for index, category in enumerate(chart.categories):
        x0 = left + group_w * index + group_w * 0.1
        for s_index, series in enumerate(chart.series):
            value = series.values[index] if index < len(series.values) else 0
            h = plot_h * value / peak if peak else 0
            parts.append(
                f'<rect x="{x0 + bar_w * s_index:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}" fill="{series.colour}">'
                f"<title>{escape(category)} {escape(series.label)}: {value:g}</title></rect>"
            )
        if index % every == 0:
            parts.append(
                f'<text x="{left + group_w * (index + 0.5):.1f}" y="{height - bottom + 14}" '
                f'text-anchor="middle" class="tick">{escape(category)}</text>'
            )
    legend_x = left
    for series in chart.series:
        parts.append(
            f'<rect x="{legend_x}" y="{height - 12}" width="10" height="10" '
            f'fill="{series.colour}"/><text x="{legend_x + 14}" y="{height - 3}" '
            f'class="tick">{escape(series.label)}</text>'
        )
        legend_x += 20 + 12 * len(series.label)
    parts.append("</svg>")
    return "".join(parts)
