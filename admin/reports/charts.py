"""Server-rendered SVG charts (matplotlib, Agg-free SVG backend) for the report page.

Imported by :class:`~admin.reports.chart_cache.ChartCache` on the first chart drawn, so a
service whose reports nobody opens does not hold matplotlib in memory.

Each chart comes with the same numbers as a table on the page, for screen readers. Bars and
points can carry links (``set_url``) so a click drills down to the cases behind them. Rendering
costs tens of milliseconds, so charts are cached by their data, and margins are set from
the labels' lengths rather than measured (``tight_layout`` would double the cost).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, cast
from xml.etree import ElementTree

import matplotlib
import matplotlib.ticker
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from admin.reports.chart_cache import Point

SVG_NS = "http://www.w3.org/2000/svg"
# Serialised without prefixes, as the browser expects inline SVG (ElementTree's registry is
# global; these are the standard prefixes, so registering them here changes nothing else).
ElementTree.register_namespace("", SVG_NS)
ElementTree.register_namespace("xlink", "http://www.w3.org/1999/xlink")

# One lock for all rendering: matplotlib's font and text caches are shared state.
_RENDER_LOCK = threading.Lock()
_STYLE: dict[str, Any] = {
    "svg.fonttype": "none",  # text stays text: selectable and smaller
    "svg.hashsalt": "pikir",  # stable ids, so the same data gives the same SVG
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _styled() -> AbstractContextManager[None]:
    return matplotlib.rc_context(cast(Any, _STYLE))


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    FigureCanvasSVG(figure).print_svg(buffer)
    return without_inline_styles(buffer.getvalue())


def without_inline_styles(svg: str) -> str:
    """matplotlib's SVG with its CSS turned into SVG presentation attributes.

    The panel's Content-Security-Policy refuses inline styles (``style`` attributes and
    ``<style>`` elements) in the page the SVG is embedded in, which would leave every chart
    black. Presentation attributes (``fill="#1f77b4"``) mean the same and are not styles.
    """
    root = ElementTree.fromstring(svg)  # noqa: S314 - matplotlib's own output, not input
    for parent in root.iter():
        for child in list(parent):
            if child.tag == f"{{{SVG_NS}}}metadata":  # who made it and when: not for the page
                parent.remove(child)
            elif child.tag == f"{{{SVG_NS}}}style":
                # matplotlib's sheet is one rule for every element: ``*{a: b; c: d}``.
                rules = (child.text or "").partition("{")[2].rstrip().rstrip("}")
                root.attrib.update(_declarations(rules))
                parent.remove(child)
    for element in root.iter():
        style = element.attrib.pop("style", None)
        if style:
            element.attrib.update(_declarations(style))
    return ElementTree.tostring(root, encoding="unicode")


def _declarations(css: str) -> dict[str, str]:
    pairs = (part.partition(":") for part in css.split(";"))
    return {name.strip(): value.strip() for name, _, value in pairs if name.strip()}


# Labels longer than this are cut with an ellipsis; the table beside the chart has them whole.
LABEL_CHARS = 36
# Average advance of a character at the charts' 9 pt, in inches (DejaVu Sans, Latin and
# Cyrillic alike), with a little room for the tick marks.
_CHAR_INCHES = 0.085


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _margins(figure: Figure, *, left: float = 0.55, bottom: float = 0.4, top: float = 0.3) -> None:
    """Fixed margins in inches instead of ``tight_layout``.

    ``tight_layout`` measures every label and then draws again, which cost more than drawing
    the chart once; the label widths are known well enough from their length.
    """
    width, height = figure.get_size_inches()
    # Never more than about half the figure, however long a label is.
    figure.subplots_adjust(
        left=min(left / width, 0.5),
        right=1 - 0.25 / width,
        bottom=min(bottom / height, 0.55),
        top=1 - top / height,
    )


def _row_labels(axes: Any, ys: Sequence[float], labels: Sequence[str]) -> None:
    """Each row's label as plain text left of the axes, instead of y ticks.

    Matplotlib builds a tick (two lines, two texts, copied from a template) per label; with
    fifty offices that was more than half the chart's drawing time.
    """
    axes.set_yticks([])
    beside = blended_transform_factory(axes.transAxes, axes.transData)
    for y, label in zip(ys, labels, strict=True):
        axes.text(-0.015, y, label, transform=beside, ha="right", va="center")


def _label_inches(labels: Sequence[str]) -> float:
    return 0.3 + _CHAR_INCHES * max((len(label) for label in labels), default=0)


def _links(axes: Any, spots: Sequence[tuple[float, float, str | None]]) -> None:
    """Invisible click targets over the points that link to their cases.

    One scatter with a link per point, rather than an artist per point: drawing cost grows
    with the number of artists.
    """
    linked = [(x, y, url) for x, y, url in spots if url]
    if linked:
        targets = axes.scatter(
            [x for x, _, _ in linked], [y for _, y, _ in linked], s=120, alpha=0, marker="s"
        )
        targets.set_urls([url for _, _, url in linked])


def _errors(points: Sequence[Point]) -> list[list[float]]:
    # Clamped at 0: a Wilson bound of a share of 0 or 1 can land a rounding error beyond it.
    below = [
        max(0.0, p.value - p.low) if p.value is not None and p.low is not None else 0
        for p in points
    ]
    above = [
        max(0.0, p.high - p.value) if p.value is not None and p.high is not None else 0
        for p in points
    ]
    return [below, above]


def trend_chart(
    title: str, points: Sequence[Point], target: float | None = None, target_label: str = ""
) -> str:
    """A line of monthly shares with the interval as a band and the target as a dashed line."""
    with _RENDER_LOCK, _styled():
        figure = Figure(figsize=(7.2, 2.8))
        axes = figure.add_subplot()
        xs = list(range(len(points)))
        shown = [(x, p) for x, p in zip(xs, points, strict=True) if p.value is not None]
        if shown:
            axes.fill_between(
                [x for x, _ in shown],
                [p.low or 0 for _, p in shown],
                [p.high or 0 for _, p in shown],
                color="#9ecae1",
                alpha=0.6,
                label="95% CI",
            )
            axes.plot(
                [x for x, _ in shown],
                [p.value or 0.0 for _, p in shown],
                marker="o",
                color="#08519c",
                label=title,
            )
            _links(axes, [(x, p.value or 0.0, p.url) for x, p in shown])
        if target is not None:
            axes.axhline(target, color="#e6550d", linestyle="--", linewidth=1, label=target_label)
        labels = [_short(p.label) for p in points]
        axes.set_xticks(xs, labels, rotation=45, ha="right")
        axes.set_ylim(0, 1)
        axes.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        axes.set_title(title)
        if shown or target is not None:
            axes.legend(loc="lower left", fontsize=8, frameon=False)
        _margins(figure, bottom=0.2 + 0.7 * _label_inches(labels))
        return _svg(figure)


def ranked_chart(title: str, points: Sequence[Point]) -> str:
    """Horizontal points with interval whiskers, best lower bound on top."""
    with _RENDER_LOCK, _styled():
        height = max(2.0, 0.22 * len(points) + 0.9)
        figure = Figure(figsize=(7.2, height))
        axes = figure.add_subplot()
        ys = list(range(len(points)))[::-1]
        values = [p.value or 0 for p in points]
        axes.errorbar(
            values, ys, xerr=_errors(points), fmt="o", color="#08519c", ecolor="#6baed6", capsize=2
        )
        _links(axes, [(p.value or 0, y, p.url) for y, p in zip(ys, points, strict=True)])
        labels = [_short(p.label) for p in points]
        _row_labels(axes, ys, labels)
        axes.set_ylim(-0.7, len(points) - 0.3)
        axes.set_xlim(0, 1)
        axes.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        axes.set_title(title)
        axes.grid(axis="x", alpha=0.3)
        _margins(figure, left=_label_inches(labels))
        return _svg(figure)


def bar_chart(title: str, points: Sequence[Point]) -> str:
    """Horizontal bars of shares with interval whiskers; each bar may link to its cases."""
    with _RENDER_LOCK, _styled():
        figure = Figure(figsize=(7.2, max(2.0, 0.35 * len(points) + 0.9)))
        axes = figure.add_subplot()
        ys = list(range(len(points)))[::-1]
        bars = axes.barh(
            ys,
            [p.value or 0 for p in points],
            xerr=_errors(points),
            color="#6baed6",
            ecolor="#08519c",
            capsize=2,
        )
        for bar, p in zip(bars, points, strict=True):
            if p.url:
                bar.set_url(p.url)
        labels = [_short(p.label) for p in points]
        _row_labels(axes, ys, labels)
        axes.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        axes.set_title(title)
        _margins(figure, left=_label_inches(labels))
        return _svg(figure)


RENDERERS = {"trend": trend_chart, "ranked": ranked_chart, "bars": bar_chart}
