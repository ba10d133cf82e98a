"""A picture of a type's market history: the daily price band (lowest..highest), the average line, volume bars."""

from __future__ import annotations

from datetime import date
from xml.sax.saxutils import escape

from market.history_selectors import HistoryDay

WIDTH, HEIGHT = 1000.0, 600.0
LEFT, RIGHT, TOP = 90.0, 30.0, 60.0
PRICE_BOTTOM = 400.0  # the price panel spans TOP..PRICE_BOTTOM
VOLUME_TOP, VOLUME_BOTTOM = 430.0, 560.0
TICKS = 5


def _isk(value: float) -> str:
    """A compact ISK amount (1.23k, 4.5M, 6.78B)."""
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def _x(day: date, first: date, span_days: int) -> float:
    """The x of a day's centre."""
    step = (WIDTH - LEFT - RIGHT) / (span_days + 1)
    return LEFT + step * ((day - first).days + 0.5)


def history_svg_render(*, days: list[HistoryDay], title: str) -> str:
    """Draw a series: the price band of each day (lowest to highest), the average line, and volume bars.

    Days without trades (absent from ESI's series) are gaps: no bar, and the average line bridges them.

    Args:
        days: The series, oldest first.
        title: The caption (region and type).

    Returns:
        An SVG document (a caption only, saying so, when there are no days).
    """
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH:g}" height="{HEIGHT:g}" '
        f'viewBox="0 0 {WIDTH:g} {HEIGHT:g}" font-family="sans-serif">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH:g}" height="{HEIGHT:g}" fill="#0b0f14"/>',
        f'<text x="{LEFT:g}" y="30" fill="#e6e6e6" font-size="18">{escape(title)}</text>',
    ]
    if not days:
        out.append(f'<text x="{LEFT:g}" y="80" fill="#9aa4ae" font-size="14">No market history stored.</text>')
        out.append("</svg>")
        return "\n".join(out)
    first, last = days[0].date, days[-1].date
    span = (last - first).days
    low = min(d.lowest for d in days)
    high = max(d.highest for d in days)
    if high <= low:
        low, high = low * 0.95, high * 1.05 + (1.0 if high == 0 else 0.0)
    top_volume = max(d.volume for d in days) or 1
    step = (WIDTH - LEFT - RIGHT) / (span + 1)
    bar = max(1.0, step * 0.7)

    def price_y(price: float) -> float:
        """The y of a price."""
        return PRICE_BOTTOM - (price - low) / (high - low) * (PRICE_BOTTOM - TOP)

    def volume_y(volume: int) -> float:
        """The y of a volume."""
        return VOLUME_BOTTOM - volume / top_volume * (VOLUME_BOTTOM - VOLUME_TOP)

    out.append('<g class="grid" stroke="#2a3440" stroke-width="1" fill="#9aa4ae" font-size="11">')
    for i in range(TICKS + 1):
        price = low + (high - low) * i / TICKS
        y = price_y(price)
        out.append(f'<line x1="{LEFT:g}" y1="{y:.1f}" x2="{WIDTH - RIGHT:g}" y2="{y:.1f}"/>')
        out.append(f'<text x="{LEFT - 8:g}" y="{y + 4:.1f}" text-anchor="end" stroke="none">{_isk(price)}</text>')
    out.append(
        f'<text x="{LEFT - 8:g}" y="{VOLUME_TOP + 4:g}" text-anchor="end" stroke="none">{_isk(top_volume)} u</text>'
    )
    out.append(f'<line x1="{LEFT:g}" y1="{VOLUME_BOTTOM:g}" x2="{WIDTH - RIGHT:g}" y2="{VOLUME_BOTTOM:g}"/>')
    for label_day in dict.fromkeys((first, days[len(days) // 2].date, last)):
        x = _x(label_day, first, span)
        out.append(
            f'<text x="{x:.1f}" y="{VOLUME_BOTTOM + 18:g}" text-anchor="middle" stroke="none">{label_day}</text>'
        )
    out.append("</g>")
    out.append('<g class="band" fill="#2f6f9f" fill-opacity="0.55">')
    for d in days:
        x, y_high, y_low = _x(d.date, first, span), price_y(d.highest), price_y(d.lowest)
        out.append(
            f'<rect x="{x - bar / 2:.1f}" y="{y_high:.1f}" width="{bar:.1f}" height="{max(1.0, y_low - y_high):.1f}">'
            f"<title>{d.date}: lowest {_isk(d.lowest)}, highest {_isk(d.highest)}</title></rect>"
        )
    out.append("</g>")
    line = " ".join(f"{_x(d.date, first, span):.1f},{price_y(d.average):.1f}" for d in days)
    out.append(f'<polyline class="average" points="{line}" fill="none" stroke="#ffcc55" stroke-width="2"/>')
    out.append('<g class="volume" fill="#48f0c0" fill-opacity="0.8">')
    for d in days:
        x, y = _x(d.date, first, span), volume_y(d.volume)
        out.append(
            f'<rect x="{x - bar / 2:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{VOLUME_BOTTOM - y:.1f}">'
            f"<title>{d.date}: {d.volume} units, {d.order_count} orders, average {_isk(d.average)}</title></rect>"
        )
    out.append("</g>")
    legend = [("#2f6f9f", "lowest..highest"), ("#ffcc55", "average"), ("#48f0c0", "volume")]
    for i, (colour, label) in enumerate(legend):
        x = WIDTH - RIGHT - 360 + i * 125
        out.append(f'<rect x="{x:g}" y="40" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{x + 18:g}" y="51" fill="#e6e6e6" font-size="12">{label}</text>')
    out.append("</svg>")
    return "\n".join(out)
