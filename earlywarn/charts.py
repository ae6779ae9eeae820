"""Small server-rendered SVG charts (pure), so pages need no JavaScript library and print as they look."""

from __future__ import annotations

from xml.sax.saxutils import escape

from earlywarn.i18n import format_money


def bar_pairs_svg(labels: list[str], first: list[int], second: list[int], *, names: tuple[str, str],
                  height: int = 220) -> str:
    """Grouped bars (e.g. earned vs paid per month, in fen) with a legend and month labels."""
    n = len(labels)
    if n == 0:
        return ""
    top = max(max(first, default=0), max(second, default=0), 1)
    slot, bar, left, base = 44, 16, 64, height - 40
    width = left + n * slot + 20
    scale = (base - 24) / top
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" aria-label="{escape(names[0])} / {escape(names[1])}">',
             f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#9aa4ae"/>']
    for frac in (0.5, 1.0):
        y = base - (base - 24) * frac
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#e3e7eb"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end" fill="#5b636e">'
                     f'{escape(format_money(round(top * frac)))}</text>')
    for i, label in enumerate(labels):
        x = left + i * slot + 5
        for j, (value, colour) in enumerate(((first[i], "#9aa4ae"), (second[i], "#2e7d32"))):
            h = value * scale
            parts.append(f'<rect x="{x + j * (bar + 2)}" y="{base - h:.1f}" width="{bar}" height="{h:.1f}" '
                         f'fill="{colour}"><title>{escape(label)} {escape(names[j])} '
                         f'{escape(format_money(value))}</title></rect>')
        if n <= 18 or i % 2 == 0:
            parts.append(f'<text x="{x + bar}" y="{base + 14}" font-size="10" text-anchor="middle" '
                         f'fill="#5b636e">{escape(label[2:])}</text>')
    for j, (name, colour) in enumerate(((names[0], "#9aa4ae"), (names[1], "#2e7d32"))):
        parts.append(f'<rect x="{left + j * 90}" y="4" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{left + j * 90 + 14}" y="13" font-size="11">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)
