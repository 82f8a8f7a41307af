"""Charts as inline SVG, drawn on the server (no chart library, nothing for the browser to fetch).

Each function takes plain numbers and labels and returns ``Markup`` for a template. Labels
are escaped; ``None`` values (no data that day) leave a gap. Sizes are in SVG units and the
SVG scales to its box (``viewBox``), so the charts follow the page's width on a tablet.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from markupsafe import Markup, escape

W, H = 640, 220
PAD_L, PAD_R, PAD_T, PAD_B = 56, 12, 14, 28
STATUS_COLOURS = {"online": "#1a7f37", "busy": "#1f6feb", "hardware_error": "#cf222e", "offline": "#6e7781",
                  "no_device": "#6e7781", "near_end": "#bf8700", "out": "#cf222e"}


def _number(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.2f}".rstrip("0").rstrip(".")


def _svg(width: int, height: int, body: list[str], title: str, stretch: bool = False) -> Markup:
    fit = ' preserveAspectRatio="none"' if stretch else ""
    return Markup(f'<svg class="chart" viewBox="0 0 {width} {height}"{fit} role="img" aria-label="{escape(title)}" '
                  f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{"".join(body)}</svg>')


def _nothing(y: float) -> str:
    """A dash where a chart has no data."""
    return f'<text class="empty" x="{W / 2}" y="{y}" text-anchor="middle">-</text>'


def series(labels: Sequence[str], values: Sequence[float | None], title: str, *, kind: str = "bar",
           target: float | None = None, target_label: str = "", fmt: Callable[[float], str] = _number) -> Markup:
    """A bar (``kind="bar"``) or line chart over ``labels``, with an optional target line."""
    known = [v for v in values if v is not None]
    top = max([*known, target or 0, 0]) or 1.0
    plot_w, plot_h = W - PAD_L - PAD_R, H - PAD_T - PAD_B
    step = plot_w / max(1, len(values))
    y = lambda v: PAD_T + plot_h * (1 - v / top)  # noqa: E731
    body = [f'<line class="axis" x1="{PAD_L}" y1="{PAD_T + plot_h}" x2="{W - PAD_R}" y2="{PAD_T + plot_h}"/>',
            f'<text class="tick" x="{PAD_L - 6}" y="{PAD_T + 10}" text-anchor="end">{escape(fmt(top))}</text>',
            f'<text class="tick" x="{PAD_L - 6}" y="{PAD_T + plot_h}" text-anchor="end">0</text>']
    points = []
    for i, value in enumerate(values):
        x = PAD_L + i * step
        if value is not None and kind == "bar":
            body.append(f'<rect class="bar" x="{x + step * 0.15:.1f}" y="{y(value):.1f}" width="{step * 0.7:.1f}" '
                        f'height="{PAD_T + plot_h - y(value):.1f}"><title>{escape(labels[i])}: '
                        f'{escape(fmt(value))}</title></rect>')
        elif value is not None:
            points.append(f"{x + step / 2:.1f},{y(value):.1f}")
            body.append(f'<circle class="dot" cx="{x + step / 2:.1f}" cy="{y(value):.1f}" r="3">'
                        f'<title>{escape(labels[i])}: {escape(fmt(value))}</title></circle>')
    if points:
        body.insert(0, f'<polyline class="line" points="{" ".join(points)}"/>')
    every = max(1, round(len(labels) / 6))
    for i in range(0, len(labels), every):
        body.append(f'<text class="tick" x="{PAD_L + (i + 0.5) * step:.1f}" y="{H - 8}" text-anchor="middle">'
                    f'{escape(labels[i])}</text>')
    if target is not None:
        body.append(f'<line class="target" x1="{PAD_L}" y1="{y(target):.1f}" x2="{W - PAD_R}" y2="{y(target):.1f}"/>'
                    f'<text class="target-label" x="{PAD_L + 4}" y="{y(target) + 16:.1f}">'
                    f'{escape(target_label)}</text>')
    return _svg(W, H, body if known else [*body, _nothing(H / 2)], title)


def ranking(rows: Sequence[tuple[str, float]], title: str, fmt: Callable[[float], str] = _number) -> Markup:
    """Horizontal bars, largest first as given: e.g. cases by service item."""
    row_h, label_w = 30, 300
    height = max(1, len(rows)) * row_h + 8
    top = max([v for _, v in rows] or [1]) or 1
    body = []
    for i, (label, value) in enumerate(rows):
        y = 4 + i * row_h
        width = (W - label_w - 60) * value / top
        body.append(f'<text class="label" x="{label_w - 8}" y="{y + 19}" text-anchor="end">{escape(label[:24])}</text>'
                    f'<rect class="bar" x="{label_w}" y="{y + 4}" width="{width:.1f}" height="{row_h - 10}"/>'
                    f'<text class="value" x="{label_w + width + 6:.1f}" y="{y + 19}">{escape(fmt(value))}</text>')
    return _svg(W, height, body if rows else [_nothing(24)], title)


def sparkline(values: Sequence[float], title: str, width: int = 160, height: int = 36) -> Markup:
    """A small line of recent values, for a table cell or a fact."""
    if not values:
        return Markup("-")
    top = max(values) or 1
    step = width / max(1, len(values) - 1)
    points = " ".join(f"{i * step:.1f},{height - 2 - (height - 4) * v / top:.1f}" for i, v in enumerate(values))
    return _svg(width, height, [f'<polyline class="spark" points="{points}"/>'], title)


def status_strip(changes: Sequence[tuple[datetime, str]], start: datetime, end: datetime, title: str) -> Markup:
    """One part's status over [start, end] as coloured segments: ``changes`` are (when, new status),
    oldest first; before the first of them the status is not known here (light grey)."""
    width, height = 480, 22
    span = (end - start).total_seconds() or 1.0
    x = lambda t: width * max(0.0, min(1.0, (t - start).total_seconds() / span))  # noqa: E731
    edges = [(start, ""), *changes, (end, "")]
    body = []
    for (since, status), (until, _) in zip(edges, edges[1:]):
        if x(until) > x(since):
            body.append(f'<rect x="{x(since):.1f}" y="0" width="{x(until) - x(since):.1f}" height="{height}" '
                        f'fill="{STATUS_COLOURS.get(status, "#d0d7de")}"><title>{escape(status or "?")}</title></rect>')
    return _svg(width, height, body, title, stretch=True)
